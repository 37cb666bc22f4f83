FROM debian:12.8-slim@sha256:81d93757457f988523814ae0009837ae893f38d3fe123f2c37896f118b4c7804 AS build
RUN apt-get update
RUN apt-get install -y --no-install-recommends build-essential
COPY . /src
RUN make -C /src

FROM gcr.io/distroless/static-debian12:nonroot@sha256:ea3e6869841f102bdb95fc7358ad94097770136193d88ac06a56a1c5a318d613
COPY --from=build /src/out/app /app
USER 65532
HEALTHCHECK CMD ["/app", "--health"]
ENTRYPOINT ["/app"]
