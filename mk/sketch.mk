# DDSketch area: fuzzing and benchmark (C unit tests run through c_src's test targets).
.PHONY: fuzz-sketch fuzz-sketch-smoke bench-sketch

FUZZ_SKETCH_SECONDS ?= 300

fuzz-sketch: setup ## fuzz the DDSketch decoder, then its insert/merge ops (FUZZ_SKETCH_SECONDS each, default 300)
	$(MAKE) -C c_src fuzz-sketch FUZZ_SECONDS=$(FUZZ_SKETCH_SECONDS)
	$(MAKE) -C c_src fuzz-sketch-ops FUZZ_SECONDS=$(FUZZ_SKETCH_SECONDS)

fuzz-sketch-smoke: ## short DDSketch fuzz runs (decoder 30 s, ops 20 s; part of make test)
	$(MAKE) -C c_src fuzz-sketch FUZZ_SECONDS=30
	$(MAKE) -C c_src fuzz-sketch-ops FUZZ_SECONDS=20

bench-sketch: build ## DDSketch: C core, NIF and @datadog/sketches-js figures with ratios
	@bash bench/sketch/run.sh

TEST_STEPS += fuzz-sketch-smoke
BENCH_STEPS += bench-sketch
