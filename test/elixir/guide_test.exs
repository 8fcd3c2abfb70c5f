defmodule LiveLoad.GuideTest do
  # guides/elixir.md: every Elixir block runs, in order, in a plain `elixir` VM with live_load
  # installed from this checkout; the value each block ends with must be the one its `# =>`
  # comment shows (unless the comment says it varies).
  use ExUnit.Case, async: false

  @root Path.expand("../..", __DIR__)
  @guide Path.join(@root, "guides/elixir.md")

  test "the examples of guides/elixir.md run and return what the guide shows" do
    {out, status} =
      System.cmd("elixir", ["test/elixir/support/notebook_runner.exs", @guide, "--install", @root],
        cd: @root,
        stderr_to_stdout: true,
        env: [
          {"LIVE_LOAD_ROOT", @root},
          {"MIX_INSTALL_DIR", Path.join(@root, "_build/mix/notebook")},
          {"MIX_ENV", nil},
          {"MIX_BUILD_PATH", nil}
        ]
      )

    assert status == 0, out
    printed = Regex.scan(~r/^--- cell \d+\/\d+\n=> (.*)$/m, out, capture: :all_but_first) |> Enum.map(&hd/1)

    blocks =
      Regex.scan(~r/^```elixir\n(.*?)^```$/ms, File.read!(@guide), capture: :all_but_first) |> Enum.map(&hd/1)

    assert length(printed) == length(blocks), out

    checked =
      for {block, value} <- Enum.zip(blocks, printed),
          shown = shown(block),
          shown != nil,
          not (shown =~ "(varies") do
        assert squash(value) == squash(shown), "block:\n#{block}\nprinted: #{value}"
      end

    assert length(checked) >= 10
  end

  # the `# =>` comment at the end of a block, with its `#    ` continuation lines
  defp shown(block) do
    case Regex.run(~r/^# => (.*(?:\n#    .*)*)\n*\z/m, block, capture: :all_but_first) do
      [text] -> String.replace(text, ~r/\n#\s+/, " ")
      nil -> nil
    end
  end

  defp squash(s), do: s |> String.replace(~r/\s+/, " ") |> String.trim()
end
