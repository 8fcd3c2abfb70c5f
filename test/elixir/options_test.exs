defmodule LiveLoad.OptionsTest do
  # The options of LiveLoad.run/1 that carry core features to Elixir: per-user data (ctx.data),
  # thresholds (run's and the scenario's thresholds/1), config_keys/0, scenarios:, user_rate:,
  # iteration_timeout:, connection:, keyword lists for nested options, and the sentences of
  # format_error/1. The runs use browserless protocol users: a few seconds each.
  use ExUnit.Case, async: false

  alias LiveLoad.Examples.LoginScenario
  alias LiveLoad.Test.SlowScenario
  alias LiveLoad.TestTarget, as: T

  @root Path.expand("../..", __DIR__)

  setup_all do
    Code.require_file(Path.join(@root, "scenarios/elixir/login_scenario.exs"))
    Code.require_file(Path.join(__DIR__, "fixtures/slow_scenario.exs"))
    :ok
  end

  test "data: a CSV file signs N protocol users in with N distinct accounts; thresholds; recorded options" do
    names = for i <- 1..3, do: "user#{i}"
    csv = Path.join(System.tmp_dir!(), "live_load_users_#{System.unique_integer([:positive])}.csv")
    on_exit(fn -> File.rm(csv) end)

    File.write!(
      csv,
      ["username,password\n" | Enum.map(names, &"#{&1},#{:live_load_demo_login.password(&1)}\n")]
    )

    before = :live_load_demo_login.logins()

    %{LoginScenario => %LiveLoad.Result{} = r} =
      LiveLoad.run(
        scenarios: [LoginScenario],
        connection: :protocol,
        protocol_opts: [],
        users: 3,
        user_rate: 6_000,
        iteration_timeout: 20_000,
        scenario_duration: 2_000,
        data: [source: csv, strategy: :per_user],
        thresholds: ["iterations.count >= 3"],
        base_url: T.url(),
        quiet: true
      )

    signed_in = Map.new(names, &{&1, Map.get(:live_load_demo_login.logins(), &1, 0) - Map.get(before, &1, 0)})
    assert %{"ok" => ok, "failed" => 0} = LiveLoad.Result.iterations(r)
    # each user signed in with its own row, every iteration (the scenario fails otherwise)
    assert Enum.all?(signed_in, fn {_, n} -> n > 0 end), inspect(signed_in)
    assert Enum.sum(Map.values(signed_in)) == ok
    # the run's threshold, then the scenario's thresholds/1
    assert [
             %{"expression" => "iterations.count >= 3", "pass" => true},
             %{"expression" => expr, "pass" => true}
           ] = r.thresholds

    assert expr == "iterations.failed_rate == 0%"
    assert LiveLoad.Result.passed?(r) == true
    refute Map.has_key?(r.extra, "thresholds")
    assert {:ok, ^r} = LiveLoad.Result.from_json(LiveLoad.Result.to_json(r))

    # maps that may hold secrets are recorded as their key names, data as its source and strategy
    assert %{"user_rate" => 6_000, "iteration_timeout" => 20_000, "protocol_opts" => []} = r.run["options"]
    assert r.run["options"]["data"] == %{"source" => csv, "strategy" => "per_user"}
    assert Map.keys(r.metrics["liveview.event"]["by"]["connection"]) == ["protocol"]
  end

  test "iteration_timeout: an iteration longer than it is killed and its user failed" do
    %{SlowScenario => r} =
      LiveLoad.run(
        scenario: SlowScenario,
        connection: :protocol,
        users: 1,
        # well below the 200 ms #slow click (TestTarget), so a busy machine's late timer still
        # kills it before the reply
        iteration_timeout: 50,
        scenario_duration: 2_000,
        base_url: T.url(),
        quiet: true
      )

    assert %{"ok" => 0, "failed" => 1} = LiveLoad.Result.iterations(r)
    assert %{"failed" => 1} = r.run["users"]
    assert [%{"kind" => "iteration_timeout", "message" => "iteration killed after 50 ms"}] = r.errors
    assert r.thresholds == nil
    assert LiveLoad.Result.passed?(r) == nil
  end

  test "nested options as keyword lists become the maps the core checks" do
    {:ok, map} =
      LiveLoad.options(
        scenario: LoginScenario,
        users: [browser: 2, protocol: 1],
        distributed?: true,
        cluster_opts: [provider: :ssh, hosts: ["h1"], ssh: [port: 2222, user: "me", options: ["-o", "A=b"]]],
        data: [rows: [[username: "a"], %{"username" => "b"}], strategy: :random, seed: 3],
        browser_connection_opts: [max_users: 16, args: ["--lang=en"]],
        protocol_opts: [],
        flame_backend: {Some.Backend, [size: 1]}
      )

    assert map.users == %{browser: 2, protocol: 1}
    assert map.distributed == true
    refute Map.has_key?(map, :distributed?)
    assert map.cluster_opts.ssh == %{port: 2222, user: "me", options: ["-o", "A=b"]}
    assert :live_load_cluster_opts.validate(map.cluster_opts) == :ok
    assert map.data == %{rows: [%{username: "a"}, %{"username" => "b"}], strategy: :random, seed: 3}
    assert :live_load_data.check_spec(map.data) == :ok
    assert map.browser_connection_opts == %{max_users: 16, args: ["--lang=en"]}
    assert map.protocol_opts == %{}
    # a backend's own options stay a keyword list, as FLAME.Pool takes them
    assert map.flame_backend == {Some.Backend, [size: 1]}
    # the core refuses what is wrong inside a converted option, naming it
    assert {:error, {:invalid_option, :browser_connection_opts, %{max_users: 0}}} =
             LiveLoad.try_run(scenario: LoginScenario, browser_connection_opts: [max_users: 0])

    assert {:error, {:invalid_option, :data, {:strategy, :each}}} =
             LiveLoad.try_run(scenario: LoginScenario, data: [rows: [[a: 1]], strategy: :each])
  end

  test "option errors read as sentences with Elixir names" do
    s = LoginScenario

    assert {:error, {:unknown_option, :usres, %{did_you_mean: [:users]}} = e} =
             LiveLoad.try_run(scenario: s, usres: 3)

    assert LiveLoad.format_error(e) =~ "unknown option usres (did you mean users:?)"

    assert {:error, {:unknown_option, :distributd, %{did_you_mean: [:distributed]}} = e} =
             LiveLoad.try_run(scenario: s, distributd: true)

    assert LiveLoad.format_error(e) =~ "unknown option distributd (did you mean distributed?:?)"
    # a key the scenario declares with config_keys/0 is config, and its misspelling is caught
    assert {:error, {:unknown_option, :login_pth, %{did_you_mean: [:login_path]}}} =
             LiveLoad.try_run(scenario: s, login_pth: "/x")

    assert {:error, {:option_needs, :cluster_opts, %{distributed: true}} = e} =
             LiveLoad.try_run(scenario: s, cluster_opts: [nodes: 2])

    assert LiveLoad.format_error(e) ==
             "cluster_opts: is used only with distributed?: true (it would be ignored otherwise)"

    assert_raise ArgumentError,
                 ~r/^LiveLoad.run\/1: flame_backend: is used only with distributed\?: true/,
                 fn ->
                   LiveLoad.run(scenario: s, flame_backend: Some.Backend)
                 end

    assert LiveLoad.format_error({:unsupported_option, :x}) =~ "x: reserved, but not supported"

    assert LiveLoad.format_error({:invalid_option, {:cluster, :nodes}, 0}) ==
             "invalid cluster option (cluster_opts:) nodes: 0"

    assert LiveLoad.format_error({:cluster_failed, :n@h, {:flame_runner_on_master, FLAME.LocalBackend}}) =~
             "the cluster could not be formed: node n@h: flame_backend: FLAME.LocalBackend started its runner on this node"

    assert LiveLoad.format_error({:scenario_code_not_found, s}) =~
             "object code of LiveLoad.Examples.LoginScenario"

    assert LiveLoad.format_error({:cluster_failed, :flame_runner_1, {:flame_boot, :timeout}}) ==
             "the cluster could not be formed: node flame_runner_1: FLAME could not give a runner (flame_boot): :timeout"

    # reasons it does not know are shown as terms
    assert LiveLoad.format_error({:something, 1}) == "{:something, 1}"
  end
end
