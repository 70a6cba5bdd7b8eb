# syntax=docker/dockerfile:1
# The one image the controller, ztunnel and waypoints run from; the first argument picks the component
# (bin/ambient-mesh.ts): `args: ["controller"]`, `["ztunnel"]`, `["waypoint"]` in deploy/.
#   docker build -t ghcr.io/ambient-mesh/ambient-mesh:0.1.0 .
# Stage 1 builds the native addon (socket options Node lacks: SO_ORIGINAL_DST, IP_TRANSPARENT, SO_MARK, setns)
# against the base image's Node 24 headers and installs the production packages. Stage 2 is a slim Node 24 with
# the tools ztunnel runs inside pod namespaces (nft, ip, nsenter) and the TypeScript sources, which Node 24 runs
# directly (type stripping, cached at build time): there is no compile step.
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/build-native.js scripts/
COPY native/ native/
# All packages first (node-gyp is a dev dependency), then only what runs.
RUN npm ci --no-audit --no-fund \
 && test -f native/build/Release/netsock.node \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nftables iproute2 util-linux \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules node_modules/
COPY --from=build /app/native/build/Release/netsock.node native/build/Release/netsock.node
COPY package.json ./
COPY bin/ambient-mesh.ts bin/
COPY shared/ shared/
COPY controller/ controller/
COPY ztunnel/ ztunnel/
COPY waypoint/ waypoint/
# A compile cache warmed now, so no pod ever strips TypeScript: Node's stripper, once loaded, stays in the process
# (~17 MB RSS each; shared/runtime.ts). Read-only at run time is fine: a process that cannot write it still reads it.
ENV NODE_COMPILE_CACHE=/app/.compile-cache
# shared/runtime.ts RUNTIME_ENV, set here so the binaries need not re-exec themselves to get it.
ENV MALLOC_ARENA_MAX=2
RUN for c in controller ztunnel waypoint; do MESH_WARM_COMPILE_CACHE=1 node /app/bin/ambient-mesh.ts "$c" || exit 1; done \
 && chmod -R a+rX /app/.compile-cache
# Root in the image: ztunnel needs it for its three capabilities (deploy/ drops all others); the controller and
# waypoints run as 1337 through their pods' securityContext.
ENTRYPOINT ["node", "/app/bin/ambient-mesh.ts"]
