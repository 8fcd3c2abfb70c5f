%% Test scenario: every iteration passes the `iterations' throttle (10 per second).
-module(live_load_runner_throttled_scenario).
-behaviour(live_load_scenario).
-export([config/1, throttles/1, run/3]).

config(Opts) -> Opts.

throttles(_Config) ->
    [live_load_throttle:rate(iterations, 600)].

run(Ctx, _UserId, _Config) ->
    live_load_context:throttle(Ctx, iterations).
