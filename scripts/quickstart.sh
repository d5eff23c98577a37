#!/usr/bin/env bash
# Quick start: install what is missing, build, put `berth` and `berthd` on the
# PATH, start berthd with its defaults (data in /var/lib/berth, API on
# /run/berth/berth.sock), get a busybox image (`berth pull busybox` from
# Docker Hub when it is reachable, else one built from Debian's
# busybox-static and imported; it says which), and show data written into a
# volume by one container being read back by a second. Running it again is
# fine: a running berthd and an existing busybox image are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

./scripts/setup.sh

ln -sf "$root/dist/src/cli/main.js" /usr/local/bin/berth
ln -sf "$root/dist/src/daemon-main.js" /usr/local/bin/berthd

sock=/run/berth/berth.sock
if ! berth version >/dev/null 2>&1; then
  mkdir -p /var/log
  echo "quickstart: starting berthd (log: /var/log/berthd.log)"
  nohup berthd >>/var/log/berthd.log 2>&1 &
  for _ in $(seq 1 100); do
    [ -S "$sock" ] && berth version >/dev/null 2>&1 && break
    sleep 0.1
  done
fi

# A root filesystem of busybox and its applets, as the tests build it
# (test/helpers/busybox.ts), packed the way `docker export` would.
import_busybox() {
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  local rootfs="$work/rootfs"
  mkdir -p "$rootfs"/{bin,etc,tmp,proc,sys,dev,root,var,home}
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  chmod 0755 "$rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  tar -C "$rootfs" --numeric-owner -cf "$work/rootfs.tar" .
  berth import -c 'CMD ["sh"]' "$work/rootfs.tar" busybox
}

if berth image inspect busybox >/dev/null 2>&1; then
  echo "quickstart: using the busybox image already there"
elif timeout 120 berth pull busybox; then
  echo "quickstart: pulled busybox from Docker Hub"
else
  echo "quickstart: no registry reachable (berth pull busybox failed): importing busybox built from /bin/busybox instead"
  import_busybox
fi

set -x
berth version
berth images
berth run --rm -v quickstart-demo:/data busybox sh -c 'echo hello > /data/hi'
berth run --rm -v quickstart-demo:/data busybox cat /data/hi
berth volume ls
berth volume inspect quickstart-demo
DOCKER_HOST=unix://$sock docker volume ls 2>/dev/null || true
