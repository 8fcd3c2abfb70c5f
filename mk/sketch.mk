# DDSketch area: fuzzing and benchmark (C unit tests run through c_src's test targets).
.PHONY: fuzz-sketch fuzz-sketch-smoke bench-sketch

FUZZ_SKETCH_SECONDS ?= 300

fuzz-sketch: setup ## fuzz the DDSketch decoder, then its insert/merge ops (FUZZ_SKETCH_SECONDS each, default 300)
	$(MAKE) -C c_src fuzz-sketch FUZZ_SECONDS=$(FUZZ_SKETCH_SECONDS)
	$(MAKE) -C c_src fuzz-sketch-ops FUZZ_SECONDS=$(FUZZ_SKETCH_SECONDS)

fuzz-sketch-smoke: ## short DDSketch fuzz runs (FUZZ_SMOKE_SECONDS, 5, each; part of make test; the campaign is make reliability)
	$(MAKE) -C c_src fuzz-sketch FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)
	$(MAKE) -C c_src fuzz-sketch-ops FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

bench-sketch: build ## DDSketch: C core, NIF and @datadog/sketches-js figures with ratios
	@bash bench/sketch/run.sh

TEST_STEPS_C += fuzz-sketch-smoke
TEST_STEPS_BEAM += asan-sketch-nif
BENCH_STEPS += bench-sketch

# The NIF (term conversion, resources, locks, dirty rescheduling) under ASan/UBSan inside a real
# BEAM: the EUnit/PropEr suites of live_load_sketch run against an instrumented build of the .so.
SKETCH_ASAN_LIB := _build/asan-nif/lib/live_load
.PHONY: asan-sketch-nif
asan-sketch-nif: build ## DDSketch EUnit/PropEr tests against an ASan+UBSan build of the NIF
	$(REBAR) as test compile
	mkdir -p $(SKETCH_ASAN_LIB)/priv
	ln -sfn $(CURDIR)/_build/test/lib/live_load/ebin $(SKETCH_ASAN_LIB)/ebin
	gcc -std=gnu11 -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer -fPIC -shared \
	  -fsanitize=address,undefined -fno-sanitize-recover=all \
	  -I$$(erl -noshell -eval 'io:format("~s/erts-~s/include", [code:root_dir(), erlang:system_info(version)]), halt().') \
	  c_src/sketch/ddsketch.c c_src/sketch/ddsketch_codec.c c_src/sketch/live_load_sketch_nif.c \
	  -o $(SKETCH_ASAN_LIB)/priv/live_load_sketch_nif.so -lm -lz
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	erl -noshell -pa $(CURDIR)/$(SKETCH_ASAN_LIB)/ebin -pa _build/test/lib/live_load/test -eval "$$SKETCH_ASAN_EVAL"

# Fails if the instrumented .so is not the one loaded, or if any test fails.
export SKETCH_ASAN_EVAL = case code:priv_dir(live_load) of "$(CURDIR)/$(SKETCH_ASAN_LIB)/priv" -> ok; D -> io:format("wrong priv ~s~n", [D]), halt(2) end, R = eunit:test([live_load_sketch_tests, live_load_sketch_prop_tests], []), halt(case R of ok -> 0; _ -> 1 end).
