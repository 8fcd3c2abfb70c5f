# The Elixir suite: real Chromium (through the port) against the demo LiveView target.
# Run with `mix test` (or `make elixir-test`). amoc, FLAME and Kino are optional at runtime: the
# cases tagged :amoc need amoc on the code path, :flame FLAME, :kino Kino (all three from hand
# builds: ERL_LIBS=/work/amoc_build/libs:/work/flame_build/libs:/work/kino_build/libs mix test);
# they are excluded, with the reason printed, when it is absent. :without_flame runs only where
# FLAME is absent.
LiveLoad.TestTarget.start()

absent =
  [
    amoc: {Code.ensure_loaded?(:amoc), "amoc is not on the code path (code:which(amoc) =:= :non_existing)"},
    flame:
      {Code.ensure_loaded?(FLAME), "FLAME is not on the code path (Code.ensure_loaded?(FLAME) is false)"},
    kino: {Code.ensure_loaded?(Kino), "Kino is not on the code path (Code.ensure_loaded?(Kino) is false)"}
  ]
  |> Enum.reject(fn {_tag, {loaded?, _}} -> loaded? end)

for {tag, {_, why}} <- absent do
  IO.puts("live_load: tests tagged :#{tag} are excluded: #{why}; add it with ERL_LIBS (guides/elixir.md)")
end

exclude = Keyword.keys(absent) ++ if(Keyword.has_key?(absent, :flame), do: [], else: [:without_flame])
ExUnit.start(timeout: 300_000, exclude: exclude)
