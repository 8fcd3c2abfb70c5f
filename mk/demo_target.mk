# Demo LiveView target (issue #3): src/demo/, test/live_load_demo_target_SUITE.erl, test/js/demo_*.
# `make demo-target` runs it in the foreground on $PORT (default 4000) until Ctrl-C; knobs by env:
# BIND, DEMO_SLOW_MS, DEMO_LATENCY_MS, DEMO_REFUSE_WEBSOCKET=true, DEMO_FAIL_PERCENT.
PORT ?= 4000
export PORT

demo-target: build ## run the demo LiveView target on PORT (env, default 4000) until Ctrl-C
	erl +Bd -noshell -noinput -pa _build/default/lib/live_load/ebin -eval 'live_load_demo_target:main()'
