# DDSketch: pure C core (ddsketch*.c), NIF (live_load_sketch_nif.c), unit tests, fuzz target.
SKETCH_CORE := sketch/ddsketch.c sketch/ddsketch_codec.c
SKETCH_HDR := sketch/ddsketch.h
SKETCH_NIF := $(PRIV)/live_load_sketch_nif.so
FUZZ_CC ?= clang
FUZZ_SKETCH := $(FUZZ_BUILD)/fuzz_sketch_decode
FUZZ_SKETCH_CORPUS := $(FUZZ_BUILD)/corpus_sketch

ALL_TARGETS += $(SKETCH_NIF)
C_TESTS += $(BUILD)/test_sketch
FUZZ_TARGETS += $(FUZZ_SKETCH)

$(SKETCH_NIF): $(SKETCH_CORE) $(SKETCH_HDR) sketch/live_load_sketch_nif.c | $(PRIV)
	$(CC) $(CFLAGS) -I$(ERTS_INCLUDE) -shared $(SKETCH_CORE) sketch/live_load_sketch_nif.c -o $@ $(LDFLAGS) -lm -lz

$(BUILD)/test_sketch: tests/test_sketch.c tests/check.h $(SKETCH_CORE) $(SKETCH_HDR) | $(BUILD)
	$(CC) $(CFLAGS) -Isketch tests/test_sketch.c $(SKETCH_CORE) -o $@ $(LDFLAGS) -lm -lz

$(FUZZ_SKETCH): fuzz/fuzz_sketch_decode.c $(SKETCH_CORE) $(SKETCH_HDR) | $(FUZZ_BUILD)
	$(FUZZ_CC) $(CFLAGS_COMMON) -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all -Isketch fuzz/fuzz_sketch_decode.c $(SKETCH_CORE) -o $@ -lm -lz

# Seeds come from the unit-test binary (valid encodings of varied sketches); the run is
# bounded by FUZZ_SECONDS and fails on any crash, leak, sanitizer report or round-trip mismatch.
.PHONY: fuzz-sketch
fuzz-sketch: $(FUZZ_SKETCH) $(BUILD)/test_sketch
	mkdir -p $(FUZZ_SKETCH_CORPUS)
	$(BUILD)/test_sketch --write-seeds $(FUZZ_SKETCH_CORPUS)
	$(FUZZ_SKETCH) -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -rss_limit_mb=1024 \
	  -timeout=10 -print_final_stats=1 $(FUZZ_SKETCH_CORPUS)

# Second fuzz target: random insert/merge/clear sequences against an exact model of the bins.
FUZZ_SKETCH_OPS := $(FUZZ_BUILD)/fuzz_sketch_ops
FUZZ_SKETCH_OPS_CORPUS := $(FUZZ_BUILD)/corpus_sketch_ops
FUZZ_TARGETS += $(FUZZ_SKETCH_OPS)

$(FUZZ_SKETCH_OPS): fuzz/fuzz_sketch_ops.c $(SKETCH_CORE) $(SKETCH_HDR) | $(FUZZ_BUILD)
	$(FUZZ_CC) $(CFLAGS_COMMON) -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all -Isketch fuzz/fuzz_sketch_ops.c $(SKETCH_CORE) -o $@ -lm -lz

.PHONY: fuzz-sketch-ops
fuzz-sketch-ops: $(FUZZ_SKETCH_OPS)
	mkdir -p $(FUZZ_SKETCH_OPS_CORPUS)
	$(FUZZ_SKETCH_OPS) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -rss_limit_mb=1024 \
	  -timeout=10 -print_final_stats=1 $(FUZZ_SKETCH_OPS_CORPUS)
