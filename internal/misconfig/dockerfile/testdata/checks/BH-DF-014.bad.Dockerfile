FROM node:20.18.1-bookworm-slim@sha256:545ea538461003efdc8c81c244531b003f6f26cfccf6c0073b3239fdedf49446
ENV NODE_ENV=production \
    DATABASE_URL=postgres://db:5432/shop \
    DATABASE_PASSWORD=s3cr3t-Pa55
WORKDIR /app
COPY --chown=node:node . .
USER node
HEALTHCHECK CMD ["node", "healthcheck.js"]
CMD ["node", "server.js"]
