FROM docker:27.4.1-dind@sha256:7d7fc0fe0bd3f4c0fc1fd6dc0ad4df0b0a2c7a1b1d6b4ad3a8f5b6c4a3e2d1f0
RUN apk add --no-cache bash git make
VOLUME /var/lib/docker
EXPOSE 2376
HEALTHCHECK CMD ["docker", "info"]
ENTRYPOINT ["dockerd-entrypoint.sh"]
CMD ["dockerd", "--host=tcp://0.0.0.0:2376", "--tlsverify"]
