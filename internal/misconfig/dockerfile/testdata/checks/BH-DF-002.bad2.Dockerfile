FROM golang:1.23.4-bookworm@sha256:d754ed9f64ac293b10268157f283ee23256fb32a4f8dedb25c8446ca5bcb0bb3 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app .

FROM busybox
COPY --from=build /out/app /app
USER 65534
HEALTHCHECK CMD ["/app", "-health"]
ENTRYPOINT ["/app"]
