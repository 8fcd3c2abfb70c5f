%% Test scenario without a browser: each iteration sleeps `sleep_ms' (default 100) and counts
%% itself in the assigns; it declares its config keys (config_keys/0); it reports each iteration to `report' (a pid) if given:
%% `{iteration, UserId, N, Config, MonotonicMs}'.
-module(live_load_runner_sleep_scenario).
-behaviour(live_load_scenario).
-export([config/1, config_keys/0, run/3]).

%% `user' is declared (and unused) to prove a declared key close to a live_load option passes
config_keys() -> [sleep_ms, report, user].

config(Opts) ->
    maps:merge(#{sleep_ms => 100}, Opts).

run(Ctx, UserId, #{sleep_ms := Ms} = Config) ->
    N = maps:get(n, live_load_context:assigns(Ctx), 0) + 1,
    case Config of
        #{report := Pid} -> Pid ! {iteration, UserId, N, Config, erlang:monotonic_time(millisecond)};
        _ -> ok
    end,
    timer:sleep(Ms),
    live_load_context:assign(Ctx, n, N).
