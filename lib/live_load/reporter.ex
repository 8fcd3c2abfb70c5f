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

defmodule LiveLoad.Reporter.Text do
  @moduledoc """
  The Markdown report laid out as plain text, for a terminal, iex, or a notebook without Kino:
  each table's columns aligned (numbers to the right, as the Markdown asks), its separator row
  dropped, `&nbsp;` indents as spaces; headings and other lines as they are.
  """

  @doc "Renders like `LiveLoad.Reporter.Markdown.render!/1`, laid out as text."
  @spec render!(LiveLoad.Result.t() | [LiveLoad.Result.t()] | map()) :: String.t()
  def render!(results), do: results |> LiveLoad.Reporter.Markdown.render!() |> from_markdown()

  @doc "Lays out Markdown text (its pipe tables) as plain text."
  @spec from_markdown(String.t()) :: String.t()
  def from_markdown(markdown) do
    markdown
    |> String.split("\n")
    |> Enum.chunk_by(&table_row?/1)
    |> Enum.map_join("\n", fn [first | _] = lines ->
      if table_row?(first), do: table(lines), else: Enum.join(lines, "\n")
    end)
  end

  defp table_row?(line), do: String.starts_with?(line, "|")

  defp table(lines) do
    rows = Enum.map(lines, &cells/1)
    {aligns, rows} = split_separator(rows)
    # a header of empty cells (a two-column table of name and value) is no line at all
    rows = Enum.reject(rows, fn row -> Enum.all?(row, &(&1 == "")) end)

    widths =
      rows |> Enum.zip_with(& &1) |> Enum.map(fn col -> col |> Enum.map(&String.length/1) |> Enum.max() end)

    Enum.map_join(rows, "\n", fn row ->
      row
      |> Enum.zip(widths)
      |> Enum.with_index()
      |> Enum.map_join("  ", fn {{cell, w}, i} ->
        if Enum.at(aligns, i) == :right, do: String.pad_leading(cell, w), else: String.pad_trailing(cell, w)
      end)
      |> String.trim_trailing()
    end)
  end

  # the Markdown separator row (`| --- | --: |`) says how each column aligns
  defp split_separator([header, sep | rest] = rows) do
    if Enum.all?(sep, &Regex.match?(~r/^:?-+:?$/, &1)) do
      {Enum.map(sep, &if(String.ends_with?(&1, ":"), do: :right, else: :left)), pad_rows([header | rest])}
    else
      {[], pad_rows(rows)}
    end
  end

  defp split_separator(rows), do: {[], pad_rows(rows)}

  defp pad_rows(rows) do
    n = rows |> Enum.map(&length/1) |> Enum.max()
    Enum.map(rows, &(&1 ++ List.duplicate("", n - length(&1))))
  end

  defp cells(line) do
    line
    |> String.trim()
    |> String.trim_leading("|")
    |> String.trim_trailing("|")
    |> String.split(~r/(?<!\\)\|/)
    |> Enum.map(&(&1 |> String.replace("&nbsp;", " ") |> String.replace("\\|", "|") |> trim_right()))
  end

  # cells keep their leading indent (&nbsp;&nbsp; rows), not the padding Markdown puts around them
  defp trim_right(cell) do
    case cell do
      " " <> rest -> String.trim_trailing(rest)
      _ -> String.trim_trailing(cell)
    end
  end
end
