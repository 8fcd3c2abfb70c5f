# amoc area: the amoc engine and its suites (guides/distributed.md).
# amoc 4.1 and telemetry are not in the repository: give their built libs with AMOC_LIBS, e.g.
#   AMOC_LIBS=/path/to/built/libs make amoc-test
# (a directory holding amoc-4.1.0/ and telemetry-1.3.0/ with their ebin/). Without amoc the
# suites skip and say why; `make test` runs them that way (or for real when ERL_LIBS has amoc).
.PHONY: amoc-test

AMOC_LIBS ?=
AMOC_SUITES := test/live_load_amoc_SUITE

amoc-test: build ## amoc suites with real amoc: AMOC_LIBS=/path/to/built/libs make amoc-test
	ERL_LIBS="$(AMOC_LIBS)$(if $(ERL_LIBS),:$(ERL_LIBS),)" rebar3 ct --suite $(AMOC_SUITES)
