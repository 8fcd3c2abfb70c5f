# amoc area: the amoc engine and every test that needs amoc (guides/distributed.md).
# amoc 4.1 and telemetry are not in the repository: give their built libs with AMOC_LIBS, a
# directory holding amoc-4.1.0/ebin and telemetry-1.3.0/ebin, e.g.
#   AMOC_LIBS=/path/to/libs make amoc-test
# It runs live_load_amoc_SUITE and the amoc and ssh groups of live_load_cluster_SUITE (amoc join,
# a run over ssh) in one Common Test run (test/live_load_amoc.spec), then the Elixir amoc case
# (mix test --only amoc; rebar3 and mix compile what they need). Without amoc those tests
# skip and say why; `make test` runs them that way (or for real when ERL_LIBS has amoc).
.PHONY: amoc-test

AMOC_LIBS ?=
AMOC_ERL_LIBS = $(AMOC_LIBS)$(if $(ERL_LIBS),:$(ERL_LIBS),)

amoc-test: ## every amoc test with real amoc: AMOC_LIBS=/path/to/libs make amoc-test
	@ERL_LIBS="$(AMOC_ERL_LIBS)" erl -noshell -eval 'case code:which(amoc) of non_existing -> io:format(standard_error, "amoc-test: amoc is not on ERL_LIBS=~ts: give AMOC_LIBS, a directory holding amoc-4.1.0/ebin and telemetry-1.3.0/ebin (guides/distributed.md)~n", [os:getenv("ERL_LIBS", "")]), halt(2); _ -> halt(0) end.'
	ERL_LIBS="$(AMOC_ERL_LIBS)" $(REBAR) ct --spec test/live_load_amoc.spec
	@# the Elixir amoc cases; the one that also needs FLAME (tag amoc: :with_flame) only when FLAME
	@# is on ERL_LIBS too
	ERL_LIBS="$(AMOC_ERL_LIBS)" MIX_ENV=test mix test --only amoc:true \
	  $$(ERL_LIBS="$(AMOC_ERL_LIBS)" erl -noshell -eval "case code:which('Elixir.FLAME') of non_existing -> ok; _ -> io:format(\"--include amoc:with_flame\") end, halt()." )
