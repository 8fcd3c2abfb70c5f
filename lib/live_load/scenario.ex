defmodule LiveLoad.Scenario do
  @moduledoc """
  A load-test scenario in Elixir.

      defmodule MyApp.Load.Counter do
        use LiveLoad.Scenario

        @impl true
        def config(opts), do: Map.put_new(opts, :base_url, "http://127.0.0.1:4000")

        @impl true
        def throttles(_config), do: [Rate.new(:clicks, 600)]

        @impl true
        def run(ctx, _user_id, config) do
          ctx
          |> navigate(config.base_url <> "/counter")
          |> wait_for_liveview()
          |> throttle(:clicks)
          |> click("#inc")
          |> wait_for_phx_loading_completion(:click, "#inc")
        end
      end

  `use LiveLoad.Scenario`:
  - declares this behaviour and the Erlang `live_load_scenario` one, so `LiveLoad.run/1`,
    `mix live_load.run`, `bin/live_load` and `otp_app:` discovery all find the module;
  - imports `LiveLoad.Scenario.Context` and aliases the throttles (`Rate`, `Interarrival`,
    `Parallelism`);
  - defines `config/1` (returns the options) and `throttles/1` (none), both overridable;
  - hands `run/3` a `LiveLoad.Scenario.Context` struct while the Erlang runner keeps its own value;
  - makes the module an amoc scenario as well (`init/0`, `start/2`, `terminate/1`, delegating to
    `live_load_amoc_scenario`), so `:amoc_dist.do(MyApp.Load.Counter, 1000, [])` works where amoc
    is loaded;
  - keeps the object code of a module compiled in memory (a `.exs` file, an iex or Livebook cell)
    in a beam file at the end of the code path, so distributed runs and amoc can send it to
    worker nodes (modules in ExUnit test files are not kept: put those in `test/support`).

  Optional callbacks besides `config/1` and `throttles/1`: `thresholds/1` and `config_keys/0`.
  """

  alias LiveLoad.Scenario.Context

  @doc "Once per node: the run options live_load did not consume (a map) → the config given to `run/3`."
  @callback config(opts :: map()) :: term()
  @doc "Once per node: the throttles the users share (`Rate`, `Interarrival`, `Parallelism` specs)."
  @callback throttles(config :: term()) :: [LiveLoad.Scenario.Throttle.spec()]
  @doc "One iteration of one user: a pipeline of `LiveLoad.Scenario.Context` steps."
  @callback run(ctx :: Context.t(), user_id :: pos_integer(), config :: term()) :: Context.t()
  @doc """
  Optional: pass/fail rules checked on the scenario's result, after the run's own `thresholds:`
  (`["liveview.event.p95 < 200ms", "iterations.failed == 0"]`, guides/ci.md). Gets the options
  map `config/1` gets.
  """
  @callback thresholds(opts :: map()) :: [String.t()]
  @doc """
  Optional: the config keys the scenario reads (atoms); a run option within two edits of one of
  them is then scenario config, not a misspelt live_load option, and a misspelling of them is
  refused with `{:unknown_option, name, %{did_you_mean: [key]}}`.
  """
  @callback config_keys() :: [atom()]
  @optional_callbacks config: 1, throttles: 1, thresholds: 1, config_keys: 0

  @amoc_delegate :live_load_amoc_scenario

  @doc false
  defmacro __using__(_opts) do
    quote do
      @behaviour LiveLoad.Scenario
      # The Erlang behaviours are recorded under the attribute's other spelling, which Erlang
      # (live_load_scenario:check/1, amoc_code_server) reads and Elixir's compiler does not check:
      # `@behaviour :live_load_scenario` would conflict with LiveLoad.Scenario's callbacks, and
      # `@behaviour :amoc_scenario` warns where amoc is not installed.
      Module.register_attribute(__MODULE__, :behavior, accumulate: true, persist: true)
      Module.put_attribute(__MODULE__, :behavior, :live_load_scenario)
      Module.put_attribute(__MODULE__, :behavior, :amoc_scenario)

      import LiveLoad.Scenario.Context
      alias LiveLoad.Scenario.Throttle.{Interarrival, Parallelism, Rate}

      # no @impl here: a module that uses @impl nowhere must not get warnings from these defaults
      @doc false
      def config(opts), do: opts

      @doc false
      def throttles(_config), do: []

      defoverridable config: 1, throttles: 1

      @doc false
      def init, do: LiveLoad.Scenario.amoc(:init, [__MODULE__])
      @doc false
      def start(user_id, state), do: LiveLoad.Scenario.amoc(:start, [__MODULE__, user_id, state])
      @doc false
      def terminate(state), do: LiveLoad.Scenario.amoc(:terminate, [__MODULE__, state])

      @before_compile LiveLoad.Scenario
      @after_compile LiveLoad.Scenario
    end
  end

  @doc false
  # a scenario compiled in memory keeps its object code findable, for worker nodes
  def __after_compile__(env, bytecode), do: LiveLoad.Scenario.ObjectCode.keep(env.module, bytecode)

  @doc false
  defmacro __before_compile__(env) do
    unless Module.defines?(env.module, {:run, 3}, :def) do
      raise CompileError,
        file: env.file,
        line: 0,
        description: "#{inspect(env.module)} uses LiveLoad.Scenario but defines no run/3"
    end

    quote do
      defoverridable run: 3

      def run(ctx, user_id, config) do
        LiveLoad.Scenario.Context.__run__(ctx, fn c -> super(c, user_id, config) end)
      end
    end
  end

  @doc """
  Calls the amoc scenario delegate `live_load_amoc_scenario` (`init/1`, `start/3`, `terminate/2`);
  what `use LiveLoad.Scenario`'s `init/0`, `start/2` and `terminate/1` do. Without the delegate in
  the build, `init` returns `{:error, :live_load_amoc_scenario_not_loaded}`.
  """
  @spec amoc(:init | :start | :terminate, [term()]) :: term()
  def amoc(fun, args) when fun in [:init, :start, :terminate] do
    delegate = @amoc_delegate

    cond do
      Code.ensure_loaded?(delegate) -> apply(delegate, fun, args)
      fun == :init -> {:error, :live_load_amoc_scenario_not_loaded}
      true -> :ok
    end
  end
end
