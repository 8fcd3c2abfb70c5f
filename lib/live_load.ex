defmodule LiveLoad do
  @moduledoc """
  Load tests for Phoenix LiveView apps with real headless-Chromium users, from Elixir.

      results = LiveLoad.run(scenario: MyApp.Load.Counter, users: 8, scenario_duration: 60_000,
                             base_url: "http://127.0.0.1:4000")
      %{MyApp.Load.Counter => %LiveLoad.Result{} = result} = results
      IO.puts(LiveLoad.Reporter.Markdown.render!(result))

  Scenarios are modules that `use LiveLoad.Scenario`. The run is `live_load:run/1` (Erlang);
  guides/elixir.md and guides/scenarios.md describe every option.
  """

  # Elixir names whose Erlang option is spelled otherwise
  @renamed %{distributed?: :distributed}

  @typedoc "What `run/1` gives per scenario: its result, or why it could not run."
  @type scenario_result :: LiveLoad.Result.t() | {:error, term()}

  @doc """
  Runs scenarios and returns `%{module => %LiveLoad.Result{}}` (a scenario that could not start
  has `{:error, reason}` instead). Options (keyword list):

  - `scenario:` a module, `scenarios:` a list, or `otp_app:` every scenario module of an
    application (checked in that order); none given: the `:otp_app` of `config :live_load`, else
    the current Mix project's application
  - `users:` (default 1), `scenario_duration:` (ms, default 10 min), `iteration_timeout:` (ms,
    default 2 min), `user_rate:` (users started per minute), `users_per_browser:` (default 8),
    `mode:` (`:faithful` | `:fast`), `quiet:`, `progress_interval:` (ms),
    `browser_connection_adapter:`, `browser_connection_opts:`
  - `distributed?:` (default false) with `cluster_opts:`; `flame_backend:` (needs FLAME loaded)
  - anything else goes to the scenarios' `config/1` (as a map)

  Raises `ArgumentError` naming the option for a bad option (and for an unknown scenario, or a
  module that is not a scenario); `try_run/1` returns those as `{:error, reason}`.
  """
  @spec run(keyword()) :: %{module() => scenario_result()}
  def run(opts) do
    case try_run(opts) do
      {:ok, results} -> results
      {:error, reason} -> raise ArgumentError, "LiveLoad.run/1: " <> format_error(reason)
    end
  end

  @doc """
  Like `run/1`, without raising: `{:ok, %{module => result}}`, or `{:error, reason}` when the run
  could not start, e.g. `{:error, {:invalid_option, :users, -3}}`, `{:error, {:unknown_scenario, M}}`,
  `{:error, {:not_a_scenario, M}}`, `{:error, {:missing_option, :scenario}}`,
  `{:error, {:flame_not_loaded, backend}}`.
  """
  @spec try_run(keyword()) :: {:ok, %{module() => scenario_result()}} | {:error, term()}
  def try_run(opts) do
    with {:ok, map} <- options(opts),
         :ok <- check_flame(map) do
      case :live_load.run(map) do
        {:error, _} = error -> error
        results when is_map(results) -> {:ok, Map.new(results, fn {m, r} -> {m, result(r)} end)}
      end
    end
  end

  @doc "A readable sentence for an error of `try_run/1`."
  @spec format_error(term()) :: String.t()
  def format_error({:invalid_option, name, value}),
    do: "invalid option #{elixir_name(name)}: #{inspect(value)}"

  def format_error({:invalid_option, bad}), do: "invalid option #{inspect(bad)} (expected a keyword list)"
  def format_error({:missing_option, :scenario}), do: "no scenario given (scenario:, scenarios: or otp_app:)"
  def format_error({:unknown_scenario, m}), do: "unknown scenario #{inspect(m)} (no such module)"

  def format_error({:not_a_scenario, m}),
    do:
      "#{inspect(m)} is not a scenario (use LiveLoad.Scenario, or -behaviour(live_load_scenario) with run/3)"

  def format_error({:unknown_application, app}), do: "otp_app: unknown application #{inspect(app)}"
  def format_error({:no_scenarios, app}), do: "otp_app: application #{inspect(app)} has no scenario module"

  def format_error(:distributed_requires_amoc),
    do: "distributed?: true needs the amoc engine (amoc on the code path)"

  def format_error({:amoc_not_available, %{option: option, reason: reason}}),
    do: "#{elixir_name(option)}: #{reason}"

  def format_error({:flame_not_loaded, backend}),
    do:
      "flame_backend: #{inspect(backend)} needs FLAME (the :flame application) on the code path; it is not loaded"

  def format_error({:flame_unsupported, backend}),
    do:
      "flame_backend: #{inspect(backend)}: starting cluster nodes through FLAME is not supported by this live_load build yet"

  def format_error(other), do: inspect(other)

  defp result(%{"format" => _} = map), do: LiveLoad.Result.from_map(map)
  defp result(other), do: other

  defp options(opts) when is_list(opts) do
    if Keyword.keyword?(opts) do
      map =
        opts
        |> Enum.reverse()
        |> Map.new(fn {k, v} -> {Map.get(@renamed, k, k), v} end)
        |> keyword_to_map(:cluster_opts)

      {:ok, default_scenarios(map)}
    else
      {:error, {:invalid_option, Enum.find(opts, &(not match?({k, _} when is_atom(k), &1)))}}
    end
  end

  defp options(other), do: {:error, {:invalid_option, :options, other}}

  # nested options are maps in Erlang; a keyword list reads better in Elixir
  defp keyword_to_map(map, key) do
    case map do
      %{^key => [{k, _} | _] = kw} when is_atom(k) -> %{map | key => Map.new(kw)}
      _ -> map
    end
  end

  defp default_scenarios(map) do
    if Enum.any?([:scenario, :scenarios, :otp_app], &Map.has_key?(map, &1)) do
      map
    else
      case Application.get_env(:live_load, :otp_app) || mix_app() do
        nil -> map
        app -> Map.put(map, :otp_app, app)
      end
    end
  end

  defp mix_app do
    if Code.ensure_loaded?(Mix.Project) and Mix.Project.get() != nil, do: Mix.Project.config()[:app]
  end

  # The FLAME provider is optional at runtime, like amoc: without FLAME a precise error.
  defp check_flame(%{flame_backend: backend}) do
    if Code.ensure_loaded?(FLAME),
      do: {:error, {:flame_unsupported, backend}},
      else: {:error, {:flame_not_loaded, backend}}
  end

  defp check_flame(_), do: :ok

  defp elixir_name(name) do
    case Enum.find(@renamed, fn {_, erl} -> erl == name end) do
      {ex, _} -> ex
      nil -> name
    end
  end
end
