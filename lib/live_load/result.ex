defmodule LiveLoad.Result do
  @moduledoc """
  The result of one scenario's run: the `live_load.result/1` map of `live_load_result` as a
  struct. Every top-level key of the format (guides/result_format.md) is a field; what is inside
  stays as in JSON (string keys, numbers, strings, lists, `nil` for `null`), so
  `from_json(to_json(result)) == {:ok, result}` and `to_map/1` gives back the Erlang map.
  `thresholds` is `nil` unless the run had thresholds (then each one's verdict:
  `%{"expression" => ..., "observed" => ..., "limit" => ..., "pass" => true, ...}`; `passed?/1`
  tells whether all passed). Keys a newer writer added are kept in `extra`.
  """

  @fields [
    :format,
    :live_load_version,
    :run,
    :quantile_points,
    :metrics,
    :counters,
    :time_series,
    :nodes,
    :errors
  ]
  # present only when the run had them
  @optional [:thresholds]
  defstruct @fields ++ @optional ++ [extra: %{}]

  @type json :: nil | boolean() | number() | String.t() | [json()] | %{String.t() => json()}
  @type t :: %__MODULE__{
          format: String.t(),
          live_load_version: String.t(),
          run: %{String.t() => json()},
          quantile_points: [float()],
          metrics: %{String.t() => json()},
          counters: %{String.t() => json()},
          time_series: %{String.t() => json()},
          nodes: [json()],
          errors: [json()],
          thresholds: [%{String.t() => json()}] | nil,
          extra: %{String.t() => json()}
        }

  @doc "The struct of a `live_load_result` map (string keys, as `live_load:run/1` returns it)."
  @spec from_map(map()) :: t()
  def from_map(%{"format" => _} = map) do
    known = Map.new(@fields ++ @optional, &{Atom.to_string(&1), &1})

    Enum.reduce(map, %__MODULE__{}, fn {k, v}, acc ->
      case known do
        %{^k => field} -> Map.put(acc, field, nulls_to_nil(v))
        _ -> %{acc | extra: Map.put(acc.extra, k, nulls_to_nil(v))}
      end
    end)
  end

  @doc "The `live_load_result` map (string keys, `:null` for JSON null) the Erlang reporters read."
  @spec to_map(t()) :: map()
  def to_map(%__MODULE__{extra: extra} = result) do
    given = for field <- @optional, Map.fetch!(result, field) != nil, do: field

    for field <- @fields ++ given, reduce: nil_to_nulls(extra) do
      acc -> Map.put(acc, Atom.to_string(field), nil_to_nulls(Map.fetch!(result, field)))
    end
  end

  @doc "The result as JSON text (`live_load.result/1`)."
  @spec to_json(t()) :: String.t()
  def to_json(%__MODULE__{} = result), do: IO.iodata_to_binary(:live_load_result.to_json(to_map(result)))

  @doc "Reads a result from JSON text; `{:error, {:unsupported_format, f}}` for another format."
  @spec from_json(iodata()) :: {:ok, t()} | {:error, term()}
  def from_json(json) do
    case :live_load_result.from_json(json) do
      {:ok, map} -> {:ok, from_map(map)}
      {:error, _} = error -> error
    end
  end

  @doc "Several results as one results file (`{\"format\": \"live_load.results/1\", \"results\": [...]}`)."
  @spec results_to_json([t()]) :: String.t()
  def results_to_json(results),
    do: IO.iodata_to_binary(:live_load_result.results_to_json(Enum.map(results, &to_map/1)))

  @doc "Reads a results file (the envelope, a bare result or a JSON array of results)."
  @spec read_results(iodata()) :: {:ok, [t()]} | {:error, term()}
  def read_results(json) do
    case :live_load_result.read_results(json) do
      {:ok, maps} -> {:ok, Enum.map(maps, &from_map/1)}
      {:error, _} = error -> error
    end
  end

  @doc """
  Whether every threshold passed: `true` or `false`, `nil` when the run had none (the CLI exits 1
  when one failed).
  """
  @spec passed?(t()) :: boolean() | nil
  def passed?(%__MODULE__{thresholds: nil}), do: nil
  def passed?(%__MODULE__{thresholds: verdicts}), do: Enum.all?(verdicts, &(&1["pass"] == true))

  @doc "Iteration counts: `%{\"ok\" => n, \"failed\" => n, \"halted\" => n}`."
  @spec iterations(t()) :: %{String.t() => non_neg_integer()}
  def iterations(%__MODULE__{run: run}), do: Map.get(run, "iterations", %{})

  defp nulls_to_nil(:null), do: nil
  defp nulls_to_nil(m) when is_map(m), do: Map.new(m, fn {k, v} -> {k, nulls_to_nil(v)} end)
  defp nulls_to_nil(l) when is_list(l), do: Enum.map(l, &nulls_to_nil/1)
  defp nulls_to_nil(v), do: v

  defp nil_to_nulls(nil), do: :null
  defp nil_to_nulls(m) when is_map(m), do: Map.new(m, fn {k, v} -> {k, nil_to_nulls(v)} end)
  defp nil_to_nulls(l) when is_list(l), do: Enum.map(l, &nil_to_nulls/1)
  defp nil_to_nulls(v), do: v
end
