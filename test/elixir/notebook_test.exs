defmodule LiveLoad.NotebookTest do
  # notebooks/live_load_tour.livemd without Livebook: every Elixir cell in order, in a plain
  # `elixir` VM (Mix.install of this checkout, its own demo target, 4 users for 20 s), failing
  # on any error. Kino is not in that VM: the Markdown report is laid out as text and the HTML
  # report written to a file. The :kino case runs the report cells with a real Kino in this VM
  # (Kino is on hex.pm only; a hand build of livebook-dev/kino and dashbitco/table on ERL_LIBS).
  use ExUnit.Case, async: false

  alias LiveLoad.TestTarget, as: T

  @root Path.expand("../..", __DIR__)
  @notebook Path.join(@root, "notebooks/live_load_tour.livemd")

  test "every Elixir cell of the tour runs in order" do
    html = Path.join(System.tmp_dir!(), "live_load_tour_#{System.unique_integer([:positive])}.html")
    on_exit(fn -> File.rm(html) end)

    {out, status} =
      System.cmd("elixir", ["test/elixir/support/notebook_runner.exs", @notebook],
        cd: @root,
        stderr_to_stdout: true,
        env: [
          {"LIVE_LOAD_PATH", @root},
          {"LIVE_LOAD_TOUR_HTML", html},
          {"MIX_INSTALL_DIR", Path.join(@root, "_build/mix/notebook")},
          {"MIX_ENV", nil},
          {"MIX_BUILD_PATH", nil},
          # the non-Kino branches, whatever this VM's ERL_LIBS holds
          {"ERL_LIBS", nil}
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
    assert String.to_integer(ok) >= 4
    # the Markdown report as text: aligned columns, no Markdown table syntax left
    assert out =~ "# live_load run: Elixir.Tour.CounterScenario"
    assert out =~ ~r/^iterations  failed 0, halted 0, ok \d+$/m
    assert out =~ ~r/^Metric +Unit +Count +p50 +p90 +p95 +p99 +Max +Errors$/m
    refute out =~ "&nbsp;"
    refute out =~ "| --- |"
    assert File.read!(html) =~ ~s(type="application/x-live-load-result")
  end

  @tag :kino
  test "with Kino, the report cells give Livebook a Markdown output and an HTML (JS) output" do
    {:ok, _} = Application.ensure_all_started(:kino)

    %{LiveLoad.Test.HaltScenario => result} =
      LiveLoad.run(
        scenario: LiveLoad.Test.HaltScenario,
        connection: :protocol,
        users: 1,
        scenario_duration: 2_000,
        base_url: T.url(),
        quiet: true
      )

    cells =
      Regex.scan(~r/^```elixir\n(.*?)^```$/ms, File.read!(@notebook), capture: :all_but_first)
      |> Enum.map(&hd/1)
      |> Enum.filter(&(&1 =~ "Kino."))

    assert [markdown_cell, html_cell] = cells
    {md, binding} = Code.eval_string(markdown_cell, result: result)
    {html, _} = Code.eval_string(html_cell, binding)

    assert %{type: :markdown, text: text} = apply(Kino.Render, :to_livebook, [md])
    assert text == LiveLoad.Reporter.Markdown.render!(result)
    assert %{type: :js, js_view: %{ref: ref}} = apply(Kino.Render, :to_livebook, [html])
    assert is_binary(ref)
    assert html.__struct__ == Kino.JS
  end
end
