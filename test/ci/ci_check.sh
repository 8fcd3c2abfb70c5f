#!/usr/bin/env bash
# The CI examples of guides/ci.md (GitHub Actions, GitLab CI), run locally: their `run:` steps
# are read from the guide (test/ci/ci_steps.escript, which also checks that the GitLab example
# runs the same commands) and run verbatim, in a work directory, against the demo LiveView
# target that the examples start as the application under test. Run by
# live_load_ci_SUITE:ci_script (short runs) and by `make ci-check` (the guide's values).
#
#   start        the step "start the application"                          -> the target is ready
#   first        the step "load test", no saved run yet                   -> exit 0, saved
#   rerun        the step "load test" again: its baseline is the first run -> exit 0 (no regression)
#   slowdown     the target's events made CI_LATENCY_MS slower (its stdin knob), the step
#                "load test" again: its baseline is the rerun             -> exit 5 (regression)
#   thresholds   (not in the guide) a run with a passing and a failing threshold and --junit,
#                run at the same time as the slowdown                     -> exit 4
#   trend        the step "trend" (the HTML trend of the saved runs)      -> exit 0
#   compare-*    bin/live_load compare on the saved files: first vs rerun with the guide's
#                floors -> 0; rerun vs slowdown with the defaults (10 %, 10 ms) -> 5
#   trend-list   bin/live_load --html OUT with the list of saved files    -> exit 0
# The step "setup and build" is not run here (it installs packages as root); make ci-check
# builds first.
#
# Environment: CI_OUT (output dir, default _build/ci_check), CI_USERS and CI_DURATION (instead
# of the guide's LOAD_USERS and LOAD_DURATION), CI_LATENCY_MS (150). APP_PORT is always a free
# port (this machine is shared). The target runs with DEMO_EXIT_ON_EOF=true and its stdin is a
# pipe this script holds: it stops when the script ends, however it ends.
# Prints "ci_check: STEP expected E got S ok|FAIL" per step and exits 0 when all match.
set -uo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
out=${CI_OUT:-$root/_build/ci_check}
latency=${CI_LATENCY_MS:-150}
work=$out/work
failed=0

rm -rf "$out"; mkdir -p "$work" "$out/shim"
for d in bin scenarios _build node_modules; do ln -s "$root/$d" "$work/$d"; done

check() {   # $1 step, $2 expected status, $3 actual status
  if [ "$2" = "$3" ]; then echo "ci_check: $1 expected $2 got $3 ok"
  else echo "ci_check: $1 expected $2 got $3 FAIL"; failed=$((failed+1)); fi
}

# the guide's env and run: steps
declare -A step=()
if ! escript "$root/test/ci/ci_steps.escript" "$root/guides/ci.md" > "$out/steps" 2> "$out/steps.err"; then
  cat "$out/steps.err"; echo "ci_check: guide FAIL"; exit 1
fi
while IFS= read -r -d '' kind && IFS= read -r -d '' name && IFS= read -r -d '' value; do
  case $kind in
    ENV) export "$name=$value" ;;
    STEP) step[$name]=$value ;;
  esac
done < "$out/steps"
for s in "start the application" "load test" "trend"; do
  [ -n "${step[$s]:-}" ] || { echo "ci_check: the guide has no step '$s' FAIL"; exit 1; }
done
export LOAD_USERS=${CI_USERS:-$LOAD_USERS} LOAD_DURATION=${CI_DURATION:-$LOAD_DURATION}
APP_PORT=$(erl -noshell -eval '{ok, S} = gen_tcp:listen(0, [{ip, {127,0,0,1}}]), {ok, P} = inet:port(S), io:format("~b", [P]), halt().')
export APP_PORT
echo "ci_check: LOAD_USERS=$LOAD_USERS LOAD_DURATION=$LOAD_DURATION APP_PORT=$APP_PORT (guide: ${!step[*]})"

run_step() {   # $1 step name, $2 output name; the step's exit status
  (cd "$work" && bash -e -c "${step[$1]}") < /dev/null > "$out/$2.out" 2> "$out/$2.err" 7>&-
}
live_load() { "$work/bin/live_load" "$@" < /dev/null 7>&-; }

# The target's stdin: a pipe held open by this script (fd 7) and by nothing else (every child gets
# 7>&-). The step starts it with `erl ... &`, which bash gives /dev/null as stdin; a stand-in `erl`
# first on the step's PATH runs the real one with this pipe as stdin instead, so
# DEMO_EXIT_ON_EOF stops the target when fd 7 closes: at the end, or when this script dies.
mkfifo "$out/target.stdin"
exec 7<>"$out/target.stdin"
cat > "$out/shim/erl" <<SHIM
#!/usr/bin/env bash
exec $(command -v erl) "\$@" < "$out/target.stdin" 7>&-
SHIM
chmod +x "$out/shim/erl"
(cd "$work" && PATH=$out/shim:$PATH DEMO_EXIT_ON_EOF=true bash -e -c "${step[start the application]}") \
    < /dev/null > "$out/start.out" 2> "$out/start.err" 7>&-
grep -q ready "$work/target.log"; check start 0 $?

newest() { ls -1 "$work"/live_load_runs/*-live_load_counter_scenario.json 2>/dev/null | sort | tail -1; }

run_step "load test" first; check first 0 $?
first=$(newest); cp "$work/junit.xml" "$out/junit_first.xml"
sleep 1   # run ids have second resolution
run_step "load test" rerun; check rerun 0 $?
rerun=$(newest)
sleep 1

echo "latency_ms $latency" >&7
for _ in $(seq 50); do grep -q "ok latency_ms" "$work/target.log" && break; sleep 0.1; done
grep -q "ok latency_ms" "$work/target.log"; check latency 0 $?
live_load run "$work/scenarios/live_load_counter_scenario.erl" --users "$LOAD_USERS" \
    --duration "$LOAD_DURATION" --quiet --base-url "http://127.0.0.1:$APP_PORT" \
    --threshold 'iterations.failed_rate < 50%' --threshold 'liveview.event.count > 100000000' \
    --junit "$out/junit.xml" --json "$out/thresholds.json" --md "$out/thresholds.md" \
    > "$out/thresholds.out" 2> "$out/thresholds.err" &
thresholds=$!
run_step "load test" slowdown; check slowdown 5 $?
slow=$(newest)
wait "$thresholds"; check thresholds 4 $?
exec 7>&-   # the target stops

# the rest reads saved files only: run at the same time
run_step trend trend & trend=$!
live_load compare "$first" "$rerun" --max-regression 50% --min-delta 100ms \
    --md "$out/compare_rerun.md" > /dev/null 2> "$out/compare_rerun.err" & compare_rerun=$!
live_load compare "$rerun" "$slow" --md "$out/compare_slowdown.md" \
    > /dev/null 2> "$out/compare_slowdown.err" & compare_slowdown=$!
live_load --html "$out/trend_list.html" "$first" "$rerun" "$slow" > /dev/null 2> "$out/trend_list.err" &
trend_list=$!
wait "$trend"; check trend 0 $?
cp "$work/trend.html" "$out/trend.html"
wait "$compare_rerun"; check compare-rerun 0 $?
wait "$compare_slowdown"; check compare-slowdown 5 $?
wait "$trend_list"; check trend-list 0 $?

echo "ci_check: $failed step(s) failed; output in $out"
[ "$failed" -eq 0 ]
