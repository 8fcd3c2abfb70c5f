# Elixir face (guides/elixir.md): the mix build of the same application plus lib/, and the ExUnit
# suite (every Context function against the demo target, LiveLoad.run/1, mix live_load.run, apps
# with path:/git: dependencies, the Livebook tour's cells, the guide's examples; amoc, FLAME and Kino
# cases when they are on ERL_LIBS). mix builds into _build/mix/<env>; rebar3's _build/default|test
# are untouched.

.PHONY: elixir-build elixir-test
TEST_STEPS_MIX += elixir-test

elixir-build: setup ## mix compile --warnings-as-errors (src/, C via make, lib/)
	mix compile --warnings-as-errors

elixir-test: setup ## ExUnit suite with real Chromium (ERL_LIBS=<amoc, FLAME, Kino libs> adds the :amoc, :flame, :kino cases)
	MIX_ENV=test mix compile --warnings-as-errors
	mix test
