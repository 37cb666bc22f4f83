FROM ubuntu:24.04@sha256:7804a56a5c7636cc05814736f44139e32920810d3bd51aa099a5df932e754ce9
RUN useradd --create-home --uid 10001 dev \
 && mkdir -p /opt/tools && chown dev:dev /opt/tools
USER dev
WORKDIR /home/dev
HEALTHCHECK NONE
CMD ["bash"]
