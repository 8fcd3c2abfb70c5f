# Protocol port program: priv/live_load_protocol (libwebsockets + jansson + gumbo + ei), its C
# tests and fuzz targets. Included by c_src/Makefile.

PROTO_LIBS := $(shell pkg-config --libs libwebsockets jansson gumbo 2>/dev/null || echo -lwebsockets -ljansson -lgumbo) -luv
PROTO_CFLAGS := -Icommon -Iprotocol -I$(EI_DIR)/include
PROTO_CORE_SRC := common/buf.c common/etf.c protocol/tree.c protocol/dom.c protocol/html.c protocol/patch.c protocol/page.c protocol/url.c
PROTO_CORE_OBJ := $(patsubst %.c,$(BUILD)/proto/%.o,$(PROTO_CORE_SRC))
PROTO_HEADERS := $(wildcard common/*.h protocol/*.h protocol/*.inc)

$(BUILD)/proto/%.o: %.c $(PROTO_HEADERS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PROTO_CFLAGS) -c $< -o $@

$(BUILD)/live_load_protocol: $(BUILD)/proto/protocol/main.o $(BUILD)/proto/protocol/user.o $(PROTO_CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(EI_DIR)/lib/libei.a $(PROTO_LIBS) -lpthread

$(PRIV)/live_load_protocol: $(BUILD)/live_load_protocol | $(PRIV)
	cp $< $@

ALL_TARGETS += $(PRIV)/live_load_protocol

$(BUILD)/test_protocol: tests/test_protocol.c tests/check.h $(PROTO_CORE_OBJ)
	$(CC) $(CFLAGS) $(PROTO_CFLAGS) $(LDFLAGS) -o $@ $(filter-out %.h,$^) $(EI_DIR)/lib/libei.a $(PROTO_LIBS) -lpthread

C_TESTS += $(BUILD)/test_protocol

PROTO_FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined $(PROTO_CFLAGS)
$(FUZZ_BUILD)/fuzz_protocol_%: fuzz/fuzz_protocol_%.c $(PROTO_CORE_SRC) | $(FUZZ_BUILD)
	clang $(PROTO_FUZZ_CFLAGS) -o $@ $(filter %.c,$^) $(EI_DIR)/lib/libei.a $(PROTO_LIBS) -lpthread

FUZZ_TARGETS += $(FUZZ_BUILD)/fuzz_protocol_diff $(FUZZ_BUILD)/fuzz_protocol_html

.PHONY: fuzz-protocol
fuzz-protocol: $(FUZZ_BUILD)/fuzz_protocol_diff $(FUZZ_BUILD)/fuzz_protocol_html
	@set -e; for t in diff html; do echo "== fuzz_protocol_$$t ($(FUZZ_SECONDS) s)"; \
	  mkdir -p $(FUZZ_BUILD)/corpus_protocol_$$t; \
	  $(FUZZ_BUILD)/fuzz_protocol_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=0 \
	    $(FUZZ_BUILD)/corpus_protocol_$$t fuzz/corpus_protocol_$$t 2>&1 | tail -3; done
