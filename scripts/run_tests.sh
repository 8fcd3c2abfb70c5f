#!/usr/bin/env bash
# `make test`: runs every test layer, keeps going after a failing layer so one run shows all
# failures, and ends with one summary line "N passed, N failed" (layers counted as tests).
set -uo pipefail
cd "$(dirname "$0")/.."
extra_steps=("$@")

passed=0; failed=0; failures=()
step() {
  local name=$1; shift
  echo; echo "=== [$name] $*"
  local t0=$SECONDS
  if "$@"; then passed=$((passed+1)); echo "=== [$name] ok ($((SECONDS-t0)) s)";
  else failed=$((failed+1)); failures+=("$name"); echo "=== [$name] FAILED ($((SECONDS-t0)) s)"; fi
}

step build     rebar3 compile
step c-gcc     make -s -C c_src test
step c-clang   make -s -C c_src test CC=clang
step c-asan    make -s -C c_src asan-test CC=clang
step c-valgrind make -s -C c_src valgrind-test
step eunit     rebar3 eunit
step ct        rebar3 ct
for s in "${extra_steps[@]}"; do step "$s" make -s "$s"; done
step xref      rebar3 xref
step dialyzer  rebar3 dialyzer

echo
[ ${#failures[@]} -eq 0 ] || echo "failed layers: ${failures[*]}"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
