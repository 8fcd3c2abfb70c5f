defmodule LiveLoad.Test.Shape do
  @moduledoc """
  The shape of a result: every key the format defines at each level, without the values, and
  without the keys that are data (metric names are kept, dimension values and bucket offsets are
  not), so runs of two scenarios doing the same steps compare equal.
  """

  @doc "The shape of a `LiveLoad.Result` or a result map."
  @spec of(LiveLoad.Result.t() | map()) :: map()
  def of(%LiveLoad.Result{} = r), do: of(LiveLoad.Result.to_map(r))

  def of(map) do
    %{
      top: keys(map),
      run: keys(map["run"]),
      run_iterations: keys(map["run"]["iterations"]),
      run_users: keys(map["run"]["users"]),
      metrics:
        Map.new(map["metrics"], fn {name, m} ->
          {name, {keys(m), keys(m["by"])}}
        end),
      counters: Map.new(map["counters"], fn {name, c} -> {name, keys(c)} end),
      time_series: keys(map["time_series"]),
      nodes: Enum.map(map["nodes"], &keys/1),
      quantile_points: length(map["quantile_points"])
    }
  end

  defp keys(m) when is_map(m), do: m |> Map.keys() |> Enum.sort()
  defp keys(other), do: other
end
