FROM golang:1.23.4-bookworm@sha256:d754ed9f64ac293b10268157f283ee23256fb32a4f8dedb25c8446ca5bcb0bb3 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/app ./cmd/app

FROM gcr.io/distroless/static-debian12:nonroot@sha256:ea3e6869841f102bdb95fc7358ad94097770136193d88ac06a56a1c5a318d613
COPY --from=build /out/app /app
USER 65532:65532
HEALTHCHECK CMD ["/app", "healthcheck"]
ENTRYPOINT ["/app"]
