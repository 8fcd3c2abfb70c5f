# Protocol backend: browserless LiveView users (c_src/protocol, src/protocol).
#   make fuzz-protocol        libFuzzer on the diff decoder and the HTML/selector path (FUZZ_SECONDS each, 30)
#   make fuzz-protocol-smoke  the same for FUZZ_SMOKE_SECONDS (5) each; part of `make test`
#   make test-protocol        the C unit tests + the protocol CT suites
#   make protocol-fixtures    regenerate c_src/tests/protocol_fixtures.json from the real rendered.js
#   make bench-protocol       ramp of protocol users against the demo target in its own OS process
#                             (STEPS="500 1000" DURATION=10 shorten it; BASE_URL=http://host:port targets any app)
#   make bench-protocol-instructions  the port's instructions per event under callgrind (USERS, CLICKS):
#                             a load-independent figure to compare before/after a change

.PHONY: fuzz-protocol fuzz-protocol-smoke test-protocol protocol-fixtures bench-protocol bench-protocol-instructions

fuzz-protocol: setup
	$(MAKE) -C c_src fuzz-protocol

fuzz-protocol-smoke: setup
	$(MAKE) -s -C c_src fuzz-protocol FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

test-protocol: build
	$(MAKE) -s -C c_src test
	$(REBAR) ct --suite=test/live_load_protocol_SUITE,test/live_load_protocol_diff_SUITE

protocol-fixtures:
	node test/js/protocol_fixtures.js

TEST_STEPS_C += fuzz-protocol-smoke

bench-protocol: build
	STEPS="$(or $(STEPS),500 1000 2000 5000 7500 10000)" DURATION="$(or $(DURATION),30)" \
	  IDLE="$(or $(IDLE),10000)" BASE_URL="$(BASE_URL)" \
	  bash bench/protocol/run.sh

BENCH_STEPS += bench-protocol

bench-protocol-instructions: build
	USERS="$(or $(USERS),20)" CLICKS="$(or $(CLICKS),20)" BASE_URL="$(BASE_URL)" \
	  erl -noshell -pa _build/default/lib/*/ebin -eval 'live_load_protocol_profile:main()'

# The port program itself under AddressSanitizer + UBSan: the protocol CT suite drives it, every
# sanitizer report goes to _build/asan-protocol/ (a report fails).
ASAN_PROTOCOL := $(CURDIR)/_build/c/asan-clang/live_load_protocol
.PHONY: asan-protocol
asan-protocol: build
	$(MAKE) -s -C c_src VARIANT=asan CC=clang $(ASAN_PROTOCOL)
	rm -rf _build/asan-protocol && mkdir -p _build/asan-protocol
	LIVE_LOAD_PROTOCOL_PROGRAM=$(ASAN_PROTOCOL) \
	  ASAN_OPTIONS=log_path=$(CURDIR)/_build/asan-protocol/asan:detect_leaks=1 \
	  UBSAN_OPTIONS=log_path=$(CURDIR)/_build/asan-protocol/ubsan:print_stacktrace=1 \
	  $(REBAR) ct --suite=test/live_load_protocol_SUITE
	@if ls _build/asan-protocol/* >/dev/null 2>&1; then cat _build/asan-protocol/*; exit 1; fi; echo "asan-protocol: no sanitizer reports"
