#!/usr/bin/env bash
# `make test`: runs every test layer, keeps going after a failing layer so one run shows all
# failures, and ends with one summary line "N passed, N failed" (layers counted as tests).
#
# The machine has two cores, so the layers that time nothing run as three lanes side by side:
#   C lane:    the C unit tests (gcc, clang, ASan/UBSan, valgrind) and $TEST_STEPS_C (fuzz smokes);
#              only `make -C c_src`, one step after the other
#   BEAM lane: dialyzer, xref, EUnit/PropEr and $TEST_STEPS_BEAM; only rebar3, one after the other
#   mix lane:  $TEST_STEPS_MIX (the ExUnit suite: it builds into _build/mix and its cases assert
#              what happened, not how fast)
# Each lane step's output goes to _build/test-logs/<step>.log and is printed when the step ends.
# Then the layers that time things (real Chromium, real servers: Common Test and the steps given
# as arguments) run alone, one at a time, their output streamed.
# Every failed layer's log is named again at the end, with its failing lines, so the tail of the
# output says what failed.
set -uo pipefail
cd "$(dirname "$0")/.."
timed_steps=("$@")
read -r -a c_steps <<< "${TEST_STEPS_C:-}"
read -r -a beam_steps <<< "${TEST_STEPS_BEAM:-}"
read -r -a mix_steps <<< "${TEST_STEPS_MIX:-}"
logs=_build/test-logs
rm -rf "$logs" && mkdir -p "$logs"
t_all=$SECONDS

# step NAME CMD...: runs it, output to $logs/NAME.log; writes $logs/NAME.status (ok|FAILED SECONDS)
step() {
  local name=$1; shift
  local t0=$SECONDS st
  if "$@" > "$logs/$name.log" 2>&1; then st=ok; else st=FAILED; fi
  echo "$st $((SECONDS-t0))" > "$logs/$name.status"
  { echo; echo "=== [$name] $*"; cat "$logs/$name.log"; echo "=== [$name] $st ($((SECONDS-t0)) s)"; } > "$logs/$name.out"
}

# streamed: for the long timed layers, so progress shows while they run
step_live() {
  local name=$1; shift
  local t0=$SECONDS st
  echo; echo "=== [$name] $*"
  if "$@" 2>&1 | tee "$logs/$name.log"; then st=ok; else st=FAILED; fi
  echo "$st $((SECONDS-t0))" > "$logs/$name.status"
  echo "=== [$name] $st ($((SECONDS-t0)) s)"
}

order=(build)
step build rebar3 compile
cat "$logs/build.out"

if [ "$(cut -d' ' -f1 "$logs/build.status")" = ok ]; then
  c_lane() {
    step c-gcc make -s -C c_src test
    step c-clang make -s -C c_src test CC=clang
    step c-asan make -s -C c_src asan-test CC=clang
    step c-valgrind make -s -C c_src valgrind-test
    for s in "${c_steps[@]}"; do step "$s" make -s "$s"; done
  }
  beam_lane() {
    step dialyzer rebar3 dialyzer   # the longest layer first: it bounds the lanes' time
    step xref rebar3 xref
    step eunit rebar3 eunit
    for s in "${beam_steps[@]}"; do step "$s" make -s "$s"; done
  }
  mix_lane() {
    for s in "${mix_steps[@]}"; do step "$s" make -s "$s"; done
  }
  echo; echo "=== three lanes side by side: C (c-gcc c-clang c-asan c-valgrind ${c_steps[*]}), BEAM (dialyzer xref eunit ${beam_steps[*]}), mix (${mix_steps[*]})"
  t0=$SECONDS
  c_lane & c_pid=$!
  beam_lane & beam_pid=$!
  mix_lane & mix_pid=$!
  wait $c_pid $beam_pid $mix_pid
  order+=(c-gcc c-clang c-asan c-valgrind "${c_steps[@]}" dialyzer xref eunit "${beam_steps[@]}" "${mix_steps[@]}")
  for s in "${order[@]:1}"; do cat "$logs/$s.out"; done
  echo "=== lanes done ($((SECONDS-t0)) s)"

  step_live ct rebar3 ct
  order+=(ct)
  for s in "${timed_steps[@]}"; do step_live "$s" make -s "$s"; order+=("$s"); done
fi

passed=0; failed=0; failures=()
echo; echo "=== layers"
for s in "${order[@]}"; do
  read -r st secs < "$logs/$s.status"
  printf '  %-22s %-6s %4d s\n' "$s" "$st" "$secs"
  if [ "$st" = ok ]; then passed=$((passed+1)); else failed=$((failed+1)); failures+=("$s"); fi
done
echo "  (wall clock $((SECONDS-t_all)) s)"
for s in "${failures[@]}"; do
  echo; echo "=== [$s] failed; its log: $logs/$s.log; the failing lines:"
  grep -E -i -A3 'fail|error|assert' "$logs/$s.log" | grep -v -E '0 failures|0 failed|, 0 fail' | tail -40
done
echo
[ ${#failures[@]} -eq 0 ] || echo "failed layers: ${failures[*]}"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
