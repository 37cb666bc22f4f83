FROM debian:12.8-slim@sha256:81d93757457f988523814ae0009837ae893f38d3fe123f2c37896f118b4c7804
ADD https://github.com/krallin/tini/releases/download/v0.19.0/tini-static /usr/local/bin/tini
RUN chmod 0755 /usr/local/bin/tini && useradd --system --uid 10001 app
USER 10001
HEALTHCHECK CMD ["/usr/local/bin/app", "--health"]
ENTRYPOINT ["/usr/local/bin/tini", "--"]
CMD ["/usr/local/bin/app"]
