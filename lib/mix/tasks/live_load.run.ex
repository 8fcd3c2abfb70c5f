defmodule Mix.Tasks.LiveLoad.Run do
  @shortdoc "Runs live_load scenarios (an app's test/load/ or priv/scenarios/) against a LiveView app"
  @moduledoc """
  Runs load-test scenarios with the options of `bin/live_load run` (guides/cli.md):

      mix live_load.run SCENARIO... [--users N] [--duration 60s] [--base-url URL]
                                    [--json F] [--md F] [--html F] [--set key=value ...]

  The project is compiled first (scenarios in `elixirc_paths` are compiled with the app).
  SCENARIO is one of:
  - a module: `MyApp.Load.Counter` (Elixir) or `my_counter_scenario` (Erlang);
  - a source file: `test/load/counter.exs`, `priv/scenarios/counter.ex` (required, every
    scenario module it defines runs) or `scenarios/counter.erl` (compiled and loaded);
  - a directory: every scenario of its `.ex`/`.exs` files;
  - a bare name looked up as `test/load/NAME.exs` (or `.ex`), then `priv/scenarios/NAME.exs`.

  The Markdown summary goes to stdout, progress to stderr; the exit status is the CLI's (0 ok,
  1 a scenario failed to run or had no successful iteration, 2 the run could not start).
  `mix live_load.run --help` prints every option.
  """
  use Mix.Task

  @lookup_dirs ["test/load", "priv/scenarios"]

  @doc "Runs the command line `args`; exits with the CLI's status when it is not 0."
  @impl Mix.Task
  @spec run([String.t()]) :: :ok
  def run(args) do
    Mix.Task.run("compile", [])
    Mix.Task.run("app.config", [])

    case :live_load_cli.parse([~c"run" | Enum.map(args, &String.to_charlist/1)]) do
      :help ->
        IO.puts(usage())

      {:error, reason} ->
        Mix.raise("live_load: #{format_error(reason)} (mix live_load.run --help)")

      {:ok, %{targets: targets} = cmd} ->
        modules = targets |> Enum.flat_map(&load(List.to_string(&1))) |> Enum.uniq()

        case :live_load_cli.run_modules(modules, cmd) do
          0 -> :ok
          status -> exit({:shutdown, status})
        end
    end
  end

  # this task's SCENARIO forms, then the options of the CLI's usage text
  defp usage do
    cli = IO.iodata_to_binary(:live_load_cli.usage())

    options =
      case String.split(cli, "\nOptions:\n", parts: 2) do
        [_, rest] -> "Options:\n" <> rest
        _ -> cli
      end

    """
    Usage: mix live_load.run SCENARIO... [options]

    SCENARIO: a module (MyApp.Load.Counter, my_erlang_scenario), a source file (.ex/.exs
    required, .erl compiled), a directory of .ex/.exs files, or a bare name looked up as
    test/load/NAME.exs (or .ex), then priv/scenarios/NAME.exs (or .ex).

    """ <> String.replace(options, "bin/live_load run", "mix live_load.run")
  end

  defp load(target) do
    cond do
      File.dir?(target) ->
        files = Path.wildcard(Path.join(target, "**/*.{ex,exs}"))
        if files == [], do: Mix.raise("live_load: no .ex or .exs file in #{target}")
        Enum.flat_map(files, &require_scenarios/1)

      Path.extname(target) in [".ex", ".exs"] ->
        require_scenarios(target)

      Path.extname(target) == ".erl" ->
        [compile_erl(target)]

      module = existing_module(target) ->
        [check!(module, target)]

      file = Enum.find(candidates(target), &File.regular?/1) ->
        require_scenarios(file)

      true ->
        Mix.raise(
          "live_load: unknown scenario #{target} (not a module, a file, or a name in #{Enum.join(@lookup_dirs, " or ")})"
        )
    end
  end

  defp candidates(name), do: for(dir <- @lookup_dirs, ext <- [".exs", ".ex"], do: Path.join(dir, name <> ext))

  # a module atom only for a module that exists (never an atom from the command line otherwise)
  defp existing_module(name) do
    Enum.find_value([name, "Elixir." <> name], fn n ->
      if :code.where_is_file(String.to_charlist(n <> ".beam")) != :non_existing or loaded_atom?(n) do
        m = String.to_atom(n)
        if Code.ensure_loaded?(m), do: m
      end
    end)
  end

  defp loaded_atom?(name) do
    Code.ensure_loaded?(String.to_existing_atom(name))
  rescue
    ArgumentError -> false
  end

  defp require_scenarios(file) do
    unless File.regular?(file), do: Mix.raise("live_load: no such file #{file}")
    defined = Enum.map(Code.require_file(file) || already_required(file), &elem(&1, 0))

    case for(m <- defined, :live_load_scenario.check(m) == :ok, do: m) do
      [] -> Mix.raise("live_load: #{file} defines no scenario (a module that uses LiveLoad.Scenario)")
      found -> Enum.sort(found)
    end
  end

  # a file required before in this VM (the task run twice from iex, or by a test): its modules
  defp already_required(file) do
    source = file |> Path.expand() |> String.to_charlist()

    for {m, _} <- :code.all_loaded(),
        function_exported?(m, :__info__, 1),
        m.module_info(:compile)[:source] == source,
        do: {m, nil}
  end

  defp compile_erl(file) do
    case :compile.file(String.to_charlist(file), [:binary, :return_errors, :debug_info]) do
      {:ok, m, bin} ->
        {:module, ^m} = :code.load_binary(m, String.to_charlist(file), bin)
        check!(m, file)

      {:ok, m, bin, _warnings} ->
        {:module, ^m} = :code.load_binary(m, String.to_charlist(file), bin)
        check!(m, file)

      {:error, errors, _warnings} ->
        Mix.raise("live_load: cannot compile #{file}: #{inspect(errors)}")
    end
  end

  defp check!(module, target) do
    case :live_load_scenario.check(module) do
      :ok -> module
      {:error, reason} -> Mix.raise("live_load: #{target}: #{LiveLoad.format_error(reason)}")
    end
  end

  defp format_error(:missing_scenario), do: "no scenario given"
  defp format_error({:unknown_option, flag}), do: "unknown option #{flag}"
  defp format_error({:missing_value, flag}), do: "#{flag} needs a value"
  defp format_error({:invalid_option, flag, value}), do: "invalid value for #{flag}: #{value}"
  defp format_error(other), do: inspect(other)
end
