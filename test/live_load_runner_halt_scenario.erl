%% Test scenario: halts on its 3rd iteration (counted in the assigns).
-module(live_load_runner_halt_scenario).
-behaviour(live_load_scenario).
-export([run/3]).

run(Ctx, _UserId, _Config) ->
    N = maps:get(n, live_load_context:assigns(Ctx), 0) + 1,
    Ctx1 = live_load_context:assign(Ctx, n, N),
    case N of
        3 -> live_load_context:halt(Ctx1);
        _ -> Ctx1
    end.
