%% Test module that does not implement live_load_scenario.
-module(live_load_runner_not_a_scenario).
-export([run/3]).

run(Ctx, _, _) -> Ctx.
