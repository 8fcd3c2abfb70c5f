# Example Elixir scenario: the counter and the search form of the demo target (or any LiveView
# app with those pages). Run it with
#   mix live_load.run scenarios/elixir/counter_scenario.exs --users 4 --duration 20s
# or from Elixir: LiveLoad.run(scenario: LiveLoad.Examples.CounterScenario, users: 4, ...).
defmodule LiveLoad.Examples.CounterScenario do
  @moduledoc """
  Each iteration opens `/counter`, waits for the LiveView, waits for a pass of the `:clicks`
  throttle (10 per second for all users together), clicks the button named by the config's
  `button` (default `"inc"`, a selector resolved from the assigns) and waits for the click's
  round trip, reads the count, then searches for it on `/form` and submits the form.
  Config: `base_url` (default `http://127.0.0.1:4000`), `button`.
  """
  use LiveLoad.Scenario

  @impl true
  def config(opts), do: Map.merge(%{base_url: "http://127.0.0.1:4000", button: "inc"}, opts)

  @impl true
  def throttles(_config), do: [:clicks |> Rate.new(600)]

  @impl true
  def run(ctx, _user_id, config) do
    ctx
    |> assign(:button, config.button)
    |> navigate(config.base_url <> "/counter")
    |> wait_for_liveview()
    |> throttle(:clicks)
    |> click(&"##{&1.assigns.button}")
    |> wait_for_phx_loading_completion(:click, &"##{&1.assigns.button}")
    |> inner_text("#count", as: :count)
    |> navigate(config.base_url <> "/form")
    |> wait_for_liveview()
    |> fill("#q", &"count #{&1.assigns.count}")
    |> submit_form("#search-form")
  end
end
