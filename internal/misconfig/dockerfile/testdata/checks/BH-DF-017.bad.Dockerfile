# syntax=docker/dockerfile:1.7-labs
FROM debian:12.8-slim@sha256:81d93757457f988523814ae0009837ae893f38d3fe123f2c37896f118b4c7804 AS rootfs
RUN --security=insecure mount -t tmpfs tmpfs /mnt && debootstrap bookworm /mnt/rootfs

FROM gcr.io/distroless/static-debian12:nonroot@sha256:ea3e6869841f102bdb95fc7358ad94097770136193d88ac06a56a1c5a318d613
COPY --from=rootfs /mnt/rootfs/etc/os-release /etc/os-release
USER 65532
HEALTHCHECK NONE
ENTRYPOINT ["/app"]
