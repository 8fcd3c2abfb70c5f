defmodule LiveLoad.NotebookTest do
  # notebooks/live_load_tour.livemd without Livebook: every Elixir cell in order, in a plain
  # `elixir` VM (Mix.install of this checkout, its own demo target, 4 users for 20 s), failing
  # on any error. Kino is absent here, so the HTML report must be written to a file.
  use ExUnit.Case, async: false

  @root Path.expand("../..", __DIR__)

  test "every Elixir cell of the tour runs in order" do
    html = Path.join(System.tmp_dir!(), "live_load_tour_#{System.unique_integer([:positive])}.html")
    on_exit(fn -> File.rm(html) end)

    {out, status} =
      System.cmd("elixir", ["test/elixir/support/notebook_runner.exs", "notebooks/live_load_tour.livemd"],
        cd: @root,
        stderr_to_stdout: true,
        env: [
          {"LIVE_LOAD_PATH", @root},
          {"LIVE_LOAD_TOUR_HTML", html},
          {"MIX_INSTALL_DIR", Path.join(@root, "_build/mix/notebook")},
          {"MIX_ENV", nil},
          {"MIX_BUILD_PATH", nil}
        ]
      )

    assert status == 0, out
    assert out =~ ~r/--- notebook ok: \d+ cells/
    # the exploration cells showed what they got
    assert out =~ ~s(=> {"Counter", "0", "inc"})
    assert out =~ ~s(=> %{count: "1"})
    assert out =~ ~s(=> {"live_load", true})
    # the 4-user run had successful iterations and no failed one
    assert [_, ok] = Regex.run(~r/=> %\{"failed" => 0, "halted" => 0, "ok" => (\d+)\}/, out)
    assert String.to_integer(ok) > 4
    assert out =~ "# live_load run: Elixir.Tour.CounterScenario"
    assert File.read!(html) =~ ~s(type="application/x-live-load-result")
  end
end
