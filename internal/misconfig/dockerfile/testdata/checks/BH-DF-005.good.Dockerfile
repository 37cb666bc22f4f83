FROM node:20.18.1-bookworm-slim@sha256:545ea538461003efdc8c81c244531b003f6f26cfccf6c0073b3239fdedf49446
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY src/ ./src/
# Extracting a release archive is what ADD is for.
ADD vendor/assets-2.4.1.tar.gz /opt/assets/
USER node
HEALTHCHECK CMD ["node", "src/healthcheck.js"]
CMD ["node", "src/index.js"]
