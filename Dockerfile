# Shipbot's image: built with the dev dependencies, run with the production ones only (no tsx,
# no typescript), as a non-root user, on a read-only root filesystem with /tmp and the data dir
# as volumes. The build steps are the commands .ci/run proves on every submission:
#   npm ci && npm run build && npm prune --omit=dev
FROM node:20-slim AS build
WORKDIR /app
# better-sqlite3 builds from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production SHIPBOT_DATA_DIR=/var/lib/shipbot SHIPBOT_CONFIG=/etc/shipbot/shipbot.yml PORT=3000
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY prompts ./prompts
COPY data/shipbot.yml ./data/shipbot.yml
# The `node` user of the official image (uid 1000); nothing in /app is writable by it.
RUN mkdir -p /var/lib/shipbot && chown node:node /var/lib/shipbot
USER node
VOLUME ["/var/lib/shipbot", "/tmp"]
EXPOSE 3000
CMD ["node", "dist/cli.js", "start"]
