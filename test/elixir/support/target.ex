defmodule LiveLoad.TestTarget do
  @moduledoc """
  The targets the Elixir tests run against, started once by test_helper.exs: the demo LiveView
  target (`src/demo/`) and a static file server for `test/` (widgets and focus pages).
  """

  @slow_ms 200

  @doc "Starts the live_load application, the demo target (free port) and the static server."
  @spec start() :: :ok
  def start do
    {:ok, _} = Application.ensure_all_started(:live_load)
    {:ok, %{url: url}} = :live_load_demo_target.start(%{port: 0, slow_ms: @slow_ms})
    {:ok, _} = Application.ensure_all_started(:inets)
    root = Path.expand("../..", __DIR__)

    {:ok, httpd} =
      :inets.start(:httpd,
        port: 0,
        server_name: ~c"static",
        server_root: ~c"/tmp",
        document_root: String.to_charlist(root),
        bind_address: {127, 0, 0, 1},
        mime_types: [{~c"html", ~c"text/html"}]
      )

    [port: port] = :httpd.info(httpd, [:port])
    :persistent_term.put({__MODULE__, :url}, url)
    :persistent_term.put({__MODULE__, :static}, "http://127.0.0.1:#{port}")
    :ok
  end

  @doc "A URL of the demo target: `url(\"/counter\")`."
  @spec url(String.t()) :: String.t()
  def url(path \\ ""), do: :persistent_term.get({__MODULE__, :url}) <> path

  @doc "A URL of the static server for a file under test/: `static(\"/static/widgets.html\")`."
  @spec static(String.t()) :: String.t()
  def static(path), do: :persistent_term.get({__MODULE__, :static}) <> path

  @doc "The demo target's `#slow` handler delay (ms)."
  @spec slow_ms() :: pos_integer()
  def slow_ms, do: @slow_ms
end
