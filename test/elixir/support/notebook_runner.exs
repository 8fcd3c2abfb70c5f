# Runs a Livebook notebook without Livebook: every ```elixir cell of the .livemd, in order, with
# the bindings and the environment (imports, aliases) of one cell given to the next, as Livebook
# does, printing each cell's value.
# Any exception stops the run with exit status 1 (through exit/1, so System.at_exit/1 callbacks
# run: live_load's directory of in-memory scenario beams is removed). Also runs the examples of a
# Markdown guide; `--install PATH` first installs live_load from PATH (for files without a
# Mix.install cell).
#   elixir test/elixir/support/notebook_runner.exs notebooks/live_load_tour.livemd
#   elixir test/elixir/support/notebook_runner.exs guides/elixir.md --install .
{notebook, install} =
  case System.argv() do
    [notebook] -> {notebook, nil}
    [notebook, "--install", path] -> {notebook, Path.expand(path)}
  end

if install, do: Mix.install([{:live_load, path: install}])
file = Path.expand(notebook)

cells =
  Regex.scan(~r/^```elixir\n(.*?)^```$/ms, File.read!(file), capture: :all_but_first)
  |> Enum.map(fn [code] -> code end)

if cells == [],
  do:
    (
      IO.puts(:stderr, "no elixir cell in #{file}")
      exit({:shutdown, 1})
    )

Enum.reduce(Enum.with_index(cells, 1), {[], Code.env_for_eval(file: file)}, fn {code, n}, {binding, env} ->
  IO.puts("--- cell #{n}/#{length(cells)}")

  try do
    quoted = Code.string_to_quoted!(code, file: file)
    {value, binding, env} = Code.eval_quoted_with_env(quoted, binding, env)
    IO.puts("=> " <> inspect(value, limit: 20, printable_limit: 200))
    {binding, env}
  rescue
    e ->
      IO.puts(:stderr, "cell #{n} failed:\n" <> Exception.format(:error, e, __STACKTRACE__) <> "\n" <> code)
      exit({:shutdown, 1})
  catch
    kind, reason ->
      IO.puts(:stderr, "cell #{n} failed: #{inspect(kind)} #{inspect(reason)}\n" <> code)
      exit({:shutdown, 1})
  end
end)

IO.puts("--- notebook ok: #{length(cells)} cells")
