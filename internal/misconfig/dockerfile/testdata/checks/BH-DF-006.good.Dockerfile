FROM debian:12.8-slim@sha256:81d93757457f988523814ae0009837ae893f38d3fe123f2c37896f118b4c7804 AS tools
ARG RUSTUP_SHA256=6aeece6993e902708983b209d04c0d1dbb14ebb405ddb87def578d41f920f56d
RUN curl -fsSLo /tmp/rustup-init https://static.rust-lang.org/rustup/archive/1.27.1/x86_64-unknown-linux-gnu/rustup-init \
 && echo "${RUSTUP_SHA256}  /tmp/rustup-init" | sha256sum -c - \
 && chmod +x /tmp/rustup-init && /tmp/rustup-init -y --profile minimal

FROM gcr.io/distroless/static-debian12:nonroot@sha256:ea3e6869841f102bdb95fc7358ad94097770136193d88ac06a56a1c5a318d613
COPY --from=tools /root/.cargo/bin/cargo /usr/local/bin/cargo
USER 65532
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/cargo"]
