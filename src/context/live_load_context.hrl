%% The scenario context value (private to src/context/; scenario code uses live_load_context's API).
-record(llctx, {
    conn = live_load_browser_actions :: module(),      %% live_load_connection implementation
    kind = browser :: live_load_connection:kind(),     %% the `connection' dimension of its metrics
    user = undefined :: term(),                        %% the backend's user, undefined = none
    source = pool :: pool | pid() | none,              %% where `user' came from (for a fresh one)
    own = false :: boolean(),                          %% created by new/1 without a runner
    user_id = undefined :: term(),
    base_url = undefined :: binary() | undefined,
    mode = faithful :: faithful | fast,
    network = true :: boolean(),
    timeout = 30000 :: pos_integer(),                  %% per step, ms
    assigns = #{} :: map(),
    data = undefined :: map() | undefined,             %% this iteration's data row (live_load_data)
    step = 0 :: non_neg_integer(),
    error = undefined :: undefined | map(),
    halted = false :: boolean(),
    down = false :: boolean()                          %% the backend went away under this user
}).
