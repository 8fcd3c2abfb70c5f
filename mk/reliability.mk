# `make reliability` (issue #15, guides/reliability.md): every reliability row against the real
# parts, then ONE table with one line per row of the issue (mk/reliability_rows.tsv). Not part of
# `make test` (the suites run there in their smoke form and write no row).
#   SOAK_MIN (30)   minutes of the soak (20 users)
#   FUZZ_MIN (10)   minutes of each fuzzer (C: port command decoder, CDP path, sketch decoder and
#                   ops; Erlang, PropEr-driven: result JSON decoder, CLI argument parser)
#   RELIABILITY_DIR (_build/reliability/table) one rows file per suite, `<suite>.tsv' (the suite
#                   gets it as RELIABILITY_OUT), and `c_fuzz.tsv' for the C fuzzers: lines
#                   `Row<TAB>pass|FAIL<TAB>what it saw'. Only `make reliability' writes there: the
#                   suites' smoke form writes nothing, and a suite run without RELIABILITY_OUT
#                   (other areas' suites under `make test') appends to _build/reliability/rows.tsv,
#                   which the table never reads.
#   RELIABILITY_SUITES the suites (and cases, `file:case,case') that prove rows, run with
#                   LIVE_LOAD_RELIABILITY=1 (full size); the amoc case skips without amoc in
#                   ERL_LIBS (e.g. ERL_LIBS=/path/to/amoc/libs), the cluster case proves the row
#                   with `peer' nodes then
# `make reliability-table` prints the table of the last run again.
SOAK_MIN ?= 30
FUZZ_MIN ?= 10
RELIABILITY_DIR ?= $(CURDIR)/_build/reliability/table
RELIABILITY_SUITES ?= test/live_load_reliability_SUITE.erl \
  test/live_load_reliability_browser_SUITE.erl:@full \
  test/live_load_run_e2e_SUITE.erl:cli_sigterm_writes_partial_result,cli_ctrl_c_writes_partial_result \
  test/live_load_cluster_SUITE.erl:pulls_keep_lost_node \
  test/live_load_amoc_SUITE.erl:worker_killed_mid_run
# exported to the recipe of `make reliability' only: a global export would reach every sub-make
# (`make test''s fuzz smoke ran FUZZ_MIN minutes per target instead of its 10 s)
reliability: export SOAK_MIN := $(SOAK_MIN)
reliability: export FUZZ_MIN := $(FUZZ_MIN)
reliability reliability-table: export RELIABILITY_DIR := $(RELIABILITY_DIR)

.PHONY: reliability reliability-table

reliability: build ## every fault/bad-input/soak/fuzz row (SOAK_MIN=30, FUZZ_MIN=10), then one table
	@rm -rf $(RELIABILITY_DIR) && mkdir -p $(RELIABILITY_DIR) && \
	  { date -u +%Y-%m-%dT%H:%MZ; cut -d' ' -f1-3 /proc/loadavg; } > $(RELIABILITY_DIR)/started
	@status=0; secs=$$(awk "BEGIN{printf \"%d\", $(FUZZ_MIN) * 60}"); \
	for spec in $(RELIABILITY_SUITES); do \
	  s=$${spec%%:*}; sel=$${spec#$$s}; sel=$${sel#:}; n=$$(basename $$s .erl); \
	  case "$$sel" in "") args="";; @*) args="--group $${sel#@}";; *) args="--case $$sel";; esac; \
	  echo "=== reliability: $$s $$args"; \
	  RELIABILITY_OUT=$(RELIABILITY_DIR)/$$n.tsv LIVE_LOAD_RELIABILITY=1 $(REBAR) ct --suite $$s $$args || status=1; \
	done; \
	for f in browser sketch sketch-ops; do \
	  echo "=== reliability: make -C c_src fuzz-$$f FUZZ_SECONDS=$$secs"; \
	  t0=$$SECONDS; \
	  if $(MAKE) -s -C c_src fuzz-$$f FUZZ_SECONDS=$$secs > $(RELIABILITY_DIR)/fuzz-$$f.log 2>&1; then v=pass; else v=FAIL; status=1; fi; \
	  crashes=$$(bash mk/reliability_corpus.sh $$f); \
	  runs=$$(grep -ho 'Done [0-9]* runs' $(RELIABILITY_DIR)/fuzz-$$f.log | awk '{s+=$$2} END{print s+0}'); \
	  printf 'fuzzing: C %s (libFuzzer, ASan+UBSan)\t%s\t%s inputs in %d s, %s\n' "$$f" "$$v" "$$runs" "$$((SECONDS-t0))" "$$crashes" >> $(RELIABILITY_DIR)/c_fuzz.tsv; \
	done; \
	cut -d' ' -f1-3 /proc/loadavg > $(RELIABILITY_DIR)/ended; \
	bash mk/reliability_table.sh $(RELIABILITY_DIR) || status=1; \
	exit $$status

reliability-table: ## print the table of the last `make reliability' again
	@bash mk/reliability_table.sh $(RELIABILITY_DIR)
