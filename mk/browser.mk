# Browser port program (c_src/browser) and its Erlang owner (src/browser).
#   make fuzz-browser        libFuzzer on the command decoder and the CDP message path (FUZZ_SECONDS each, 30)
#   make fuzz-browser-smoke  the same for 10 s each; part of `make test`
#   make test-browser        the port's C unit tests + its CT suite only

.PHONY: fuzz-browser fuzz-browser-smoke test-browser

fuzz-browser: setup
	$(MAKE) -C c_src fuzz-browser

fuzz-browser-smoke: setup
	$(MAKE) -s -C c_src fuzz-browser FUZZ_SECONDS=10

test-browser: build
	$(MAKE) -s -C c_src test
	$(REBAR) ct --suite=test/live_load_browser_SUITE

TEST_STEPS += fuzz-browser-smoke

# What the port program costs next to Chromium (no scenario layer): NS="1 4" DURATION=20 shortens it.
.PHONY: bench-browser-port
bench-browser-port: build
	NS="$(or $(NS),1 2 4 8)" DURATION="$(or $(DURATION),20)" erl -noshell -pa _build/default/lib/live_load/ebin \
	  -eval 'live_load_browser_bench:main()'

BENCH_STEPS += bench-browser-port
