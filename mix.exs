# The Elixir face of live_load: the same OTP application rebar3 builds (src/, include/, the C
# artefacts of c_src/ in priv/), plus the Elixir modules of lib/. No dependencies: hex.pm is not
# needed, and amoc and FLAME stay optional at runtime. guides/elixir.md tells how to use it.
defmodule Mix.Tasks.Compile.LiveLoadC do
  @moduledoc "Builds the C artefacts (DDSketch NIF, browser port) into priv/ with `make -C c_src`."
  @shortdoc "Builds live_load's C artefacts (make -C c_src)"
  use Mix.Task.Compiler

  @doc "Runs `make -C c_src` in the project directory; fails the compile when make fails."
  @impl Mix.Task.Compiler
  def run(_args) do
    case System.find_executable("make") do
      nil ->
        Mix.shell().error("live_load: `make` is not on PATH; the C artefacts cannot be built")
        {:error, []}

      make ->
        case System.cmd(make, ["-s", "-C", "c_src"], stderr_to_stdout: true) do
          {_out, 0} ->
            {:ok, []}

          {out, status} ->
            Mix.shell().error(out)
            Mix.shell().error("live_load: make -C c_src exited with status #{status}")
            {:error, []}
        end
    end
  end
end

defmodule LiveLoad.MixProject do
  use Mix.Project

  # One source of truth for the application's metadata: the file rebar3 reads.
  {:ok, [{:application, :live_load, app}]} = :file.consult("src/live_load.app.src")
  @app app

  def project do
    [
      app: :live_load,
      version: to_string(@app[:vsn]),
      elixir: "~> 1.14",
      description: to_string(@app[:description]),
      compilers: [:live_load_c | Mix.compilers()],
      erlc_paths: ["src"],
      erlc_include_path: "include",
      erlc_options: [
        :debug_info,
        :warn_missing_spec,
        :warn_export_vars,
        :warn_unused_import,
        :warn_obsolete_guard
      ],
      elixirc_paths: elixirc_paths(Mix.env()),
      test_paths: ["test/elixir"],
      test_pattern: "*_test.exs",
      # rebar3 owns _build/default and _build/test; mix builds into _build/mix/<env> (as a
      # dependency, the parent project's build path is used instead)
      build_path: "_build/mix",
      deps: [],
      docs: [main: "elixir", extras: ["guides/elixir.md"]]
    ]
  end

  def application do
    [
      mod: @app[:mod],
      registered: @app[:registered],
      extra_applications: @app[:applications] -- [:kernel, :stdlib]
    ]
  end

  defp elixirc_paths(:test), do: ["lib", "test/elixir/support"]
  defp elixirc_paths(_), do: ["lib"]
end
