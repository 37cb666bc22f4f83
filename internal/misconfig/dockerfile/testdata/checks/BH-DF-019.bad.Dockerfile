FROM node:20.18.1-bookworm-slim@sha256:545ea538461003efdc8c81c244531b003f6f26cfccf6c0073b3239fdedf49446
COPY --chown=node:node . /app
RUN cd /app && npm ci --omit=dev && npm cache clean --force
USER node
HEALTHCHECK CMD ["node", "/app/healthcheck.js"]
CMD ["node", "/app/server.js"]
