#!/usr/bin/env bash
# The steps of the CI examples in guides/ci.md (GitHub Actions, GitLab CI), run locally against
# the demo LiveView target standing in for the application under test. Run by
# live_load_ci_SUITE:ci_script and by `make ci-check`.
#
#   1. thresholds: one passing and one failing threshold -> exit 4, JUnit file, thresholds section
#   2. baseline:   a passing run saved to the runs directory            -> exit 0
#   3. rerun:      same code again, compared inline with --baseline      -> exit 0 (no regression)
#   4. slowdown:   the target made slower (DEMO_LATENCY_MS), --baseline  -> exit 5 (regression)
#   5. example:    the "load test" step of the guide's YAML, verbatim (baseline: the newest run) -> exit 0
#   6. compare:    bin/live_load compare on the saved files              -> 0 for the rerun, 5 for the slowdown
#   7. trend:      bin/live_load report on the runs directory (HTML trend) -> exit 0
#
# Environment: CI_OUT (output dir, default _build/ci_check), CI_USERS (2), CI_DURATION (10s),
# CI_LATENCY_MS (injected latency, 300), CI_MAX_REGRESSION (50%), CI_MIN_DELTA (100ms).
# Prints one line per step "ci_check: STEP expected E got S ok|FAIL" and exits 0 when all match.
set -uo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
out=${CI_OUT:-$root/_build/ci_check}
users=${CI_USERS:-2}
duration=${CI_DURATION:-10s}
latency=${CI_LATENCY_MS:-300}
max_regression=${CI_MAX_REGRESSION:-50%}
min_delta=${CI_MIN_DELTA:-100ms}
live_load=$root/bin/live_load
scenario=$root/scenarios/live_load_counter_scenario.erl
runs=$out/live_load_runs

rm -rf "$out"; mkdir -p "$out"
failed=0
target=

start_target() {   # $1 = DEMO_LATENCY_MS
  stop_target
  port=$(erl -noshell -eval '{ok, S} = gen_tcp:listen(0, [{ip, {127,0,0,1}}]), {ok, P} = inet:port(S), io:format("~b", [P]), halt().')
  PORT=$port DEMO_LATENCY_MS=$1 erl -noshell -noinput -pa "$root/_build/default/lib/live_load/ebin" \
      -eval 'live_load_demo_target:main()' > "$out/target_$1.log" 2>&1 &
  target=$!
  for _ in $(seq 1 100); do grep -q ready "$out/target_$1.log" && break; sleep 0.2; done
  url=http://127.0.0.1:$port
}
stop_target() {
  if [ -n "$target" ]; then kill "$target" 2>/dev/null; wait "$target" 2>/dev/null; target=; fi
}
trap stop_target EXIT

check() {   # $1 step, $2 expected status, $3 actual status
  if [ "$2" = "$3" ]; then echo "ci_check: $1 expected $2 got $3 ok"
  else echo "ci_check: $1 expected $2 got $3 FAIL"; failed=$((failed+1)); fi
}

run() {   # $1 step name, rest: extra options
  local step=$1; shift
  "$live_load" run "$scenario" --users "$users" --duration "$duration" --quiet --base-url "$url" \
      --json "$out/$step.json" --md "$out/$step.md" "$@" > "$out/$step.out" 2> "$out/$step.err"
}

newest_run() { ls -1 "$runs"/*.json 2>/dev/null | grep -v '/index.json$' | sort | tail -1; }

start_target 0

run thresholds --threshold 'iterations.failed_rate < 50%' --threshold 'liveview.event.count > 100000000' \
    --junit "$out/junit.xml"
check thresholds 4 $?

run baseline --threshold 'iterations.failed_rate < 50%' --save "$runs"
check baseline 0 $?
base=$(newest_run)
sleep 1   # the run id has second resolution

run rerun --threshold 'iterations.failed_rate < 50%' --save "$runs" --baseline "$base" \
    --max-regression "$max_regression" --min-delta "$min_delta"
check rerun 0 $?
rerun=$(newest_run)
sleep 1

start_target "$latency"
run slowdown --save "$runs" --baseline "$base" --max-regression "$max_regression" --min-delta "$min_delta"
check slowdown 5 $?
slow=$(newest_run)
sleep 1

# 5. the "load test" step of guides/ci.md's GitHub Actions / GitLab CI examples, as written there
#    (users and duration from CI_USERS/CI_DURATION): the newest saved run is the baseline
start_target 0
cd "$out"
base_example=$(ls live_load_runs/*-live_load_counter_scenario.json 2>/dev/null | sort | tail -1 || true)
"$live_load" run "$scenario" --users "$users" --duration "$duration" --quiet \
    --base-url "$url" \
    --threshold 'iterations.failed_rate < 1%' --threshold 'liveview.event.p95 < 250ms' \
    --junit junit_example.xml --save live_load_runs --md report.md --html report.html \
    ${base_example:+--baseline "$base_example" --max-regression 50% --min-delta 100ms} > example.out 2> example.err
check example 0 $?
cd - > /dev/null
stop_target

"$live_load" compare "$base" "$rerun" --max-regression "$max_regression" --min-delta "$min_delta" \
    --md "$out/compare_rerun.md" > /dev/null 2>> "$out/compare.err"
check compare-rerun 0 $?
"$live_load" compare "$base" "$slow" --max-regression "$max_regression" --min-delta "$min_delta" \
    --md "$out/compare_slowdown.md" > /dev/null 2>> "$out/compare.err"
check compare-slowdown 5 $?

"$live_load" report "$runs" --html "$out/trend.html" --md "$out/trend.md" > /dev/null 2> "$out/report.err"
check trend 0 $?

echo "ci_check: $failed step(s) failed; output in $out"
[ "$failed" -eq 0 ]
