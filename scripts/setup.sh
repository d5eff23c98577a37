#!/usr/bin/env bash
# Installs everything berth needs on Debian 12 (run as root): Debian packages
# for containers and test images, then npm dependencies, then the build.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v runc >/dev/null || need_pkgs+=(runc)
# The per-container monitor (Podman's and CRI-O's).
command -v conmon >/dev/null || need_pkgs+=(conmon)
[ -x /bin/busybox ] || need_pkgs+=(busybox-static)
command -v setfattr >/dev/null || need_pkgs+=(attr)
# Volume archive tests: ACL and capability fixtures, compressed archives, bsdtar as a second reader.
command -v setfacl >/dev/null || need_pkgs+=(acl)
command -v setcap >/dev/null || need_pkgs+=(libcap2-bin)
command -v bsdtar >/dev/null || need_pkgs+=(libarchive-tools)
command -v xz >/dev/null || need_pkgs+=(xz-utils)
command -v bzip2 >/dev/null || need_pkgs+=(bzip2)
command -v zstd >/dev/null || need_pkgs+=(zstd)
command -v mkfs.xfs >/dev/null || need_pkgs+=(xfsprogs)
# podman reads berth's volume exports and writes archives berth imports (interoperability tests).
command -v podman >/dev/null || need_pkgs+=(podman)
command -v mount >/dev/null || need_pkgs+=(mount)
command -v make >/dev/null || need_pkgs+=(make)
command -v g++ >/dev/null || need_pkgs+=(g++)
command -v python3 >/dev/null || need_pkgs+=(python3)
command -v openssl >/dev/null || need_pkgs+=(openssl)
# Registry tests: Debian's docker-registry (distribution 2.8) on loopback, skopeo to put images into it.
command -v docker-registry >/dev/null || need_pkgs+=(docker-registry)
command -v skopeo >/dev/null || need_pkgs+=(skopeo)
# Networks: nft for berthd's isolation and masquerading rules, ip and nsenter for the tests' checks.
command -v nft >/dev/null || need_pkgs+=(nftables)
command -v ip >/dev/null || need_pkgs+=(iproute2)
command -v nsenter >/dev/null || need_pkgs+=(util-linux)
# Compose tests (networks, volumes, builds) drive Debian's docker-compose 1.29.2 against berthd, through docker-py and the docker CLI.
command -v docker-compose >/dev/null || need_pkgs+=(docker-compose)
# docker-compose 1.29.2's own volume tests against berthd (test/e2e/compose-suite.test.ts): pytest and ddt, and curl for its source.
/usr/bin/python3 -c 'import pytest, ddt' >/dev/null 2>&1 || need_pkgs+=(python3-pytest python3-ddt)
command -v curl >/dev/null || need_pkgs+=(curl)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  # The package enables a registry service on :5000; the tests start their own.
  if printf '%s\n' "${need_pkgs[@]}" | grep -qx docker-registry && command -v systemctl >/dev/null; then
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
fi

if [ ! -x /usr/local/bin/docker ] && ! command -v docker >/dev/null; then
  echo "setup: no docker CLI found: installing Debian's docker.io for its client (the end-to-end tests drive it)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

# The source of Debian's docker-compose 1.29.2 package (the upstream release), for its test suite.
compose_src=.cache/docker-compose-1.29.2
if [ ! -f "$compose_src/tests/integration/volume_test.py" ]; then
  echo "setup: docker-compose 1.29.2 source (its tests) from Debian's archive"
  rm -rf "$compose_src" && mkdir -p "$compose_src"
  curl -fsSL -o "$compose_src.tar.gz" http://deb.debian.org/debian/pool/main/d/docker-compose/docker-compose_1.29.2.orig.tar.gz
  echo "99a9b91d476062d280c889ae4e9993d7dd6a186327bafb2bb39521f9351b96eb  $compose_src.tar.gz" | sha256sum -c --quiet
  tar -xzf "$compose_src.tar.gz" -C "$compose_src" --strip-components=1
  rm -f "$compose_src.tar.gz"
fi

echo "setup: npm ci"
npm ci --no-audit --no-fund
echo "setup: build"
npm run build
