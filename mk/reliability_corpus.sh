#!/usr/bin/env bash
# After a libFuzzer run under c_src/: moves its crash/leak/timeout/oom artifacts into
# c_src/fuzz/regressions/<name>/ (commit them: they are regression corpus files) and says how many.
set -uo pipefail
name=${1:?fuzzer name}
cd "$(dirname "$0")/../c_src"
shopt -s nullglob
found=(crash-* leak-* timeout-* oom-* slow-unit-*)
if [ ${#found[@]} -eq 0 ]; then echo "no crash"; exit 0; fi
mkdir -p "fuzz/regressions/$name"
mv "${found[@]}" "fuzz/regressions/$name/"
echo "${#found[@]} crash(es) saved in c_src/fuzz/regressions/$name/"
