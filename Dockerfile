# syntax=docker/dockerfile:1
#
# One Dockerfile for every Nexus service:
#   docker build --build-arg SERVICE=users -t nexus-users .
# SERVICE is one of users, catalog, orders, inventory, insights, notifications, gateway. Node runs the
# TypeScript sources directly (type stripping), so there is no build step: the image holds the
# workspace manifests, the installed dependencies, schema/, packages/ and the service's folder.
# The same image migrates its service's database and exits (every subgraph; the Kubernetes
# migrate Jobs run it): docker run --rm -e DATABASE_URL=... nexus-users node service/src/bin/migrate.ts

# Sorts the build context into what the install needs (manifests only, so that layer stays
# cached until a dependency changes) and what the service runs (its sources). `service` links
# to the service's folder, so CMD needs no build argument. tools/ and e2e/ (local stack, benches,
# end-to-end tests) are not part of any service and are never copied.
FROM node:24-slim AS source
ARG SERVICE
WORKDIR /context
COPY . .
RUN set -eu; \
    case "${SERVICE:-}" in \
      gateway) dir=gateway ;; \
      users|catalog|orders|inventory|insights|notifications) dir="subgraphs/${SERVICE}" ;; \
      *) echo "Build with --build-arg SERVICE=<users|catalog|orders|inventory|insights|notifications|gateway>, got '${SERVICE:-}'." >&2; exit 1 ;; \
    esac; \
    for file in package.json pnpm-lock.yaml pnpm-workspace.yaml packages/*/package.json "${dir}/package.json"; do \
      mkdir -p "/manifests/$(dirname "${file}")"; \
      cp "${file}" "/manifests/${file}"; \
    done; \
    mkdir -p "/app/$(dirname "${dir}")"; \
    cp -R package.json pnpm-lock.yaml pnpm-workspace.yaml schema packages /app/; \
    cp -R "${dir}" "/app/${dir}"; \
    ln -s "${dir}" /app/service

FROM node:24-slim
ENV NODE_ENV=production \
    COREPACK_ENABLE_DOWNLOAD_PROMPT=0
WORKDIR /app

COPY --from=source /manifests/ ./
# pnpm in the exact version package.json's packageManager names, fetched by corepack. Only the
# service's workspace folder is present, so only its dependencies (and the shared packages')
# are installed; --prod=false because NODE_ENV=production would otherwise skip devDependencies.
RUN --mount=type=cache,id=nexus-pnpm-store,target=/root/.local/share/pnpm/store \
    corepack enable pnpm \
    && pnpm install --frozen-lockfile --prod=false

COPY --from=source /app/ ./
# The code stays root-owned and read-only for the service; `.nexus/` is the one place a
# service writes (the users subgraph keeps a development signing key there).
RUN mkdir .nexus && chown node:node .nexus

USER node
CMD ["node", "service/src/index.ts"]
