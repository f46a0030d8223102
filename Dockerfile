# syntax=docker/dockerfile:1
# zookeeper-ts server image. Configured like the official `zookeeper` image: ZOO_MY_ID, ZOO_SERVERS,
# ZOO_TICK_TIME, ZOO_CFG_EXTRA, ZOO_4LW_COMMANDS_WHITELIST, ... (see docs/deployment.md), written
# to /conf/zoo.cfg and /data/myid on first start unless those files exist (e.g. mounted).
#   docker build -t zookeeper-ts .
#   docker run -d -p 2181:2181 -p 8080:8080 zookeeper-ts
# NODE_IMAGE: any Node 20 image with a `node` user (uid 1000). Both stages use only commands that
# Alpine's busybox and Debian share, so a Debian-based stand-in (scripts/docker-local-base.sh, for
# hosts without Docker Hub) builds the same image.
ARG NODE_IMAGE=node:20-alpine

FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are copied.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-package.mjs scripts/copy-console-assets.mjs scripts/
COPY src src
RUN npx tsc -p tsconfig.build.json \
 && node scripts/copy-console-assets.mjs \
 && node scripts/build-package.mjs \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && find dist/src -name '*.d.ts' -delete

FROM ${NODE_IMAGE}
# The official image's defaults, declared here so `docker inspect` shows what the entrypoint uses.
ENV ZOO_CONF_DIR=/conf \
    ZOO_DATA_DIR=/data \
    ZOO_DATA_LOG_DIR=/datalog \
    ZOO_LOG_DIR=/logs \
    ZOO_TICK_TIME=2000 \
    ZOO_INIT_LIMIT=5 \
    ZOO_SYNC_LIMIT=2 \
    ZOO_AUTOPURGE_PURGEINTERVAL=0 \
    ZOO_AUTOPURGE_SNAPRETAINCOUNT=3 \
    ZOO_MAX_CLIENT_CNXNS=60 \
    ZOO_STANDALONE_ENABLED=true \
    ZOO_ADMINSERVER_ENABLED=true \
    ZOOCFGDIR=/conf \
    NODE_ENV=production
WORKDIR /app
COPY --from=build /build/package.json ./
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist/src ./dist/src
COPY deploy/docker/docker-entrypoint.sh /usr/local/bin/zk-entrypoint.sh
# The node image's own user (uid 1000, as the official ZooKeeper image's zookeeper user) owns the
# directories the server writes; nothing runs as root.
RUN set -eux; \
    mkdir -p /conf /data /datalog /logs; \
    chown node:node /conf /data /datalog /logs; \
    chmod 0755 /usr/local/bin/zk-entrypoint.sh; \
    ln -s /app/dist/src/cli/zk-server.js /usr/local/bin/zk-server; \
    ln -s /app/dist/src/cli/zk-cli.js /usr/local/bin/zk-cli; \
    ln -s /app/dist/src/cli/dockerEntryCli.js /usr/local/bin/zk-docker-entry; \
    zk-server version
USER node
VOLUME ["/data", "/datalog", "/logs"]
# client, quorum, election, AdminServer (/commands, /ready, console), Prometheus (metricsProvider.httpPort)
EXPOSE 2181 2888 3888 8080 7000
ENTRYPOINT ["zk-entrypoint.sh"]
CMD ["zk-server", "start-foreground"]
