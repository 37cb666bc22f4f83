FROM alpine:3.20.3@sha256:54c5b3dd459d5ef778bb2fa1e23a5fb0e1b62ae66970bcb436e8f81a1a1a8e41
RUN apk add --no-cache docker-cli && adduser -D -u 10001 ci
VOLUME /var/run/docker.sock
USER 10001
HEALTHCHECK CMD ["docker", "info"]
ENTRYPOINT ["docker"]
