FROM ubuntu:24.04@sha256:7804a56a5c7636cc05814736f44139e32920810d3bd51aa099a5df932e754ce9
RUN useradd --create-home --uid 10001 dev
USER dev
WORKDIR /home/dev
RUN sudo mkdir -p /opt/tools && sudo chown dev:dev /opt/tools
HEALTHCHECK NONE
CMD ["bash"]
