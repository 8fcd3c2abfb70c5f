%% Test scenario whose config/1 crashes.
-module(live_load_runner_badconfig_scenario).
-behaviour(live_load_scenario).
-export([config/1, run/3]).

config(_Opts) -> error(bad_config).

run(Ctx, _, _) -> Ctx.
