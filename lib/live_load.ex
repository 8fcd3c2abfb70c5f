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

  # Options the Erlang core takes as maps, and inside them the keys that are maps again: a
  # keyword list reads better in Elixir and becomes the map here (`rows:` is a list of them).
  @cluster %{ssh: %{}, cost: %{}}
  @nested %{
    cluster_opts: @cluster,
    cluster: @cluster,
    data: %{rows: {:list, %{}}},
    browser_connection_opts: %{},
    protocol_opts: %{},
    users: %{}
  }

  @typedoc "What `run/1` gives per scenario: its result, or why it could not run."
  @type scenario_result :: LiveLoad.Result.t() | {:error, term()}

  @doc """
  Runs scenarios and returns `%{module => %LiveLoad.Result{}}` (a scenario that could not start
  has `{:error, reason}` instead). Options (keyword list; nested options as keyword lists or maps):

  - `scenario:` a module, `scenarios:` a list, or `otp_app:` every scenario module of an
    application (checked in that order); none given: the `:otp_app` of `config :live_load`, else
    the current Mix project's application
  - `users:` (default 1; `[browser: n, protocol: m]` for a hybrid run), `scenario_duration:` (ms,
    default 10 min), `iteration_timeout:` (ms, default 2 min), `user_rate:` (users started per
    minute), `on_failure:` (`:continue`, default, or `:stop_user`: a user ends at its first
    failed iteration)
  - `connection:` (`:browser`, default, or `:protocol`: browserless users speaking the LiveView
    wire protocol, guides/protocol.md) with `protocol_opts:`; `users_per_browser:` (default 8),
    `mode:` (`:faithful` | `:fast`), `browser_connection_adapter:`, `browser_connection_opts:`
    (e.g. `[executable: "/usr/bin/chromium"]`, guides/browser.md)
  - `quiet:`, `progress_interval:` (ms)
  - `thresholds:` pass/fail rules checked on each result (`["liveview.event.p95 < 200ms"]`,
    guides/ci.md), then the scenario's own `thresholds/1`; the verdicts are in the result's
    `thresholds` field
  - `data:` per-user rows, `[source: "users.csv", strategy: :per_user]` or `[rows: [%{...}]]`:
    each iteration's row is `ctx.data` (guides/ci.md)
  - `prometheus:` an address (`"127.0.0.1:9568"`) serving `/metrics` during the run
  - `engine:` (`:local`, default; `:amoc`: users run by amoc on this node), `distributed?:`
    (default false) with `cluster_opts:` (`[provider: :peer, nodes: 2]`, guides/distributed.md);
    both need amoc on the code path
  - `flame_backend:` (with `distributed?: true`) a FLAME backend module, or `{module, opts}`: the
    worker nodes are FLAME runners (`LiveLoad.Cluster.FLAME`, needs FLAME on the code path)
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
  `{:error, {:unknown_option, :usres, %{did_you_mean: [:users]}}}`,
  `{:error, {:option_needs, :cluster_opts, %{distributed: true}}}`,
  `{:error, {:flame_not_available, %{option: :flame_backend, reason: text}}}`.
  `format_error/1` makes a sentence of any of them.
  """
  @spec try_run(keyword()) :: {:ok, %{module() => scenario_result()}} | {:error, term()}
  def try_run(opts) do
    with {:ok, map} <- options(opts) do
      case :live_load.run(map) do
        {:error, _} = error -> error
        results when is_map(results) -> {:ok, Map.new(results, fn {m, r} -> {m, result(r)} end)}
      end
    end
  end

  @doc """
  The options map `live_load:run/1` gets for `opts`: Elixir names renamed (`distributed?:` is
  `distributed`), nested keyword lists made maps (`cluster_opts:` and its `ssh:` and `cost:`,
  `data:` and its `rows:`, `browser_connection_opts:`, `protocol_opts:`, `users:`), and the
  default scenario source (`otp_app:`) added. `{:error, {:invalid_option, bad}}` for a list that
  is not a keyword list. What `run/1` calls; useful to call `:live_load.run/1` yourself.
  """
  @spec options(keyword()) :: {:ok, map()} | {:error, term()}
  def options(opts) when is_list(opts) do
    if Keyword.keyword?(opts) do
      map =
        opts
        |> Enum.reverse()
        |> Map.new(fn {k, v} -> {Map.get(@renamed, k, k), v} end)
        |> Map.new(fn {k, v} -> {k, nested(Map.get(@nested, k), v)} end)

      {:ok, default_scenarios(map)}
    else
      {:error, {:invalid_option, Enum.find(opts, &(not match?({k, _} when is_atom(k), &1)))}}
    end
  end

  def options(other), do: {:error, {:invalid_option, :options, other}}

  @doc "A readable sentence for an error of `try_run/1` (options named as in Elixir)."
  @spec format_error(term()) :: String.t()
  def format_error({:invalid_option, {:cluster, key}, value}),
    do: "invalid cluster option (cluster_opts:) #{key}: #{inspect(value)}"

  def format_error({:invalid_option, name, value}),
    do: "invalid option #{elixir_name(name)}: #{inspect(value)}"

  def format_error({:invalid_option, bad}), do: "invalid option #{inspect(bad)} (expected a keyword list)"

  def format_error({:unknown_option, name, %{did_you_mean: close}}),
    do:
      "unknown option #{option_text(name)} (did you mean #{Enum.map_join(close, " or ", &"#{elixir_name(&1)}:")}?); " <>
        "a scenario declares its own config keys with config_keys/0"

  def format_error({:option_needs, name, needs}),
    do:
      "#{elixir_name(name)}: is used only with " <>
        Enum.map_join(needs, ", ", fn {k, v} -> "#{elixir_name(k)}: #{inspect(v)}" end) <>
        " (it would be ignored otherwise)"

  def format_error({:unsupported_option, name}),
    do: "#{elixir_name(name)}: reserved, but not supported by this build; remove it"

  def format_error({:missing_option, :scenario}), do: "no scenario given (scenario:, scenarios: or otp_app:)"
  def format_error({:missing_option, name}), do: "missing option #{elixir_name(name)}"
  def format_error({:unknown_scenario, m}), do: "unknown scenario #{inspect(m)} (no such module)"

  def format_error({:not_a_scenario, m}),
    do:
      "#{inspect(m)} is not a scenario (use LiveLoad.Scenario, or -behaviour(live_load_scenario) with run/3)"

  def format_error({:unknown_application, app}), do: "otp_app: unknown application #{inspect(app)}"
  def format_error({:no_scenarios, app}), do: "otp_app: application #{inspect(app)} has no scenario module"

  def format_error(:distributed_requires_amoc),
    do: "distributed?: true needs the amoc engine (amoc on the code path)"

  def format_error({:amoc_not_available, %{option: option, reason: reason}}),
    do: "#{elixir_name(option)}: needs amoc: #{reason}"

  def format_error({:flame_not_available, %{option: option, reason: reason}}),
    do: "#{elixir_name(option)}: needs FLAME: #{reason}"

  def format_error({:flame_local_backend, backend}),
    do:
      "flame_backend: #{inspect(backend)} runs FLAME's runners inside this node, so there would be no " <>
        "worker node to run users on; give a backend that boots nodes (FLAME.FlyBackend, your own), " <>
        "or run without distributed?: (one node)"

  def format_error({:flame_runner_on_master, backend}),
    do:
      "flame_backend: #{inspect(backend)} started its runner on this node, not on a worker node " <>
        "(a backend that runs in place, like FLAME.LocalBackend, cannot form a cluster)"

  def format_error({:flame_pool_in_use, pool}),
    do: "flame_backend: another distributed run of this node is using FLAME (#{inspect(pool)} is running)"

  def format_error({tag, reason}) when tag in [:flame_boot, :flame_place_child, :flame_pool],
    do: "FLAME could not give a runner (#{tag}): #{inspect(reason)}"

  def format_error({:conflicting_options, :flame_backend, {:cluster, :provider}}),
    do: "flame_backend: chooses how worker nodes start; remove the cluster option provider: (cluster_opts:)"

  def format_error({:cluster_failed, node, reason}),
    do: "the cluster could not be formed: node #{node}: #{format_error(reason)}"

  def format_error({:scenario_code_not_found, m}),
    do:
      "the object code of #{inspect(m)} was not found to send it to worker nodes (a module compiled in " <>
        "memory by the parallel compiler, e.g. in an ExUnit test file: define it in a compiled .ex " <>
        "file or load it with Code.require_file/1)"

  def format_error(other), do: inspect(other)

  defp result(%{"format" => _} = map), do: LiveLoad.Result.from_map(map)
  defp result(other), do: other

  defp nested(nil, value), do: value
  defp nested({:list, inner}, list) when is_list(list), do: Enum.map(list, &nested(inner, &1))

  defp nested(inner, value) when is_map(inner) and (is_list(value) or is_map(value)) do
    if is_map(value) or Keyword.keyword?(value) do
      Map.new(value, fn {k, v} -> {k, nested(Map.get(inner, k), v)} end)
    else
      value
    end
  end

  defp nested(_inner, value), do: value

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

  defp elixir_name(name) do
    case Enum.find(@renamed, fn {_, erl} -> erl == name end) do
      {ex, _} -> ex
      nil -> name
    end
  end

  # an option name as the user wrote it (a binary from mix live_load.run's --set)
  defp option_text(name) when is_binary(name), do: name
  defp option_text(name), do: "#{elixir_name(name)}"
end
