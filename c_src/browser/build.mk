# Browser port program: priv/live_load_browser (libwebsockets + jansson + ei), its C tests and
# fuzz targets. Included by c_src/Makefile.

BROWSER_DIR := browser
BROWSER_LIBS := $(shell pkg-config --libs libwebsockets jansson 2>/dev/null || echo -lwebsockets -ljansson)
BROWSER_CFLAGS := -Icommon -Ibrowser -I$(EI_DIR)/include
BROWSER_CORE_SRC := common/buf.c common/etf.c browser/core.c browser/wire.c browser/jscan.c browser/netlog.c browser/trace.c
BROWSER_CORE_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(BROWSER_CORE_SRC))
BROWSER_LIBEI := $(EI_DIR)/lib/libei.a
OBSERVER_JS := $(TOP)/priv/observer.js

# observer.js embedded as a NUL-terminated byte array, regenerated when the script changes
$(BUILD)/observer_js.c: $(OBSERVER_JS) | $(BUILD)
	@{ echo 'const char ll_observer_js[] = {'; od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; echo '0x00};'; } > $@

BROWSER_HEADERS := $(wildcard common/*.h browser/*.h)
$(BUILD)/browser/%.o: browser/%.c $(BROWSER_HEADERS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BROWSER_CFLAGS) -c $< -o $@

$(BUILD)/common/%.o: common/%.c $(BROWSER_HEADERS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BROWSER_CFLAGS) -c $< -o $@

$(BUILD)/observer_js.o: $(BUILD)/observer_js.c
	$(CC) $(CFLAGS) -Wno-missing-variable-declarations -c $< -o $@

$(BUILD)/live_load_browser: $(BUILD)/browser/main.o $(BROWSER_CORE_OBJ) $(BUILD)/observer_js.o
	$(CC) $(LDFLAGS) -o $@ $^ $(BROWSER_LIBEI) $(BROWSER_LIBS) -lpthread

$(PRIV)/live_load_browser: $(BUILD)/live_load_browser | $(PRIV)
	cp $< $@

ALL_TARGETS += $(PRIV)/live_load_browser

# C unit tests
$(BUILD)/test_browser: tests/test_browser.c tests/core_harness.h tests/check.h $(BROWSER_CORE_OBJ)
	$(CC) $(CFLAGS) $(BROWSER_CFLAGS) $(LDFLAGS) -o $@ $(filter-out %.h,$^) $(BROWSER_LIBEI) $(BROWSER_LIBS) -lpthread

C_TESTS += $(BUILD)/test_browser

$(BUILD)/test_wire: tests/test_wire.c tests/core_harness.h tests/check.h $(BROWSER_CORE_OBJ)
	$(CC) $(CFLAGS) $(BROWSER_CFLAGS) $(LDFLAGS) -o $@ $(filter-out %.h,$^) $(BROWSER_LIBEI) $(BROWSER_LIBS) -lpthread

C_TESTS += $(BUILD)/test_wire

# libFuzzer targets (clang only): the command decoder (ETF from Erlang), CDP messages, the
# LiveView frame heads of WebSocket payloads (wire.c) and the network log of tracing windows
# with the pairing of frames (netlog.c, wire.c)
# The core is compiled once (instrumented, fuzzer-no-link) and linked into each target.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(BROWSER_CFLAGS)
FUZZ_OBJ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all $(BROWSER_CFLAGS)
BROWSER_FUZZ_OBJ := $(patsubst %.c,$(FUZZ_BUILD)/browser-obj/%.o,$(BROWSER_CORE_SRC))
$(FUZZ_BUILD)/browser-obj/%.o: %.c $(BROWSER_HEADERS) | $(FUZZ_BUILD)
	@mkdir -p $(dir $@)
	clang $(FUZZ_OBJ_CFLAGS) -c $< -o $@
$(FUZZ_BUILD)/fuzz_browser_%: fuzz/fuzz_browser_%.c fuzz/fuzz_browser_user.h $(BROWSER_FUZZ_OBJ) | $(FUZZ_BUILD)
	clang $(FUZZ_CFLAGS) -o $@ $< $(BROWSER_FUZZ_OBJ) $(BROWSER_LIBEI) $(BROWSER_LIBS) -lpthread

FUZZ_TARGETS += $(FUZZ_BUILD)/fuzz_browser_command $(FUZZ_BUILD)/fuzz_browser_cdp $(FUZZ_BUILD)/fuzz_browser_frame \
	$(FUZZ_BUILD)/fuzz_browser_netlog

# FUZZ_MIN (minutes, for `make reliability`) wins over FUZZ_SECONDS (per target). A crash is
# written into the committed corpus (fuzz/corpus_browser_<t>/crash-<sha1>) and fails the run: once
# fixed, that file stays as a regression input every later run replays first.
FUZZ_BROWSER_SECONDS = $(if $(FUZZ_MIN),$(shell echo $$(( $(FUZZ_MIN) * 60 ))),$(FUZZ_SECONDS))
.PHONY: fuzz-browser
fuzz-browser: $(FUZZ_BUILD)/fuzz_browser_command $(FUZZ_BUILD)/fuzz_browser_cdp $(FUZZ_BUILD)/fuzz_browser_frame \
	$(FUZZ_BUILD)/fuzz_browser_netlog
	@set -e; for t in command cdp frame netlog; do echo "== fuzz_browser_$$t ($(FUZZ_BROWSER_SECONDS) s)"; \
	  mkdir -p $(FUZZ_BUILD)/corpus_$$t; \
	  if $(FUZZ_BUILD)/fuzz_browser_$$t -max_total_time=$(FUZZ_BROWSER_SECONDS) -max_len=65536 \
	       -print_final_stats=1 -artifact_prefix=fuzz/corpus_browser_$$t/ \
	       $(FUZZ_BUILD)/corpus_$$t fuzz/corpus_browser_$$t > $(FUZZ_BUILD)/fuzz_browser_$$t.log 2>&1; then \
	    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' $(FUZZ_BUILD)/fuzz_browser_$$t.log || true; \
	  else tail -40 $(FUZZ_BUILD)/fuzz_browser_$$t.log; \
	    echo "fuzz_browser_$$t: crash; input saved as fuzz/corpus_browser_$$t/crash-*"; exit 1; fi; done
