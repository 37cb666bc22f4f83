FROM node:20.18.1-bookworm-slim@sha256:545ea538461003efdc8c81c244531b003f6f26cfccf6c0073b3239fdedf49446
WORKDIR /app
COPY --chown=node:node . .
RUN npm ci --omit=dev && npm cache clean --force \
 && cd /tmp && echo "cd inside a RUN is fine when it is not the first step"
USER node
HEALTHCHECK CMD ["node", "healthcheck.js"]
CMD ["node", "server.js"]
