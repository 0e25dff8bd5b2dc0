# syntax=docker/dockerfile:1
# Herald image: one image for the API (default command), the worker and migrations.
#   docker build -t herald .
#   docker run herald node dist/src/cli/worker.js
# CI runs these same steps without a Docker engine: scripts/check-dockerfile.mjs.

# --- build: compile TypeScript and pre-bundle the workflow code ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm install, not npm ci: the lockfile holds only the platform builds (biome, swc) the registry
# served when it was written, which npm ci rejects as out of sync (see scripts/bootstrap.mjs).
RUN --mount=type=cache,target=/root/.npm npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY ui ./ui
# The build compiles, copies the SQL migrations beside the compiled code, pre-bundles the workflows
# and builds the admin panel into ui/dist.
RUN npm run build && test -f dist/workflow-bundle.js && ls dist/src/db/migrations/*.sql && test -f ui/dist/index.html

# --- runtime: production dependencies and the compiled output only ---
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
# Where a generated admin token is kept when HERALD_ADMIN_TOKEN is unset: writable by the node user.
# Deployments set HERALD_ADMIN_TOKEN (compose, the Helm chart), so nothing needs to persist there.
ENV HERALD_DATA_DIR=/tmp/herald
WORKDIR /app
COPY package.json package-lock.json ./
# npm's cache lives in a BuildKit cache mount, outside the image: nothing to clean afterwards.
RUN --mount=type=cache,target=/root/.npm npm install --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY --from=build /app/ui/dist ./ui/dist
USER node
EXPOSE 3000
CMD ["node", "dist/src/cli/api.js"]
