FROM node:20.18.1-bookworm-slim@sha256:545ea538461003efdc8c81c244531b003f6f26cfccf6c0073b3239fdedf49446
WORKDIR /app
ADD package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
ADD src/ ./src/
USER node
HEALTHCHECK CMD ["node", "src/healthcheck.js"]
CMD ["node", "src/index.js"]
