defmodule LiveLoad.RunTest do
  # LiveLoad.run/1, mix live_load.run, throttles, results and reporters, with real Chromium users
  # against the demo target.
  use ExUnit.Case, async: false

  alias LiveLoad.Examples.CounterScenario
  alias LiveLoad.Scenario.Throttle.{Interarrival, Parallelism, Rate}
  alias LiveLoad.Test.Shape
  alias LiveLoad.TestTarget, as: T

  @root Path.expand("../..", __DIR__)
  @scenario Path.join(@root, "scenarios/elixir/counter_scenario.exs")

  setup_all do
    Code.require_file(@scenario)
    twin = Path.join(__DIR__, "fixtures/live_load_elixir_twin_scenario.erl")
    {:ok, mod, bin} = :compile.file(String.to_charlist(twin), [:binary])
    {:module, ^mod} = :code.load_binary(mod, String.to_charlist(twin), bin)

    run = fn scenario ->
      LiveLoad.run(scenario: scenario, users: 2, scenario_duration: 10_000, base_url: T.url(), quiet: true)
    end

    %{elixir: run.(CounterScenario), erlang: run.(mod), twin: mod}
  end

  test "the README-style Elixir scenario runs with LiveLoad.run/1", %{elixir: results} do
    assert %{CounterScenario => %LiveLoad.Result{} = r} = results
    assert map_size(results) == 1
    assert r.format == "live_load.result/1"
    assert r.run["scenario"] == "Elixir.LiveLoad.Examples.CounterScenario"
    assert %{"ok" => ok, "failed" => 0} = LiveLoad.Result.iterations(r)
    assert ok >= 2
    # the click and the submit were timed in the page (the assigns-resolved selector found #inc)
    assert r.metrics["liveview.event"]["by"]["event"]["inc"]["count"] == ok
    assert r.metrics["liveview.event"]["by"]["event"]["search"]["count"] == ok
    assert r.errors == []
  end

  test "its result has the shape of the Erlang twin's", %{elixir: ex, erlang: erl, twin: twin} do
    %{^twin => %LiveLoad.Result{} = e} = erl
    assert %{"failed" => 0} = LiveLoad.Result.iterations(e)
    assert Shape.of(ex[CounterScenario]) == Shape.of(e)
  end

  test "mix live_load.run runs the .exs scenario with the CLI's options", %{elixir: ex} do
    json = Path.join(System.tmp_dir!(), "live_load_mix_run_#{System.unique_integer([:positive])}.json")
    md = json <> ".md"
    on_exit(fn -> File.rm(json) && File.rm(md) end)

    {out, status} =
      System.cmd(
        "mix",
        [
          "live_load.run",
          @scenario,
          "--users",
          "2",
          "--duration",
          "10s",
          "--base-url",
          T.url(),
          "--json",
          json,
          "--md",
          md,
          "--quiet",
          "--set",
          "button=inc"
        ],
        cd: @root,
        stderr_to_stdout: true,
        env: [{"MIX_ENV", "dev"}]
      )

    assert status == 0, out
    assert out =~ "# live_load run: Elixir.LiveLoad.Examples.CounterScenario"
    {:ok, [r]} = LiveLoad.Result.read_results(File.read!(json))
    assert %{"failed" => 0, "ok" => ok} = LiveLoad.Result.iterations(r)
    assert ok >= 2
    assert Shape.of(r) == Shape.of(ex[CounterScenario])
    assert File.read!(md) =~ "| liveview.event |"
  end

  test "mix live_load.run (in this VM): unknown scenario and bad options raise or exit 2 with the reason; --help" do
    import ExUnit.CaptureIO
    task = &Mix.Tasks.LiveLoad.Run.run/1

    assert_raise Mix.Error,
                 ~r/unknown scenario no_such_thing \(not a module, a file, or a name in test\/load or priv\/scenarios\)/,
                 fn ->
                   task.(["no_such_thing"])
                 end

    assert_raise Mix.Error, ~r/invalid value for --users: x/, fn -> task.([@scenario, "--users", "x"]) end
    assert_raise Mix.Error, ~r/String is not a scenario/, fn -> task.(["String"]) end

    # the run itself refuses: the CLI's sentence on stderr, exit status 2
    err =
      capture_io(:stderr, fn ->
        assert catch_exit(task.([@scenario, "--set", "flame_backend=x", "--quiet"])) == {:shutdown, 2}
      end)

    assert err =~ "live_load: flame_backend is used only with distributed => true"

    out = capture_io(fn -> task.(["--help"]) end)
    assert out =~ "Usage: mix live_load.run SCENARIO..."
    assert out =~ "test/load/NAME.exs"
    assert out =~ "--users N"
  end

  test "otp_app: finds the application's scenarios; a halted user counts as succeeded" do
    assert %{LiveLoad.Test.HaltScenario => %LiveLoad.Result{} = r} =
             LiveLoad.run(
               otp_app: :live_load,
               users: 1,
               scenario_duration: 10_000,
               base_url: T.url(),
               quiet: true
             )

    assert %{"halted" => 1, "ok" => 0, "failed" => 0} = LiveLoad.Result.iterations(r)
    assert r.run["users"]["failed"] == 0
  end

  test "bad options raise ArgumentError naming the option; try_run/1 returns the reason" do
    base = [scenario: CounterScenario, quiet: true]

    assert_raise ArgumentError, "LiveLoad.run/1: invalid option users: -3", fn ->
      LiveLoad.run(base ++ [users: -3])
    end

    assert_raise ArgumentError, ~r/invalid option scenario_duration: :infinity/, fn ->
      LiveLoad.run(base ++ [scenario_duration: :infinity])
    end

    assert {:error, {:invalid_option, :users, -3}} = LiveLoad.try_run(base ++ [users: -3])
    assert {:error, {:invalid_option, :distributed, "yes"}} = LiveLoad.try_run(base ++ [distributed?: "yes"])

    assert LiveLoad.format_error({:invalid_option, :distributed, "yes"}) ==
             ~s(invalid option distributed?: "yes")

    assert {:error, {:unknown_scenario, NoSuch.Module}} = LiveLoad.try_run(scenario: NoSuch.Module)
    assert {:error, {:not_a_scenario, String}} = LiveLoad.try_run(scenario: String)
    assert_raise ArgumentError, ~r/String is not a scenario/, fn -> LiveLoad.run(scenario: String) end
    assert {:error, {:invalid_option, {"users", 1}}} = LiveLoad.try_run([{"users", 1}])
    assert {:error, {:invalid_option, :options, %{}}} = LiveLoad.try_run(%{})
  end

  test "throttle builders give Erlang specs with an explicit interval in ms" do
    assert Rate.new(:v, 10) == %{name: :v, kind: :rate, rate: 10, interval: 60_000}
    assert Rate.new(:v, 10) |> Rate.interval(1000) == %{name: :v, kind: :rate, rate: 10, interval: 1000}

    assert :visitors |> Rate.new(10) |> Rate.ramp(100, duration: 60_000) ==
             %{
               name: :visitors,
               kind: :rate,
               rate: 10,
               interval: 60_000,
               ramp: %{to: 100, plan: %{duration: 60_000}}
             }

    assert %{ramp: %{to: 100, plan: %{steps: 10, interval: 5000}}, interarrival: 1000} =
             :polls |> Interarrival.new(1000) |> Interarrival.ramp(100, steps: 10, interval: 5000)

    assert Parallelism.new(:checkout, 4) == %{name: :checkout, kind: :parallelism, max: 4}
    assert_raise ArgumentError, "invalid throttle :v: rate -1", fn -> Rate.new(:v, -1) end

    assert_raise ArgumentError, ~r/give duration: ms, or steps: n and interval: ms/, fn ->
      Rate.ramp(Rate.new(:v, 1), 5, steps: 3)
    end

    assert_raise ArgumentError, ~r/expected a rate throttle spec/, fn ->
      Rate.ramp(Parallelism.new(:p, 1), 5, duration: 100)
    end

    # no Parallelism.ramp/3: the core refuses a ramp on a parallelism spec
    refute function_exported?(Parallelism, :ramp, 3)

    assert {:error, {:invalid_throttle, :ramp, _}} =
             :live_load_throttle.validate(
               :live_load_throttle.ramp(Parallelism.new(:p, 1), 2, %{duration: 100})
             )

    for spec <- [Rate.new(:a, 1), Interarrival.new(:b, 5), Parallelism.new(:c, 2)],
        do: assert(:live_load_throttle.validate(spec) == :ok)
  end

  test "Result: to_json/from_json round trip, the results file, a foreign format", %{elixir: ex} do
    r = ex[CounterScenario]
    json = LiveLoad.Result.to_json(r)
    assert {:ok, ^r} = LiveLoad.Result.from_json(json)
    assert {:ok, erl} = :live_load_result.from_json(json)
    assert LiveLoad.Result.to_map(r) == erl
    assert {:ok, [^r, ^r]} = LiveLoad.Result.read_results(LiveLoad.Result.results_to_json([r, r]))
    assert {:error, {:unsupported_format, "other/1"}} = LiveLoad.Result.from_json(~s({"format":"other/1"}))
  end

  test "reporters render a result, a list, or what run/1 returned", %{elixir: ex, erlang: erl} do
    md = LiveLoad.Reporter.Markdown.render!(ex)
    assert md =~ "# live_load run: Elixir.LiveLoad.Examples.CounterScenario"
    assert md =~ "| liveview.event |"
    assert LiveLoad.Reporter.Markdown.render!(ex[CounterScenario]) == md
    html = LiveLoad.Reporter.HTML.render!(ex)
    assert html =~ "<html"
    assert html =~ ~s(type="application/x-live-load-result")
    embedded = &length(String.split(&1, ~s(type="application/x-live-load-result")))
    both = LiveLoad.Reporter.HTML.render!([ex[CounterScenario] | Map.values(erl)])
    assert embedded.(both) == embedded.(html) + 1
    path = Path.join(System.tmp_dir!(), "live_load_report_#{System.unique_integer([:positive])}.html")
    assert LiveLoad.Reporter.HTML.write!(ex, path) == path
    assert File.read!(path) == html
    File.rm!(path)
    assert_raise ArgumentError, ~r/not a LiveLoad.Result/, fn -> LiveLoad.Reporter.Markdown.render!(:nope) end
  end

  test "use LiveLoad.Scenario: an Erlang live_load_scenario and an amoc scenario module" do
    # a variable: the module is defined when the test runs (setup_all), not when it compiles
    scenario = CounterScenario
    assert :live_load_scenario.check(CounterScenario) == :ok
    attrs = CounterScenario.module_info(:attributes)
    assert {:behavior, [:amoc_scenario]} in attrs
    assert {:behaviour, [LiveLoad.Scenario]} in attrs

    for {f, a} <- [init: 0, start: 2, terminate: 1, config: 1, throttles: 1, run: 3],
        do: assert(function_exported?(CounterScenario, f, a))

    assert scenario.config(%{}) == %{base_url: "http://127.0.0.1:4000", button: "inc"}
    assert LiveLoad.Test.HaltScenario.config(%{a: 1}) == %{a: 1}
    assert LiveLoad.Test.HaltScenario.throttles(%{}) == []

    unless Code.ensure_loaded?(:live_load_amoc_scenario),
      do: assert(scenario.init() == {:error, :live_load_amoc_scenario_not_loaded})
  end

  test "use LiveLoad.Scenario compiles without warnings with and without @impl; run/3 is required" do
    variants = [
      "def run(ctx, _id, _c), do: ctx",
      "@impl true\n def run(ctx, _id, _c), do: ctx",
      "@impl true\n def config(o), do: o\n @impl true\n def throttles(_), do: []\n @impl true\n def run(ctx, _id, _c), do: ctx",
      "def config(o), do: o\n def run(ctx, _id, _c), do: ctx"
    ]

    for {body, n} <- Enum.with_index(variants) do
      code = "defmodule LiveLoad.Test.Variant#{n} do\n use LiveLoad.Scenario\n #{body}\n end"
      stderr = ExUnit.CaptureIO.capture_io(:stderr, fn -> Code.compile_string(code) end)
      assert stderr == "", "#{code}\n#{stderr}"
    end

    assert_raise CompileError, ~r/uses LiveLoad.Scenario but defines no run\/3/, fn ->
      ExUnit.CaptureIO.capture_io(:stderr, fn ->
        Code.compile_string("defmodule LiveLoad.Test.NoRun do use LiveLoad.Scenario end")
      end)
    end
  end

  test "run/3 called from Elixir with a context struct returns a struct" do
    {:ok, ctx} = LiveLoad.Scenario.Context.new(timeout: 20_000)

    try do
      out = LiveLoad.Test.HaltScenario.run(ctx, 1, %{base_url: T.url()})
      assert %LiveLoad.Scenario.Context{} = out
      assert LiveLoad.Scenario.Context.halted?(out)
    after
      LiveLoad.Scenario.Context.close(ctx)
    end
  end
end
