#!/bin/sh
# Builds a local stand-in for the official `node:20` image when Docker Hub cannot be reached:
# a minimal Debian root file system (debootstrap) with this host's Node.js and npm copied in and
# a `node` user (uid/gid 1000, home /home/node) as the official node images have, imported as
# $IMAGE (default local/node:20). Then:
#   docker build --network host --build-arg NODE_IMAGE=local/node:20 -t zookeeper-ts .
#   ZK_DOCKER_BASE_IMAGE=local/node:20 node --test dist/test/packaging/dockerImage.test.js
# Needs root, debootstrap, docker, and a Node.js 20 on the host (glibc-linked, e.g. Debian's or
# NodeSource's). Environment: IMAGE, SUITE (bookworm), MIRROR (the host's Debian mirror),
# CA_BUNDLE (default: the host's /etc/ssl/certs/ca-certificates.crt; empty to skip).
# The host's CA bundle goes in, with NODE_EXTRA_CA_CERTS pointing at it, so `npm ci` inside a build
# trusts what the host trusts (e.g. an egress proxy that re-signs TLS); the official images
# would not, which is why this lives in the stand-in base and not in the Dockerfile.
set -eu

IMAGE="${IMAGE:-local/node:20}"
SUITE="${SUITE:-bookworm}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
CA_BUNDLE="${CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}"

[ "$(id -u)" = 0 ] || { echo "docker-local-base.sh: run as root (debootstrap and chroot need it)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "docker-local-base.sh: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
NODE_BIN="$(command -v node)" || { echo "docker-local-base.sh: no node on PATH" >&2; exit 1; }
NODE_MAJOR="$("$NODE_BIN" -p 'process.versions.node.split(".")[0]')"
[ "$NODE_MAJOR" = 20 ] || echo "docker-local-base.sh: warning: host node is v$NODE_MAJOR, not 20" >&2
NPM_ROOT="$(npm root -g)"
[ -f "$NPM_ROOT/npm/bin/npm-cli.js" ] || { echo "docker-local-base.sh: npm not found under $NPM_ROOT" >&2; exit 1; }

ROOT="$(mktemp -d /tmp/docker-local-base.XXXXXX)"
trap 'rm -rf "$ROOT"' EXIT

debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR"

# Node links only glibc, libstdc++ and libgcc, all in minbase (apt needs them too).
install -m 0755 "$NODE_BIN" "$ROOT/usr/local/bin/node"
mkdir -p "$ROOT/usr/local/lib/node_modules"
cp -a "$NPM_ROOT/npm" "$ROOT/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOT/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOT/usr/local/bin/npx"
chroot "$ROOT" /usr/local/bin/node --version >/dev/null

CA_ENV=""
if [ -n "$CA_BUNDLE" ] && [ -f "$CA_BUNDLE" ]; then
  mkdir -p "$ROOT/etc/ssl/certs"
  install -m 0644 "$CA_BUNDLE" "$ROOT/etc/ssl/certs/host-ca-bundle.crt"
  CA_ENV="NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-ca-bundle.crt"
fi

# The official images' user: uid/gid 1000, named node.
chroot "$ROOT" groupadd --gid 1000 node
chroot "$ROOT" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

# Package caches and lists are dead weight in an image.
chroot "$ROOT" apt-get clean
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/tmp/* "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/*

tar -C "$ROOT" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$("$NODE_BIN" -p 'process.versions.node')" \
  ${CA_ENV:+--change "ENV $CA_ENV"} \
  --change 'CMD ["node"]' \
  - "$IMAGE"
docker run --rm "$IMAGE" node -e 'console.log("node " + process.version + " as uid " + process.getuid())'
echo "docker-local-base.sh: built $IMAGE"
