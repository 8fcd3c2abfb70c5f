defmodule LiveLoad.DistributedTest do
  # Elixir scenarios on amoc: `:amoc.do` on this node, `:amoc_dist.do` on a master with 2 real
  # peer workers, and LiveLoad.run(distributed?: true) forming its own cluster. The scenario is
  # the example .exs file: a module compiled in memory, whose object code `use LiveLoad.Scenario`
  # keeps so that amoc and live_load can load it on the workers. Needs amoc on the code path
  # (ERL_LIBS=/work/amoc_build/libs mix test): the :amoc tag is excluded otherwise
  # (test_helper.exs says why).
  use ExUnit.Case, async: false

  alias LiveLoad.Examples.CounterScenario
  alias LiveLoad.TestTarget, as: T

  @moduletag :amoc
  @root Path.expand("../..", __DIR__)

  setup_all do
    Code.require_file(Path.join(@root, "scenarios/elixir/counter_scenario.exs"))
    :ok
  end

  setup do
    on_exit(fn ->
      for c <- Process.get(:clusters, []), do: :live_load_cluster.stop(c)
      :live_load_amoc_engine.forget_master_run()
      Application.stop(:amoc)
    end)
  end

  # apply/3 for amoc's modules: amoc is not on the code path when this file compiles without it
  defp amoc(m, f, a), do: apply(m, f, a)

  test "the .exs scenario's object code is findable: what amoc and live_load send to workers" do
    assert {CounterScenario, bin, file} = :code.get_object_code(CounterScenario)
    assert file |> to_string() |> String.ends_with?("Elixir.LiveLoad.Examples.CounterScenario.beam")
    assert {:ok, {CounterScenario, md5}} = :beam_lib.md5(bin)
    assert md5 == CounterScenario.module_info(:md5)
  end

  test ":amoc.do runs the Elixir scenario on this node through live_load_amoc_scenario" do
    {:ok, _} = Application.ensure_all_started(:amoc)
    :ok = amoc(:amoc_code_server, :add_module, [CounterScenario])
    :live_load_metrics.reset()
    # browserless users: the case is about amoc running the Elixir run/3, not about Chromium
    settings = [base_url: T.url(), scenario_duration: 4_000, live_load_options: %{connection: :protocol}]
    assert :ok = amoc(:amoc, :do, [CounterScenario, 2, settings])
    assert {:ok, r} = amoc(:live_load_amoc, :await_result, [CounterScenario, 120_000])
    _ = amoc(:amoc, :stop, [])
    assert %{"ok" => ok, "failed" => 0} = r["run"]["iterations"]
    assert ok >= 1
    assert r["metrics"]["liveview.event"]["by"]["event"]["inc"]["count"] == ok
  end

  test ":amoc_dist.do(Elixir scenario, 4, ...) on a master with 2 peer workers" do
    {:ok, c} = :live_load_cluster.start(%{provider: :peer, nodes: 2}, %{users: 4})
    Process.put(:clusters, [c])
    workers = :live_load_cluster.nodes(c)
    assert length(workers) == 2

    assert {:ok, _} =
             amoc(:amoc_dist, :do, [
               CounterScenario,
               4,
               # browserless users: no Chromium to start on each worker, a short run even on a
               # loaded machine (LiveLoad.run below runs browsers on workers)
               [base_url: T.url(), scenario_duration: 5_000, live_load_options: %{connection: :protocol}]
             ])

    assert {:ok, r} = amoc(:live_load_amoc, :await_result, [CounterScenario, 180_000])
    _ = amoc(:amoc_dist, :stop, [])
    result = LiveLoad.Result.from_map(r)
    assert %{"ok" => ok, "failed" => 0} = LiveLoad.Result.iterations(result)
    assert ok >= 2
    assert Map.keys(result.metrics["liveview.event"]["by"]["connection"]) == ["protocol"]
    # the iterations ran on both workers (each ran the Elixir run/3 it was sent)
    per_node = Map.new(result.nodes, &{&1["node"], &1["counters"]["iterations"]})
    assert Enum.sort(Map.keys(per_node)) == Enum.sort(Enum.map(workers, &Atom.to_string/1))
    assert Enum.all?(Map.values(per_node), &(&1 > 0)), inspect(result.nodes, limit: 5)
  end

  test "LiveLoad.run(distributed?: true, cluster_opts: [provider: :peer, nodes: 2]) forms and tears down its cluster" do
    before = Node.list()

    %{CounterScenario => %LiveLoad.Result{} = r} =
      LiveLoad.run(
        scenario: CounterScenario,
        users: 2,
        scenario_duration: 15_000,
        base_url: T.url(),
        quiet: true,
        distributed?: true,
        cluster_opts: [provider: :peer, nodes: 2]
      )

    assert %{"ok" => ok, "failed" => 0} = LiveLoad.Result.iterations(r)
    assert ok >= 2
    assert r.run["engine"] == "amoc"
    assert [_, _] = r.run["cluster"]["nodes"]
    assert Enum.sort(Enum.map(r.nodes, & &1["node"])) == Enum.sort(r.run["cluster"]["nodes"])
    assert Node.list() -- before == []
  end
end
