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

# The port program itself (not only its unit tests) under AddressSanitizer + UBSan: the CT cases
# that drive it, with every sanitizer report written to _build/asan-browser/ (a report fails).
ASAN_BROWSER := $(CURDIR)/_build/c/asan-clang/live_load_browser
ASAN_BROWSER_CASES ?= start_stop,evaluate,cdp_error,navigate_static_page,network_records,observer_before_page_scripts,liveview_counter,fast_mode,owner_down_closes_user,malformed_frames,eof_kills_chromium,kill_chromium_gives_browser_down,endpoint_mode
.PHONY: asan-browser
asan-browser: build
	$(MAKE) -s -C c_src VARIANT=asan CC=clang $(ASAN_BROWSER)
	rm -rf _build/asan-browser && mkdir -p _build/asan-browser
	LIVE_LOAD_BROWSER_PROGRAM=$(ASAN_BROWSER) \
	  ASAN_OPTIONS=log_path=$(CURDIR)/_build/asan-browser/asan:detect_leaks=1 \
	  UBSAN_OPTIONS=log_path=$(CURDIR)/_build/asan-browser/ubsan:print_stacktrace=1 \
	  $(REBAR) ct --suite=test/live_load_browser_SUITE --case=$(ASAN_BROWSER_CASES)
	@if ls _build/asan-browser/* >/dev/null 2>&1; then cat _build/asan-browser/*; exit 1; fi; echo "asan-browser: no sanitizer reports"
