defmodule LiveLoad.FLAMETest do
  # The FLAME cluster provider (LiveLoad.Cluster.FLAME) with real FLAME and real nodes: the
  # runners are OTP peer nodes booted by a test backend (LiveLoad.Test.FLAMEPeerBackend) running
  # FLAME's own terminator. FLAME is optional: the :flame cases need it on the code path
  # (ERL_LIBS=<dir with flame-x.y.z/ebin>), the distributed run amoc too; test_helper.exs
  # excludes them with the reason otherwise, and the :without_flame case runs instead.
  use ExUnit.Case, async: false

  alias LiveLoad.Cluster.FLAME, as: Provider
  alias LiveLoad.Examples.CounterScenario
  alias LiveLoad.Test.FLAMEPeerBackend
  alias LiveLoad.TestTarget, as: T

  @root Path.expand("../..", __DIR__)
  @pool LiveLoad.Cluster.FLAME.Pool

  setup_all do
    Code.require_file(Path.join(@root, "scenarios/elixir/counter_scenario.exs"))
    :ok
  end

  defp cluster_opts(backend, nodes),
    do: %{
      provider: Provider,
      provider_opts: %{backend: backend},
      nodes: nodes,
      amoc: false,
      boot_timeout: 60_000
    }

  defp wait_until(0, _fun), do: false
  defp wait_until(n, fun), do: fun.() || (Process.sleep(100) && false) || wait_until(n - 1, fun)

  test "option errors that do not depend on FLAME or amoc" do
    # flame_backend without distributed?: would be ignored: refused
    assert {:error, {:option_needs, :flame_backend, %{distributed: true}}} =
             LiveLoad.try_run(scenario: CounterScenario, flame_backend: FLAMEPeerBackend)

    # the command line's sentences (mix live_load.run, bin/live_load)
    assert IO.iodata_to_binary(
             :live_load_cli_errors.format({:flame_not_available, %{option: :flame_backend, reason: "why"}})
           ) == "flame_backend needs FLAME: why"

    assert IO.iodata_to_binary(:live_load_cli_errors.format({:invalid_option, :flame_backend, "x"})) =~
             "flame_backend must be a loaded FLAME backend module"
  end

  @tag :without_flame
  test "without FLAME: a precise error naming the option, before any node starts" do
    refute Code.ensure_loaded?(FLAME)

    assert {:error, {:flame_not_available, %{option: :flame_backend, reason: why}} = e} =
             Provider.check_backend(FLAMEPeerBackend)

    assert why =~ "FLAME is not on the code path"
    assert LiveLoad.format_error(e) =~ "flame_backend: needs FLAME: FLAME is not on the code path"

    assert {:error, {:cluster_failed, _, {:flame_not_available, _}}} =
             :live_load_cluster.start(cluster_opts(FLAMEPeerBackend, 1), %{users: 1})
  end

  @tag :flame
  test "check_backend: a backend that boots nodes passes; LocalBackend and non-backends are refused" do
    assert Provider.check_backend(FLAMEPeerBackend) == :ok
    assert Provider.check_backend({FLAMEPeerBackend, boot_timeout: 1_000}) == :ok

    assert {:error, {:flame_local_backend, FLAME.LocalBackend} = reason} =
             Provider.check_backend(FLAME.LocalBackend)

    assert LiveLoad.format_error(reason) =~ "FLAME.LocalBackend runs FLAME's runners inside this node"
    assert {:error, {:invalid_option, :flame_backend, String}} = Provider.check_backend(String)

    assert {:error, {:invalid_option, :flame_backend, {FLAMEPeerBackend, 3}}} =
             Provider.check_backend({FLAMEPeerBackend, 3})
  end

  @tag :flame
  test "2 FLAME runners become worker nodes with live_load started; stop shuts them down through FLAME" do
    {:ok, c} = :live_load_cluster.start(cluster_opts(FLAMEPeerBackend, 2), %{users: 2})
    workers = :live_load_cluster.nodes(c)

    try do
      assert [_, _] = workers
      refute node() in workers
      assert Enum.all?(workers, &(&1 in Node.list()))

      for w <- workers do
        assert :erpc.call(w, Application, :started_applications, [])
               |> Enum.any?(&match?({:live_load, _, _}, &1))

        # a FLAME runner: its terminator knows this node's runner as its parent
        assert :erpc.call(w, System, :get_env, ["FLAME_PARENT"]) != nil
      end
    after
      :ok = :live_load_cluster.stop(c)
    end

    assert wait_until(100, fn -> Enum.all?(workers, &(&1 not in Node.list())) end)
    assert wait_until(50, fn -> Process.whereis(@pool) == nil end)
  end

  @tag :flame
  test "FLAME.LocalBackend's runner is this node: refused as no worker, and the pool is stopped" do
    assert {:error, {:cluster_failed, _, {:flame_runner_on_master, FLAME.LocalBackend}}} =
             :live_load_cluster.start(cluster_opts(FLAME.LocalBackend, 1), %{users: 1})

    assert wait_until(50, fn -> Process.whereis(@pool) == nil end)
  end

  # needs amoc too: `make amoc-test` includes it only when FLAME is on ERL_LIBS as well
  # (`--only amoc` alone would run it, an include wins over the :flame exclusion)
  @tag :flame
  @tag amoc: :with_flame
  test "LiveLoad.run(distributed?: true, flame_backend: ...) runs the Elixir scenario on FLAME runners" do
    before = Node.list()
    opts = [scenario: CounterScenario, users: 2, scenario_duration: 15_000, base_url: T.url(), quiet: true]

    # the Erlang API with the backend as the command line's --set gives it (text)
    assert {:ok, %{cluster: %{provider: Provider, provider_opts: %{backend: FLAMEPeerBackend}}}} =
             :live_load_options.validate(%{
               scenario: CounterScenario,
               distributed: true,
               flame_backend: "LiveLoad.Test.FLAMEPeerBackend"
             })

    assert {:error, {:conflicting_options, :flame_backend, {:cluster, :provider}}} =
             LiveLoad.try_run(
               opts ++ [distributed?: true, flame_backend: FLAMEPeerBackend, cluster_opts: [provider: :peer]]
             )

    assert {:error, {:flame_local_backend, FLAME.LocalBackend}} =
             LiveLoad.try_run(opts ++ [distributed?: true, flame_backend: FLAME.LocalBackend])

    %{CounterScenario => %LiveLoad.Result{} = r} =
      LiveLoad.run(opts ++ [distributed?: true, flame_backend: FLAMEPeerBackend, cluster_opts: [nodes: 2]])

    assert %{"ok" => ok, "failed" => 0} = LiveLoad.Result.iterations(r)
    assert ok >= 2
    assert r.run["engine"] == "amoc"
    runners = r.run["cluster"]["nodes"]
    assert [_, _] = runners
    assert Enum.all?(runners, &String.starts_with?(&1, "live_load_flame_"))
    per_node = Map.new(r.nodes, &{&1["node"], &1["counters"]["iterations"]})
    assert Enum.sort(Map.keys(per_node)) == Enum.sort(runners)
    # the runners are gone after the run, and so is the pool
    assert wait_until(100, fn -> Node.list() -- before == [] end)
    assert Process.whereis(@pool) == nil
  end
end
