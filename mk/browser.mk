# Browser port program (c_src/browser) and its Erlang owner (src/browser).
#   make fuzz-browser        libFuzzer on the command decoder, the CDP message path, LiveView frame heads and the
#                            network log of tracing windows with the frame pairing (FUZZ_SECONDS
#                            each, 30; FUZZ_MIN=10 for the reliability campaign); crashes land in
#                            c_src/fuzz/corpus_browser_*/crash-* (commit them once fixed)
#   make fuzz-browser-smoke  the same for FUZZ_SMOKE_SECONDS (5) each; part of `make test`
#   make test-browser        the port's C unit tests + its CT suite only

#   make reliability-browser the #15 rows of this layer at size (test/live_load_reliability_browser_SUITE,
#                            group full, rows appended to $RELIABILITY_OUT) + fuzz-browser for FUZZ_MIN (10) min

.PHONY: fuzz-browser fuzz-browser-smoke test-browser reliability-browser

fuzz-browser: setup
	$(MAKE) -C c_src fuzz-browser

fuzz-browser-smoke: setup
	$(MAKE) -s -C c_src fuzz-browser FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

test-browser: build
	$(MAKE) -s -C c_src test
	$(REBAR) ct --suite=test/live_load_browser_SUITE

TEST_STEPS_C += fuzz-browser-smoke

# What the port program costs next to Chromium (no scenario layer): NS="1 4" DURATION=20 shortens it.
.PHONY: bench-browser-port
bench-browser-port: build
	NS="$(or $(NS),1 2 4 8)" DURATION="$(or $(DURATION),20)" erl -noshell -pa _build/default/lib/live_load/ebin \
	  -eval 'live_load_browser_bench:main()'

BENCH_STEPS += bench-browser-port

# The port program itself (not only its unit tests) under AddressSanitizer + UBSan: the CT cases
# that drive it, with every sanitizer report written to _build/asan-browser/ (a report fails).
ASAN_BROWSER := $(CURDIR)/_build/c/asan-clang/live_load_browser
ASAN_BROWSER_CASES ?= start_stop,evaluate,cdp_error,navigate_static_page,network_records,observer_before_page_scripts,liveview_counter,fast_mode,owner_down_closes_user,malformed_frames,eof_kills_chromium,kill_chromium_gives_browser_down,endpoint_mode,refused_port_reports_only_its_traffic,burst_of_frames,hung_command_frees_slot,close_fails_pending_calls
.PHONY: asan-browser
asan-browser: build
	$(MAKE) -s -C c_src VARIANT=asan CC=clang $(ASAN_BROWSER)
	rm -rf _build/asan-browser && mkdir -p _build/asan-browser
	LIVE_LOAD_BROWSER_PROGRAM=$(ASAN_BROWSER) \
	  ASAN_OPTIONS=log_path=$(CURDIR)/_build/asan-browser/asan:detect_leaks=1 \
	  UBSAN_OPTIONS=log_path=$(CURDIR)/_build/asan-browser/ubsan:print_stacktrace=1 \
	  $(REBAR) ct --suite=test/live_load_browser_SUITE --case=$(ASAN_BROWSER_CASES)
	@if ls _build/asan-browser/* >/dev/null 2>&1; then cat _build/asan-browser/*; exit 1; fi; echo "asan-browser: no sanitizer reports"

# For `make reliability` (owned by the reliability engineer, who decides how it is called): the
# browser rows at size and the long fuzz campaign.
# Both parts always run (every row gets written); the target fails if either failed.
reliability-browser: build
	@ct=0; fz=0; \
	LIVE_LOAD_RELIABILITY=1 $(REBAR) ct --suite=test/live_load_reliability_browser_SUITE --group full || ct=$$?; \
	$(MAKE) -C c_src fuzz-browser FUZZ_MIN=$(or $(FUZZ_MIN),10) || fz=$$?; \
	test $$ct = 0 && test $$fz = 0
