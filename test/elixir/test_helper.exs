# The Elixir suite: real Chromium (through the port) against the demo LiveView target.
# Run with `mix test` (or `make elixir-test`); amoc tests run only where amoc is on the code path
# (ERL_LIBS=/work/amoc_build/lib mix test).
LiveLoad.TestTarget.start()
exclude = if Code.ensure_loaded?(:amoc), do: [], else: [:amoc]
ExUnit.start(timeout: 300_000, exclude: exclude)
