FROM debian:12.8-slim@sha256:81d93757457f988523814ae0009837ae893f38d3fe123f2c37896f118b4c7804 AS rootfs
RUN mkdir -p /rootfs && debootstrap --variant=minbase bookworm /rootfs

FROM gcr.io/distroless/static-debian12:nonroot@sha256:ea3e6869841f102bdb95fc7358ad94097770136193d88ac06a56a1c5a318d613
COPY --from=rootfs /rootfs/etc/os-release /etc/os-release
USER 65532
HEALTHCHECK NONE
ENTRYPOINT ["/app"]
