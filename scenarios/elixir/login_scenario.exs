# Example Elixir scenario with per-user data: each user signs in to the demo target's /login with
# its own row of a data file (columns username, password). Run it with
#   mix live_load.run scenarios/elixir/login_scenario.exs --users 4 --duration 20s --data users.csv
# or from Elixir: LiveLoad.run(scenario: LiveLoad.Examples.LoginScenario, users: 4,
#   data: [source: "users.csv"], ...) (the demo's accounts: :live_load_demo_login.password/1).
defmodule LiveLoad.Examples.LoginScenario do
  @moduledoc """
  Each iteration opens `/login`, fills `#username` and `#password` from the iteration's data row
  (`ctx.data`), submits `#login-form` and fails unless `#login-status` names the user.
  Config: `base_url`, `login_path` (default `"/login"`). Thresholds: no failed iteration.
  """
  use LiveLoad.Scenario

  @impl true
  def config(opts), do: Map.merge(%{base_url: "http://127.0.0.1:4000", login_path: "/login"}, opts)

  @impl true
  def config_keys, do: [:login_path]

  @impl true
  def thresholds(_opts), do: ["iterations.failed_rate == 0%"]

  @impl true
  def run(%{data: %{"username" => user, "password" => password}} = ctx, _user_id, config) do
    ctx
    |> navigate(config.base_url <> config.login_path)
    |> wait_for_liveview()
    |> fill("#username", user)
    |> fill("#password", password)
    |> submit_form("#login-form")
    |> get_attribute("#login-status", "data-user", as: :signed_in)
    |> check_signed_in(user)
  end

  def run(ctx, _user_id, _config), do: fail(ctx, {:no_credentials, ctx.data})

  defp check_signed_in(ctx, user) do
    case ctx.assigns do
      %{signed_in: ^user} -> ctx
      %{signed_in: other} -> fail(ctx, {:not_signed_in, other})
      _ -> ctx
    end
  end
end
