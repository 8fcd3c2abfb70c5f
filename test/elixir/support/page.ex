defmodule LiveLoad.Test.Page do
  @moduledoc """
  Looks into a test context's page with CDP `Runtime.evaluate`, to check what a step did that
  the page does not show (focus, hover) or to add listeners to a demo page before a step.
  """

  @doc "Evaluates `js` in the context's page and returns its value (JSON-able)."
  @spec eval(LiveLoad.Scenario.Context.t(), String.t()) :: term()
  def eval(ctx, js) do
    # the browser user is the 4th field of the Erlang record (#llctx.user)
    user = elem(ctx.erlang, 3)
    params = %{"expression" => js, "returnByValue" => true}
    {:ok, %{"result" => result}} = :live_load_browser.call(user, "Runtime.evaluate", params, 5_000)
    nil_for_null(result["value"])
  end

  defp nil_for_null(:null), do: nil
  defp nil_for_null(list) when is_list(list), do: Enum.map(list, &nil_for_null/1)
  defp nil_for_null(map) when is_map(map), do: Map.new(map, fn {k, v} -> {k, nil_for_null(v)} end)
  defp nil_for_null(v), do: v
end
