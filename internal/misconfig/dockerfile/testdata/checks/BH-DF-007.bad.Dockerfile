FROM debian:12.8-slim@sha256:81d93757457f988523814ae0009837ae893f38d3fe123f2c37896f118b4c7804
RUN apt-get update \
 && apt-get install -y ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 app
USER 10001
HEALTHCHECK CMD ["curl", "-fsS", "http://127.0.0.1:8080/healthz"]
CMD ["/usr/local/bin/app"]
