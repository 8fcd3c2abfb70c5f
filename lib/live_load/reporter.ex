defmodule LiveLoad.Reporter do
  @moduledoc false
  # What the reporters accept: one result, a list of them, or the map `LiveLoad.run/1` returns
  # (scenarios that failed to start are left out). Results become `live_load_result` maps.

  @doc false
  @spec results(term()) :: [map()]
  def results(%LiveLoad.Result{} = r), do: [LiveLoad.Result.to_map(r)]
  def results(%{"format" => _} = map), do: [map]

  def results(runs) when is_map(runs) do
    runs |> Enum.sort_by(fn {k, _} -> inspect(k) end) |> Enum.flat_map(fn {_, v} -> only_results(v) end)
  end

  def results(list) when is_list(list), do: Enum.flat_map(list, &results/1)

  def results(other),
    do: raise(ArgumentError, "not a LiveLoad.Result (or a list or map of them): #{inspect(other, limit: 5)}")

  defp only_results({:error, _}), do: []
  defp only_results(r), do: results(r)
end

defmodule LiveLoad.Reporter.Markdown do
  @moduledoc "The Markdown report (tables per scenario: users, LiveView and HTTP metrics, counters, errors)."

  @doc """
  Renders a `LiveLoad.Result`, a list of them, or what `LiveLoad.run/1` returned, as one Markdown
  document (scenarios one after another). Raises `ArgumentError` for anything else.
  """
  @spec render!(LiveLoad.Result.t() | [LiveLoad.Result.t()] | map()) :: String.t()
  def render!(results) do
    results
    |> LiveLoad.Reporter.results()
    |> Enum.map(&:live_load_report_markdown.render/1)
    |> Enum.intersperse("\n")
    |> IO.iodata_to_binary()
  end
end

defmodule LiveLoad.Reporter.HTML do
  @moduledoc """
  The HTML report: one self-contained page that opens offline (guides/report.md). Several results
  render into one comparison page, the first being the baseline.
  """

  @doc "Renders a `LiveLoad.Result`, a list of them, or what `LiveLoad.run/1` returned, as one HTML page."
  @spec render!(LiveLoad.Result.t() | [LiveLoad.Result.t()] | map()) :: String.t()
  def render!(results) do
    case LiveLoad.Reporter.results(results) do
      [] -> raise ArgumentError, "no result to render"
      [one] -> IO.iodata_to_binary(:live_load_report_html.render(one))
      many -> IO.iodata_to_binary(:live_load_report_html.render(many))
    end
  end

  @doc "Renders like `render!/1` and writes the page to `path`; returns `path`. Raises `File.Error`."
  @spec write!(LiveLoad.Result.t() | [LiveLoad.Result.t()] | map(), Path.t()) :: Path.t()
  def write!(results, path) do
    File.mkdir_p!(Path.dirname(path))
    File.write!(path, render!(results))
    path
  end
end
