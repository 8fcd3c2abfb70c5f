# Demo LiveView target (issue #3): src/demo/, test/live_load_demo_target_SUITE.erl, test/js/demo_*.
# `make demo-target` runs it in the foreground on $PORT (default 4000) until Ctrl-C; knobs by env:
# BIND, DEMO_SLOW_MS, DEMO_LATENCY_MS, DEMO_REFUSE_WEBSOCKET=true, DEMO_FAIL_PERCENT.
PORT ?= 4000
export PORT

demo-target: build ## run the demo LiveView target on PORT (env, default 4000) until Ctrl-C
	erl +Bd -noshell -noinput -pa _build/default/lib/live_load/ebin -eval 'live_load_demo_target:main()'

# Raw-protocol benchmark of the target itself (N WebSocket clients pushing clicks); prints figures.
DEMO_BENCH_PORT ?= 4400
DEMO_BENCH_CLIENTS ?= 50
DEMO_BENCH_EVENTS ?= 200
BENCH_STEPS += bench-demo-target

bench-demo-target: build ## benchmark the demo target alone (raw V2 WebSocket clients; figures as JSON)
	@set -e; log=_build/demo_bench_server.log; \
	PORT=$(DEMO_BENCH_PORT) erl +Bd -noshell -noinput -pa _build/default/lib/live_load/ebin \
	  -eval 'live_load_demo_target:main()' > $$log 2>&1 & pid=$$!; trap "kill $$pid" EXIT; \
	for i in $$(seq 100); do grep -q ready $$log && break; sleep 0.2; done; grep ready $$log; \
	BASE=http://127.0.0.1:$(DEMO_BENCH_PORT) SERVER_PID=$$pid node test/js/demo_bench.js $(DEMO_BENCH_CLIENTS) $(DEMO_BENCH_EVENTS)
