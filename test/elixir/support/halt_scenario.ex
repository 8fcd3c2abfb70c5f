defmodule LiveLoad.Test.HaltScenario do
  @moduledoc "Opens the counter and halts: each user runs one iteration. Found by `otp_app: :live_load` in the tests."
  use LiveLoad.Scenario

  @impl true
  def run(ctx, _user_id, config) do
    ctx
    |> navigate(config.base_url <> "/counter")
    |> wait_for_liveview()
    |> halt()
  end
end
