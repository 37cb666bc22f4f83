# syntax=docker/dockerfile:1.7
# A clean multi-stage build: cache mounts, pinned images, non-root, healthcheck.
ARG GO_IMAGE=golang:1.23.4-bookworm@sha256:5e0d4ab7a5ba4dd51d6cf6bb4e3a8d8ef1c2d7a76d6e9f4a8b8e2c1d0f9a8b7c6
FROM ${GO_IMAGE} AS build
WORKDIR /src
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,source=go.sum,target=go.sum \
    --mount=type=bind,source=go.mod,target=go.mod \
    go mod download -x
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,target=. \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/server ./cmd/server

RUN <<EOF
set -eu
mkdir -p /out/etc
printf 'app:x:65532:65532::/nonexistent:/sbin/nologin\n' > /out/etc/passwd
EOF

FROM gcr.io/distroless/static-debian12:nonroot@sha256:6ec5aa99dc335666e79dc64e4a6c8b89c33a543a1967f20d360922a80dd21f02
COPY --from=build /out/server /server
USER nonroot:nonroot
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["/server", "-healthcheck"]
ENTRYPOINT ["/server"]
