%% Test scenario: every odd iteration fails its context; the assigns survive the failure.
-module(live_load_runner_fail_scenario).
-behaviour(live_load_scenario).
-export([run/3]).

run(Ctx, _UserId, Config) ->
    N = maps:get(n, live_load_context:assigns(Ctx), 0) + 1,
    case Config of
        #{report := Pid} -> Pid ! {iteration, N};
        _ -> ok
    end,
    timer:sleep(50),
    Ctx1 = live_load_context:assign(Ctx, n, N),
    case N rem 2 of
        1 -> live_load_context:fail(Ctx1, {odd_iteration, N});
        0 -> Ctx1
    end.
