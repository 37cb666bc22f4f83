# Inline suppressions: each comment covers the instruction right below it.
# bulkhead:ignore BH-DF-003 digest pinned by the release pipeline (renovate)
FROM node:20.18.1-bookworm-slim AS build
WORKDIR /app
COPY . .
# bulkhead:ignore BH-DF-019,BH-DF-006 vendor installer, reviewed 2024-05
RUN cd /app && curl -fsSL https://example.com/install.sh | bash

# bulkhead:ignore BH-DF-003 BH-DF-016 k8s probes replace HEALTHCHECK
FROM node:20.18.1-bookworm-slim
COPY --from=build --chown=node:node /app /app
RUN apt-get update && apt-get install -y --no-install-recommends tini \
 # bulkhead:ignore BH-DF-008 lists are removed by the squash step in CI
 && echo done
USER node
# bulkhead:ignore BH-DF-015
EXPOSE 22
# not a suppression: bulkhead:ignore-me BH-DF-021
CMD node /app/server.js
