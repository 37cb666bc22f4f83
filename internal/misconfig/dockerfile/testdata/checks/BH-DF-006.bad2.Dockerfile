FROM alpine:3.20.3@sha256:54c5b3dd459d5ef778bb2fa1e23a5fb0e1b62ae66970bcb436e8f81a1a1a8e41
RUN sh -c "$(wget -qO- https://raw.githubusercontent.com/ohmyzsh/ohmyzsh/master/tools/install.sh)" \
 && adduser -D -u 10001 app
USER 10001
HEALTHCHECK NONE
CMD ["/bin/zsh"]
