# Context area: the observer JS tests (node + playwright-core + real Chromium, LiveView 1.2 and 0.20)
# and the browser benchmarks (live_load vs playwright-core; capacity per mode). guides/performance.md.

.PHONY: observer-test bench-browser bench-capacity bench-profile
TEST_STEPS += observer-test

observer-test: setup ## observer.js in real Chromium against the LiveView 1.2 and 0.20 JS clients
	node --test test/js/observer_test.js
	LV_JS=$(CURDIR)/node_modules/phoenix_live_view_0_20/priv/static/phoenix_live_view.js node --test test/js/observer_test.js
	$(REBAR) compile
	node --test test/js/observer_demo_test.js

BENCH_STEPS += bench-browser bench-capacity

BENCH_BROWSER_ERL = erlc -pa _build/default/lib/live_load/ebin -o _build/bench bench/browser/*.erl
BENCH_BROWSER_RUN = erl +Bd -noshell -noinput -pa _build/default/lib/live_load/ebin -pa _build/bench

bench-browser: build ## live_load faithful + fast vs Playwright, same journey per N (NS="1 2 4 8 16" MODES="faithful fast" DURATION=30 BASE_URL=...)
	mkdir -p _build/bench
	$(BENCH_BROWSER_ERL)
	$(BENCH_BROWSER_RUN) -eval 'live_load_bench:main()'

bench-capacity: build ## browser users this machine carries per mode (p95 within 20% of N=1); JSON + cluster cost (SCENARIO=file.erl)
	mkdir -p _build/bench
	$(BENCH_BROWSER_ERL)
	$(BENCH_BROWSER_RUN) -eval 'live_load_capacity:main()'

bench-profile: build ## one iteration's costs in one mode: CPU by process, CDP messages by method, steps; TRACE=1 adds Chromium's trace (MODE=fast ARGS="--flag")
	mkdir -p _build/bench
	$(BENCH_BROWSER_ERL)
	$(BENCH_BROWSER_RUN) -eval 'live_load_profile:main()'

# The three timings of a LiveView event (wire, push -> patch, input -> patch), the server's own time
# and the diff size, per mode at N = 1 and 4 (bench/timings/live_load_timings_bench.erl).
.PHONY: bench-timings
BENCH_STEPS += bench-timings

bench-timings: build ## wire vs push->patch vs input->patch per mode (BASE_URL MODES NS DURATION LATENCY_MS)
	mkdir -p _build/bench
	erlc -o _build/bench bench/timings/live_load_timings_bench.erl
	erl +Bd -noshell -noinput -pa _build/default/lib/live_load/ebin -pa _build/bench -eval 'live_load_timings_bench:main()'

# What the network-side wire timing costs: trace on vs off in alternation, CPU per click of the port
# and Chromium, CDP messages and trace bytes per click (bench/timings/live_load_wire_cost_bench.erl).
.PHONY: bench-wire-cost
bench-wire-cost: build ## wire timing cost: port/Chromium CPU, CDP msgs and trace bytes per click (MODES ROUNDS DURATION)
	mkdir -p _build/bench
	erlc -o _build/bench bench/timings/live_load_wire_cost_bench.erl
	erl +Bd -noshell -noinput -pa _build/default/lib/live_load/ebin -pa _build/bench -eval 'live_load_wire_cost_bench:main()'
