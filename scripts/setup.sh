#!/usr/bin/env bash
# Installs what live_load needs on Debian 12, idempotently. Fast (no apt call) when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  erlang-nox erlang-dev erlang-common-test erlang-dialyzer erlang-eunit erlang-tools erlang-proper erlang-proper-dev
  rebar3 elixir
  build-essential clang libclang-rt-14-dev valgrind pkg-config
  libwebsockets-dev libjansson-dev libgumbo-dev libuv1-dev zlib1g-dev
  chromium chromium-headless-shell jq
  openssh-server openssh-client
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node/npm: Debian's npm conflicts with a nodesource nodejs (which bundles npm); install only if absent.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages (phoenix JS clients for the demo target, reference implementations for tests and
# benchmarks). Reinstalled only when package-lock.json changed.
if [ -f package-lock.json ]; then
  stamp=node_modules/.live_load-lock
  if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    echo "setup: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
  fi
fi
