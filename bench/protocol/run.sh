#!/usr/bin/env bash
# make bench-protocol: the demo target in its own OS process (unless BASE_URL is given), then the
# protocol users in another BEAM (src/protocol/live_load_protocol_bench.erl). Env: STEPS, DURATION,
# IDLE, BASE_URL, BENCH_PORT (the demo target's port, default: a free one; not PORT, which the
# Makefile exports as 4000 for make demo-target), BROWSER_USERS, TRUTH_USERS.
set -euo pipefail
cd "$(dirname "$0")/../.."
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
EBIN=(-pa _build/default/lib/*/ebin)
SERVER_PID=""
if [ -z "${BASE_URL:-}" ]; then
  PORT="${BENCH_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
  erl -noshell "${EBIN[@]}" +P 1000000 -eval "{ok, _} = live_load_demo_target:start(#{port => $PORT}), receive after infinity -> ok end." &
  SERVER_PID=$!
  trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/counter" && break
    sleep 0.2
  done
  BASE_URL="http://127.0.0.1:$PORT"
fi
echo "ulimit -n $(ulimit -n); nproc $(nproc)"
BASE_URL="$BASE_URL" SERVER_PID="$SERVER_PID" erl -noshell "${EBIN[@]}" +P 1000000 -eval 'live_load_protocol_bench:main()'
