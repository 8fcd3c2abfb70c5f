defmodule LiveLoad.TestTarget do
  @moduledoc """
  The target the Elixir tests run against, started once by test_helper.exs: the demo LiveView
  target (`src/demo/`) on a free port.
  """

  @slow_ms 200

  @doc "Starts the live_load application and the demo target (free port)."
  @spec start() :: :ok
  def start do
    {:ok, _} = Application.ensure_all_started(:live_load)
    {:ok, %{url: url}} = :live_load_demo_target.start(%{port: 0, slow_ms: @slow_ms})
    :persistent_term.put({__MODULE__, :url}, url)
    :ok
  end

  @doc "A URL of the demo target: `url(\"/counter\")`."
  @spec url(String.t()) :: String.t()
  def url(path \\ ""), do: :persistent_term.get({__MODULE__, :url}) <> path

  @doc "The demo target's `#slow` handler delay (ms)."
  @spec slow_ms() :: pos_integer()
  def slow_ms, do: @slow_ms
end
