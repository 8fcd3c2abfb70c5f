#!/usr/bin/env bash
# make bench-cluster: forms local peer clusters of 1, 4, 16 and 32 nodes and prints the times,
# once without amoc and once with amoc when ERL_LIBS holds an amoc build (a directory holding
# amoc-4.1.0/ebin and telemetry-1.3.0/ebin: ERL_LIBS=/path/to/libs make bench-cluster; amoc is
# never part of this repository). BENCH_CLUSTER_SIZES="1 4" picks other sizes.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=_build/bench/cluster
mkdir -p "$out"
erlc -o "$out" bench/cluster/live_load_cluster_bench.erl
epmd -daemon
for _ in 1 2 3 4 5 6 7 8 9 10; do epmd -names >/dev/null 2>&1 && break; sleep 0.3; done
sizes=$(echo "${BENCH_CLUSTER_SIZES:-1 4 16 32}" | tr -s ' ' ',')
run() {  # $1: node name suffix, $2: ERL_LIBS for that run
  ERL_LIBS="$2" erl -noshell -sname "bench_cluster_$$_$1" -pa _build/default/lib/live_load/ebin -pa "$out" \
      -eval "live_load_cluster_bench:main([$sizes])."
}
echo "== without amoc"
run plain ""
amoc_dir=""
IFS=: read -ra libs <<< "${ERL_LIBS:-}"
# the documented layout: a directory holding amoc-4.1.0/ebin (and telemetry-1.3.0/ebin)
for d in "${libs[@]}"; do
  for a in "$d"/amoc-*/ebin "$d"/amoc/ebin; do [ -f "$a/amoc.app" ] && amoc_dir="$d"; done
done
if [ -n "$amoc_dir" ]; then
  echo "== with amoc ($amoc_dir)"
  run amoc "${ERL_LIBS}"
else
  echo "== with amoc: skipped (no amoc-*/ebin/amoc.app under ERL_LIBS='${ERL_LIBS:-}')"
fi
