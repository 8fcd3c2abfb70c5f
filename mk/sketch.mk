# DDSketch area: fuzzing and benchmark (C unit tests run through c_src's test targets).
.PHONY: fuzz-sketch fuzz-sketch-smoke bench-sketch

FUZZ_SKETCH_SECONDS ?= 300

fuzz-sketch: setup ## fuzz the DDSketch decoder (FUZZ_SKETCH_SECONDS, default 300 s)
	$(MAKE) -C c_src fuzz-sketch FUZZ_SECONDS=$(FUZZ_SKETCH_SECONDS)

fuzz-sketch-smoke: ## 30 s fuzz run of the DDSketch decoder (part of make test)
	$(MAKE) -C c_src fuzz-sketch FUZZ_SECONDS=30

bench-sketch: build ## DDSketch: C core, NIF and @datadog/sketches-js figures with ratios
	@bash bench/sketch/run.sh

TEST_STEPS += fuzz-sketch-smoke
BENCH_STEPS += bench-sketch
