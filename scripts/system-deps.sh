#!/usr/bin/env bash
# The Debian packages the project needs beyond Python, installed when missing: redis-server (the
# tests start their own), chromium and a CJK font (the console's browser tests and bench, the
# screenshot), node and npm (the console's front-end libraries, from web/package-lock.json).
# Idempotent and quick when everything is there; fails loudly when it cannot install.
set -euo pipefail

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
if command -v fc-list >/dev/null 2>&1; then
  [ -n "$(fc-list :lang=zh 2>/dev/null | head -n1)" ] || need+=(fonts-wqy-microhei)
else
  need+=(fontconfig fonts-wqy-microhei)
fi
[ ${#need[@]} -eq 0 ] && exit 0

echo "system-deps: installing ${need[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=(sudo -n); else
    echo "system-deps: need root (or sudo) to install: ${need[*]}" >&2; exit 1
  fi
fi
"${sudo[@]}" apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
