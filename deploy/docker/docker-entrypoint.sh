#!/bin/sh
# Entrypoint of the zookeeper-ts image. Same contract as the official ZooKeeper image's
# docker-entrypoint.sh: before starting the server, write $ZOO_CONF_DIR/zoo.cfg and
# $ZOO_DATA_DIR/myid from the ZOO_* variables when they do not exist yet (zk-docker-entry, which
# checks every value and exits with a message naming a bad one), then exec the command so the
# server is PID 1 and receives `docker stop`'s SIGTERM itself.
set -e

# The 3.8 image's log variables; ZOO_LOG4J_PROP (level,appender) wins when both are set.
if [ -z "${ZOO_LOG4J_PROP:-}" ] && { [ -n "${ZOO_LOG_LEVEL:-}" ] || [ -n "${ZOO_LOG_APPENDER:-}" ]; }; then
  ZOO_LOG4J_PROP="${ZOO_LOG_LEVEL:-INFO},${ZOO_LOG_APPENDER:-CONSOLE}"
  export ZOO_LOG4J_PROP
fi

# zk-server reads $ZOOCFGDIR/zoo.cfg: the file zk-docker-entry writes (or the operator mounted).
ZOOCFGDIR="${ZOO_CONF_DIR:-/conf}"
export ZOOCFGDIR

# Only the server needs a configuration; `docker run <image> zk-cli ...` must work without one.
if [ "$1" = "zk-server" ]; then
  zk-docker-entry
fi

exec "$@"
