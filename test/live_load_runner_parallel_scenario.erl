%% Test scenario: one user at a time (parallelism 1) holds the `one_at_a_time' slot for 100 ms
%% per iteration; the runner gives the slot back at the end of each iteration.
-module(live_load_runner_parallel_scenario).
-behaviour(live_load_scenario).
-export([throttles/1, run/3]).

throttles(_Config) ->
    [live_load_throttle:parallelism(one_at_a_time, 1)].

run(Ctx, UserId, #{report := Pid}) ->
    C1 = live_load_context:throttle(Ctx, one_at_a_time),
    Pid ! {holder, UserId, erlang:monotonic_time(millisecond)},
    timer:sleep(100),
    C1.
