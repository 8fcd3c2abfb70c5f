# Metrics area: recording, collector, result JSON and Markdown. Tests run in the Erlang
# suites (test/live_load_metrics_*, test/live_load_collector_SUITE, test/live_load_result_*).
.PHONY: bench-metrics

bench-metrics: build ## metrics: recording values/s (1/50/200 recorders), 3-node collect+merge time, JSON size
	@bash bench/metrics/run.sh

BENCH_STEPS += bench-metrics
