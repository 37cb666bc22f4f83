FROM ubuntu:24.04@sha256:7804a56a5c7636cc05814736f44139e32920810d3bd51aa099a5df932e754ce9
RUN useradd --uid 10001 --create-home ops
USER 10001
EXPOSE 8080
HEALTHCHECK CMD ["/usr/local/bin/app", "health"]
CMD ["/usr/local/bin/app"]
