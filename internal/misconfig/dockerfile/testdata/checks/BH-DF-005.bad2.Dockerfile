FROM debian:12.8-slim@sha256:81d93757457f988523814ae0009837ae893f38d3fe123f2c37896f118b4c7804
ADD vendor/assets-2.4.1.tar.gz /opt/assets-2.4.1.tar.gz
RUN useradd --system --uid 10001 app
USER 10001
HEALTHCHECK CMD ["/opt/app/bin/check"]
CMD ["/opt/app/bin/run"]
