%% Test scenario: user 1 crashes in its first iteration, the others sleep 50 ms per iteration.
-module(live_load_runner_crash_scenario).
-behaviour(live_load_scenario).
-export([run/3]).

run(_Ctx, 1, _Config) ->
    error(scenario_bug);
run(Ctx, _UserId, _Config) ->
    timer:sleep(50),
    Ctx.
