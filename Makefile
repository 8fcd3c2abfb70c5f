# live_load — entry points. `make help` lists them. Every target that needs system packages
# depends on `setup`, so each works as the only command on a fresh Debian 12 machine.
#
# Feature areas add their own targets in mk/<area>.mk and may append to:
#   TEST_STEPS   extra make targets run by `make test` after the Erlang suites
#   BENCH_STEPS  make targets run by `make bench`

.DEFAULT_GOAL := help
SHELL := /bin/bash
REBAR ?= rebar3
export LIVE_LOAD_ROOT := $(CURDIR)

TEST_STEPS :=
BENCH_STEPS :=

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
	@bash scripts/run_tests.sh $(TEST_STEPS)

bench: setup ## every benchmark
	@set -e; for s in $(BENCH_STEPS); do $(MAKE) $$s; done

clean: ## remove build products
	-$(MAKE) -C c_src clean
	rm -rf _build/default/lib/live_load _build/test/lib/live_load

distclean: clean ## also remove node_modules and all of _build
	rm -rf _build node_modules
