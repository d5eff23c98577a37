#!/usr/bin/env bash
# Quick start: install what is missing, build, put `berth` and `berthd` on the
# PATH, start berthd with its defaults (data in /var/lib/berth, API on
# /run/berth/berth.sock) and show a volume being created, listed and inspected.
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

set -x
berth version
berth volume create quickstart-demo
berth volume ls
berth volume inspect quickstart-demo
DOCKER_HOST=unix://$sock docker volume ls 2>/dev/null || true
