defmodule LiveLoad.AppDependencyTest do
  # An app that adds live_load with `{:live_load, path: ...}` and nothing else: mix builds live_load
  # (Erlang, C via make, Elixir) as a dependency, and `mix live_load.run NAME` finds the app's
  # scenario in test/load/ and runs it against the demo target.
  use ExUnit.Case, async: false

  alias LiveLoad.TestTarget, as: T

  @root Path.expand("../..", __DIR__)

  test "mix live_load.run NAME in an app with a path dependency" do
    # under _build/ (ignored by git); kept between runs so live_load is not rebuilt every time
    dir = Path.join(@root, "_build/mix/app_dependency_test")
    File.mkdir_p!(dir)

    File.write!(Path.join(dir, "mix.exs"), """
    defmodule MyApp.MixProject do
      use Mix.Project
      def project, do: [app: :my_app, version: "0.1.0", deps: [{:live_load, path: #{inspect(@root)}}]]
    end
    """)

    File.mkdir_p!(Path.join(dir, "test/load"))

    File.write!(Path.join(dir, "test/load/clicks.exs"), """
    defmodule MyApp.Load.Clicks do
      use LiveLoad.Scenario

      @impl true
      def run(ctx, _user_id, config) do
        ctx
        |> navigate(config.base_url <> "/counter")
        |> wait_for_liveview()
        |> click("#inc")
        |> wait_for_phx_loading_completion(:click, "#inc")
      end
    end
    """)

    json = Path.join(dir, "result.json")
    File.rm(json)

    {out, status} =
      System.cmd(
        "mix",
        [
          "live_load.run",
          "clicks",
          "--users",
          "1",
          "--duration",
          "8s",
          "--base-url",
          T.url(),
          "--json",
          json,
          "--quiet"
        ],
        cd: dir,
        stderr_to_stdout: true,
        env: [{"MIX_ENV", "dev"}, {"MIX_BUILD_PATH", nil}]
      )

    assert status == 0, out
    assert File.dir?(Path.join(dir, "_build/dev/lib/live_load/ebin"))
    {:ok, [r]} = LiveLoad.Result.read_results(File.read!(json))
    assert r.run["scenario"] == "Elixir.MyApp.Load.Clicks"
    assert %{"ok" => ok, "failed" => 0} = LiveLoad.Result.iterations(r)
    assert ok >= 1
  end
end
