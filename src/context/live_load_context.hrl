%% The scenario context value (private to src/context/; scenario code uses live_load_context's API).
-record(llctx, {
    conn = live_load_browser :: module(),              %% live_load_browser_connection implementation
    user = undefined :: term(),                        %% the browser user, undefined = no browser
    source = pool :: pool | pid() | none,              %% where `user' came from (for a fresh one)
    own = false :: boolean(),                          %% created by new/1 without a runner
    user_id = undefined :: term(),
    mode = faithful :: faithful | fast,
    network = true :: boolean(),
    timeout = 30000 :: pos_integer(),                  %% per step, ms
    assigns = #{} :: map(),
    data = undefined :: map() | undefined,             %% this iteration's data row (live_load_data)
    step = 0 :: non_neg_integer(),
    error = undefined :: undefined | map(),
    halted = false :: boolean(),
    down = false :: boolean(),                         %% the browser went away under this user
    storage_scripts = [] :: [binary()]                 %% init scripts restoring localStorage
}).
