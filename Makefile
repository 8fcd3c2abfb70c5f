# live_load — entry points. `make help` lists them. Every target that needs system packages
# depends on `setup`, so each works as the only command on a fresh Debian 12 machine.
#
# Feature areas add their own targets in mk/<area>.mk and may append to:
#   TEST_STEPS       extra make targets run by `make test` after the Common Test suites, one at a
#                    time (steps that time things: real browsers, real servers)
#   TEST_STEPS_C     extra make targets of the C lane (`make -C c_src` only: fuzz smokes), run
#                    beside the BEAM lane before the timed steps (scripts/run_tests.sh)
#   TEST_STEPS_BEAM  extra make targets of the BEAM lane (rebar3 work that times nothing)
#   TEST_STEPS_MIX   extra make targets of the mix lane (mix work: its own _build/mix; its cases
#                    assert what happened, not how fast, so they run beside the other two lanes)
#   BENCH_STEPS  make targets run by `make bench`

.DEFAULT_GOAL := help
SHELL := /bin/bash
REBAR ?= rebar3
export LIVE_LOAD_ROOT := $(CURDIR)

TEST_STEPS :=
TEST_STEPS_C :=
TEST_STEPS_BEAM :=
TEST_STEPS_MIX :=
BENCH_STEPS :=
# seconds per libFuzzer target in `make test`'s fuzz smokes (the campaigns: make fuzz-*, make reliability)
FUZZ_SMOKE_SECONDS ?= 5

.PHONY: help setup build c-build c-test asan-test valgrind-test eunit ct lint xref dialyzer \
        test bench demo demo-target clean distclean

help: ## this list
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup: ## install system packages (apt) and npm packages; fast when already present
	@bash scripts/setup.sh

build: setup ## compile C (NIF, port) and Erlang
	$(REBAR) compile

c-build: setup ## build only the C artefacts into priv/
	$(MAKE) -C c_src

c-test: setup ## C unit tests (gcc and clang builds)
	$(MAKE) -C c_src test
	$(MAKE) -C c_src test CC=clang

asan-test: setup ## C unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
	$(MAKE) -C c_src asan-test CC=clang

valgrind-test: setup ## C unit tests under valgrind (leaks and memory errors fail)
	$(MAKE) -C c_src valgrind-test

eunit: build ## EUnit (and PropEr) tests
	$(REBAR) eunit

ct: build ## Common Test suites (real Chromium, real peer nodes)
	$(REBAR) ct $(if $(SUITE),--suite $(SUITE))

xref: build
	$(REBAR) xref

dialyzer: build
	$(REBAR) dialyzer

lint: xref dialyzer ## xref + dialyzer

include $(sort $(wildcard mk/*.mk))

test: setup ## everything CI runs: C tests (gcc, clang, ASan/UBSan, valgrind), fuzz smoke, EUnit, CT, xref, dialyzer
	@TEST_STEPS_C="$(TEST_STEPS_C)" TEST_STEPS_BEAM="$(TEST_STEPS_BEAM)" TEST_STEPS_MIX="$(TEST_STEPS_MIX)" bash scripts/run_tests.sh $(TEST_STEPS)

bench: setup ## every benchmark
	@set -e; for s in $(BENCH_STEPS); do $(MAKE) $$s; done

clean: ## remove build products
	-$(MAKE) -C c_src clean
	rm -rf _build/default/lib/live_load _build/test/lib/live_load

distclean: clean ## also remove node_modules and all of _build
	rm -rf _build node_modules
