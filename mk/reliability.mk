# `make reliability` (issue #15, guides/reliability.md): every reliability row against the real
# parts, then ONE table. Not part of `make test` (the Erlang suites run there in their smoke form).
#   SOAK_MIN (30)   minutes of the soak (20 users)
#   FUZZ_MIN (10)   minutes of each fuzzer (C: port command decoder, CDP path, sketch decoder and
#                   ops; Erlang, PropEr-driven: result JSON decoder, CLI argument parser)
#   RELIABILITY_OUT (_build/reliability/rows.tsv) the rows file: one line per row,
#                   `Row<TAB>pass|FAIL<TAB>what it saw`, appended by the tests (and the fuzz steps below)
#   RELIABILITY_SUITES every test/*reliability*_SUITE.erl, plus the amoc and cluster suites when present
#                   (ERL_LIBS from the environment reaches them, e.g. ERL_LIBS=/work/amoc_build/lib)
# `make reliability-table` prints the table of the current rows file again.
SOAK_MIN ?= 30
FUZZ_MIN ?= 10
RELIABILITY_OUT ?= $(CURDIR)/_build/reliability/rows.tsv
RELIABILITY_SUITES ?= $(sort $(wildcard test/*reliability*_SUITE.erl test/live_load_amoc*_SUITE.erl test/live_load_cluster*_SUITE.erl))
# exported to the suites of `make reliability' only: a global export would reach every sub-make
# (`make test''s fuzz smoke ran FUZZ_MIN minutes per target instead of its 10 s)
reliability: export SOAK_MIN := $(SOAK_MIN)
reliability: export RELIABILITY_OUT := $(RELIABILITY_OUT)

.PHONY: reliability reliability-table

reliability: build ## every fault/bad-input/soak/fuzz row (SOAK_MIN=30, FUZZ_MIN=10), then one table
	@mkdir -p $(dir $(RELIABILITY_OUT)) && : > $(RELIABILITY_OUT)
	@status=0; secs=$$(awk "BEGIN{printf \"%d\", $(FUZZ_MIN) * 60}"); \
	for s in $(RELIABILITY_SUITES); do \
	  echo "=== reliability: $$s"; \
	  LIVE_LOAD_RELIABILITY=1 $(REBAR) ct --suite $$s || status=1; \
	done; \
	for f in browser sketch sketch-ops; do \
	  echo "=== reliability: make -C c_src fuzz-$$f FUZZ_SECONDS=$$secs"; \
	  t0=$$SECONDS; \
	  if $(MAKE) -s -C c_src fuzz-$$f FUZZ_SECONDS=$$secs > _build/reliability/fuzz-$$f.log 2>&1; then v=pass; else v=FAIL; status=1; fi; \
	  crashes=$$(bash mk/reliability_corpus.sh $$f); \
	  runs=$$(grep -ho 'Done [0-9]* runs' _build/reliability/fuzz-$$f.log | awk '{s+=$$2} END{print s+0}'); \
	  printf 'fuzzing: C %s (libFuzzer, ASan+UBSan)\t%s\t%s inputs in %d s, %s\n' "$$f" "$$v" "$$runs" "$$((SECONDS-t0))" "$$crashes" >> $(RELIABILITY_OUT); \
	done; \
	bash mk/reliability_table.sh $(RELIABILITY_OUT) || status=1; \
	exit $$status

reliability-table: ## print the table of the last `make reliability` rows again
	@bash mk/reliability_table.sh $(RELIABILITY_OUT)
