# syntax=docker/dockerfile:1

# One tag for both stages, matching the `node` devDependency in package.json, so
# the image runs the Node.js that development and CI run. Pin a digest as well
# (node:24.21.0-bookworm-slim@sha256:…) to make rebuilds reproducible.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=dev drops the `node` devDependency: the base image already is Node 24.
# --ignore-scripts: no dependency needs its install script here; msgpackr-extract's
# prebuilt binary arrives as an optional package, and msgpackr falls back to
# plain JavaScript where there is none.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production \
    MXPOST_SMTP_PORT=2525 \
    MXPOST_HTTP_PORT=8080
# Copied as root and run as another user: the process cannot rewrite its own code.
COPY --from=deps /app/node_modules ./node_modules
# package.json carries "type": "module" and the version the code reports.
COPY package.json ./
COPY src ./src
# The guides (and the payload's JSON Schema) travel with the version they describe.
COPY docs ./docs
# The image's `node` user, by number: Kubernetes can verify runAsNonRoot only
# for a numeric user.
USER 1000:1000
# 2525, not 25: an unprivileged user cannot bind below 1024; the load balancer
# maps 25 to it. MXPOST_ROUTES defaults to routes.yaml in /app: mount the file
# there or point MXPOST_ROUTES at it.
EXPOSE 2525 8080
# Slim images have no curl; Node's own fetch does the probe. It reads the port
# the process reads, so an overridden MXPOST_HTTP_PORT is still probed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.MXPOST_HTTP_PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# mxpost drains on SIGTERM within MXPOST_SHUTDOWN_TIMEOUT_MS. Node runs as PID 1
# without an init: it installs its own SIGTERM handler and starts no children.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "src/cli/main.ts"]
CMD ["serve"]
