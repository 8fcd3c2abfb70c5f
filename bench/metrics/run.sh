#!/usr/bin/env bash
# make bench-metrics: compiles the benchmark module and runs it on a distributed node
# (the collect+merge figure uses 3 peer nodes).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=_build/bench/metrics
mkdir -p "$out"
erlc -o "$out" bench/metrics/live_load_metrics_bench.erl
epmd -daemon
for _ in 1 2 3 4 5 6 7 8 9 10; do epmd -names >/dev/null 2>&1 && break; sleep 0.3; done
exec erl -noshell -sname "bench_metrics_$$" -pa _build/default/lib/live_load/ebin -pa "$out" \
    -eval 'live_load_metrics_bench:main().'
