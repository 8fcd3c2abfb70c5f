defmodule LiveLoad.AppDependencyTest do
  # Apps that add live_load as a dependency and nothing else, built by mix in their own
  # directories under _build/ (ignored by git, kept between runs so live_load is not rebuilt
  # every time), each running `mix live_load.run NAME` against the demo target:
  # - with `{:live_load, path: ...}`: the `sh` example of guides/elixir.md, run as written (the
  #   guide's scenario in test/load/counter.exs, only the URL is this test's target), its output
  #   checked against the lines the guide shows;
  # - with `{:live_load, git: "file://<this checkout>", ref: <HEAD>}`: the committed code at HEAD,
  #   fetched and built by mix (C artefacts included), a scenario found in priv/scenarios/ run by
  #   browserless users.
  use ExUnit.Case, async: false

  alias LiveLoad.TestTarget, as: T

  @root Path.expand("../..", __DIR__)
  @guide Path.join(@root, "guides/elixir.md")

  defp app(dir, deps, files) do
    File.mkdir_p!(dir)
    # only this run's scenario files (the directory is kept between runs for its build)
    Enum.each(["test", "priv"], &File.rm_rf!(Path.join(dir, &1)))

    File.write!(Path.join(dir, "mix.exs"), """
    defmodule MyApp.MixProject do
      use Mix.Project
      def project, do: [app: :my_app, version: "0.1.0", deps: [#{deps}]]
    end
    """)

    for {path, text} <- files do
      File.mkdir_p!(Path.dirname(Path.join(dir, path)))
      File.write!(Path.join(dir, path), text)
    end
  end

  defp mix(dir, args) do
    System.cmd("mix", args,
      cd: dir,
      stderr_to_stdout: true,
      env: [{"MIX_ENV", "dev"}, {"MIX_BUILD_PATH", nil}, {"MIX_EXS", nil}]
    )
  end

  test "the guide's `mix live_load.run` example, in an app with a path dependency" do
    guide = File.read!(@guide)
    # the guide's scenario module (its first elixir block) is the app's test/load/counter.exs
    [scenario | _] =
      Regex.scan(~r/^```elixir\n(defmodule MyApp\.Load\.Counter.*?)^```$/ms, guide, capture: :all_but_first)

    [[block]] = Regex.scan(~r/^```sh\n(\$ mix live_load\.run .*?)^```$/ms, guide, capture: :all_but_first)
    ["$ " <> command | shown] = String.split(block, "\n", trim: true)
    [_, guide_url] = Regex.run(~r/--base-url (\S+)/, command)

    dir = Path.join(@root, "_build/mix/app_dependency_test")
    app(dir, "{:live_load, path: #{inspect(@root)}}", [{"test/load/counter.exs", hd(scenario)}])
    File.rm(Path.join(dir, "report.md"))
    args = command |> String.replace(guide_url, T.url()) |> OptionParser.split()
    assert ["mix" | mix_args] = args
    {out, status} = mix(dir, mix_args)

    assert status == 0, out
    assert File.dir?(Path.join(dir, "_build/dev/lib/live_load/ebin"))
    # every line the guide shows is printed, figures aside
    for line <- shown, line != "..." do
      pattern = line |> Regex.escape() |> String.replace(~r/\d+(\\\.\d+)?/, "\\d+(\\.\\d+)?")
      assert out =~ Regex.compile!("^" <> pattern <> "$", "m"), "#{line}\n--- printed:\n#{out}"
    end

    assert [_, ok] = Regex.run(~r/\| iterations \| failed 0, halted 0, ok (\d+) \|/, out)
    assert String.to_integer(ok) > 0
    assert File.read!(Path.join(dir, "report.md")) =~ "# live_load run: Elixir.MyApp.Load.Counter"
  end

  test "an app with a git: dependency (this checkout's HEAD) runs a scenario of priv/scenarios/" do
    {head, 0} = System.cmd("git", ["rev-parse", "HEAD"], cd: @root)
    dir = Path.join(@root, "_build/mix/git_dependency_test")

    app(dir, "{:live_load, git: #{inspect("file://" <> @root)}, ref: #{inspect(String.trim(head))}}", [
      {"priv/scenarios/clicks.exs",
       """
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
       """}
    ])

    json = Path.join(dir, "result.json")
    File.rm(json)
    {out, status} = mix(dir, ["deps.get"])
    assert status == 0, out

    # browserless users (the dependency's other C program): no Chromium to start, a short run
    {out, status} =
      mix(
        dir,
        ["live_load.run", "clicks", "--connection", "protocol", "--users", "2", "--duration", "3s"] ++
          ["--base-url", T.url(), "--json", json, "--quiet"]
      )

    assert status == 0, out
    assert File.dir?(Path.join(dir, "deps/live_load/.git"))

    for program <- ["live_load_browser", "live_load_protocol"],
        do: assert(File.exists?(Path.join(dir, "_build/dev/lib/live_load/priv/" <> program)))

    {:ok, [r]} = LiveLoad.Result.read_results(File.read!(json))
    assert r.run["scenario"] == "Elixir.MyApp.Load.Clicks"
    assert %{"ok" => ok, "failed" => 0} = LiveLoad.Result.iterations(r)
    assert ok >= 2
    assert Map.keys(r.metrics["liveview.event"]["by"]["connection"]) == ["protocol"]
  end
end
