# syntax=docker/dockerfile:1
# Herald image: one image for the API (default command), the worker and migrations.
#   docker build -t herald .
#   docker run herald node dist/src/cli/worker.js

# --- build: compile TypeScript and pre-bundle the workflow code ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
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
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/ui/dist ./ui/dist
# HERALD_DATA_DIR (.data) must be writable for the generated admin token when HERALD_ADMIN_TOKEN is unset.
RUN mkdir -p .data && chown node:node .data
USER node
EXPOSE 3000
CMD ["node", "dist/src/cli/api.js"]
