#!/usr/bin/env bash
# make bench-sketch: C core, NIF and @datadog/sketches-js figures in one invocation, then ratios
# and the issue's targets. Output: "name: value" lines. Not a test: it never fails on a figure.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=_build/bench/sketch
mkdir -p "$out"
CC=${CC:-cc}
$CC -std=gnu11 -Wall -Wextra -Werror -O2 -Ic_src/sketch bench/sketch/bench_core.c \
    c_src/sketch/ddsketch.c c_src/sketch/ddsketch_codec.c -o "$out/bench_core" -lm -lz -lpthread

"$out/bench_core" | tee "$out/figures.txt"
ERL_LIBS=_build/default/lib ERL_FLAGS="+S 1:1 +SDcpu 1:1 +sbwt none +sbwtdcpu none +sbwtdio none" \
  escript bench/sketch/bench_nif.escript single | tee -a "$out/figures.txt"
ERL_LIBS=_build/default/lib escript bench/sketch/bench_nif.escript concurrent | tee -a "$out/figures.txt"
node bench/sketch/bench.js | tee -a "$out/figures.txt"

awk -F': ' '
  { v[$1] = $2 }
  function ratio(name, a, b) { if (v[b] > 0) printf "%s: %.2f\n", name, v[a] / v[b] }
  function target(name, ok) { printf "target_%s: %s\n", name, ok ? "met" : "MISSED" }
  END {
    ratio("ratio_insert_js_over_core", "js_insert_ns", "core_insert_ns")
    ratio("ratio_insert_js_over_nif", "js_insert_ns", "nif_insert_ns")
    ratio("ratio_merge_js_over_core", "js_merge_us", "core_merge_us")
    ratio("ratio_merge_js_over_nif", "js_merge_us", "nif_merge_us")
    ratio("ratio_quantiles101_js_over_nif", "js_quantiles101_us", "nif_quantiles101_us")
    ratio("ratio_bytes_js_over_nif", "js_to_binary_bytes", "nif_to_binary_bytes")
    target("core_insert_le_15ns", v["core_insert_ns"] <= 15)
    target("nif_insert_le_200ns", v["nif_insert_ns"] <= 200)
    target("merge_le_5us", v["nif_merge_us"] <= 5)
    target("latency_sketch_le_4KB", v["nif_to_binary_bytes"] <= 4096)
    target("core_3x_faster_than_js", v["js_insert_ns"] >= 3 * v["core_insert_ns"])
  }' "$out/figures.txt"
