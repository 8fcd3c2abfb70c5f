%% Throttle behaviour on this node: accuracy of rates, no bursts, ramps follow their plan,
%% parallelism caps, errors for bad specs and unknown names.
-module(live_load_throttle_SUITE).
-include_lib("common_test/include/ct.hrl").
-include_lib("eunit/include/eunit.hrl").
-compile([export_all, nowarn_export_all]).

all() ->
    [rate_20_per_second_for_10_seconds, no_burst_after_idle, interarrival_spacing,
     rate_ramp_by_duration, interarrival_ramp_by_steps, parallelism_caps_holders,
     parallelism_slot_freed_when_holder_dies, run_releases_slot, stopped_throttle_answers_waiters,
     errors].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(live_load),
    Config.

end_per_suite(_Config) ->
    ok.

end_per_testcase(_Case, _Config) ->
    [supervisor:terminate_child(live_load_throttle_sup, P) || P <- live_load_throttle_sup:all_throttles()],
    ok.

rate_20_per_second_for_10_seconds() ->
    [{doc, "A rate of 1200/min (20/s) with 40 eager callers gives 200 passes in 10 s (+-1%), never more than 21 in any 1 s window."}].
rate_20_per_second_for_10_seconds(_Config) ->
    {ok, _} = live_load_throttle:start(live_load_throttle:rate(r20, 1200)),
    Times = passes(r20, 40, 10000),
    N = length(Times),
    ct:pal("rate 20/s for 10 s: ~p passes; max in a 1 s window: ~p", [N, max_in_window(Times, 1000)]),
    ?assert(N >= 198 andalso N =< 202),
    ?assert(max_in_window(Times, 1000) =< 21).

no_burst_after_idle() ->
    [{doc, "After an idle spell, 10 callers arriving at once are spaced again: the first passes at once, the rest one period apart."}].
no_burst_after_idle(_Config) ->
    {ok, _} = live_load_throttle:start(live_load_throttle:rate(idle, 600)),
    ok = live_load_throttle:wait(idle),
    timer:sleep(1500),
    Times = passes(idle, 10, 450),
    ct:pal("passes in 450 ms after 1.5 s idle at 10/s: ~p", [length(Times)]),
    %% slots at 0, 100, 200, 300, 400 ms
    ?assert(length(Times) >= 4 andalso length(Times) =< 5).

interarrival_spacing() ->
    [{doc, "interarrival(50 ms) gives one pass per 50 ms: 40 in 2 s (+-2: a short sample timed by the callers, which a loaded box delays too), at most 2 in any 50 ms window."}].
interarrival_spacing(_Config) ->
    {ok, _} = live_load_throttle:start(live_load_throttle:interarrival(ia, 50)),
    Times = passes(ia, 10, 2000),
    ct:pal("interarrival 50 ms for 2 s: ~p passes", [length(Times)]),
    ?assert(abs(length(Times) - 40) =< 2),
    ?assert(max_in_window(Times, 50) =< 2).

rate_ramp_by_duration() ->
    [{doc, "ramp(rate 600/min -> 3000/min (10/s -> 50/s) over 4 s) passes about the integral of its plan (120 +-10%) in the ramp, then 50/s."}].
rate_ramp_by_duration(_Config) ->
    Spec = live_load_throttle:ramp(live_load_throttle:rate(ramp, 600), 3000, #{duration => 4000}),
    {ok, _} = live_load_throttle:start(Spec),
    T0 = erlang:monotonic_time(millisecond),
    Times = passes(ramp, 60, 5000),
    {InRamp, After} = lists:partition(fun(T) -> T - T0 < 4000 end, Times),
    FirstSecond = length([T || T <- Times, T - T0 < 1000]),
    ct:pal("ramp 10->50/s over 4 s: ~p passes in the ramp (plan 120), ~p in the first second, ~p in the next 1 s (plan 50)",
           [length(InRamp), FirstSecond, length(After)]),
    ?assert(length(InRamp) >= 108 andalso length(InRamp) =< 132),
    ?assert(FirstSecond >= 10 andalso FirstSecond =< 18),
    ?assert(length(After) >= 47 andalso length(After) =< 52),
    {ok, #{value := V}} = live_load_throttle:info(ramp),
    ?assertEqual(3000.0, float(V)).

interarrival_ramp_by_steps() ->
    [{doc, "ramp(interarrival 100 ms -> 20 ms, 4 steps of 500 ms) follows each step: about 5, 6, 8, 12, 25 passes per 500 ms."}].
interarrival_ramp_by_steps(_Config) ->
    Spec = live_load_throttle:ramp(live_load_throttle:interarrival(iar, 100), 20,
                                   #{steps => 4, interval => 500}),
    {ok, _} = live_load_throttle:start(Spec),
    T0 = erlang:monotonic_time(millisecond),
    Times = passes(iar, 20, 2500),
    Per = [length([T || T <- Times, T - T0 >= K * 500, T - T0 < (K + 1) * 500]) || K <- lists:seq(0, 4)],
    ct:pal("interarrival ramp, passes per 500 ms step: ~p (plan 5, 6.25, 8.3, 12.5, 25)", [Per]),
    %% interarrival per step: 100, 80, 60, 40, 20 ms
    Expected = [5, 6.25, 8.33, 12.5, 25],
    lists:foreach(fun({Got, Want}) -> ?assert(abs(Got - Want) =< 1.5) end, lists:zip(Per, Expected)).

parallelism_caps_holders() ->
    [{doc, "parallelism(3): 10 processes holding a slot 100 ms each never exceed 3 at once, and all finish."}].
parallelism_caps_holders(_Config) ->
    {ok, _} = live_load_throttle:start(live_load_throttle:parallelism(par, 3)),
    Counter = counters:new(2, []),
    Self = self(),
    Pids = [spawn_link(fun() ->
                               ok = live_load_throttle:wait(par),
                               counters:add(Counter, 1, 1),
                               Now = counters:get(Counter, 1),
                               Max = counters:get(Counter, 2),
                               Now > Max andalso counters:put(Counter, 2, Now),
                               timer:sleep(100),
                               counters:sub(Counter, 1, 1),
                               live_load_throttle:release(par),
                               Self ! {done, self()}
                       end) || _ <- lists:seq(1, 10)],
    [receive {done, P} -> ok after 10000 -> ct:fail(parallelism_stuck) end || P <- Pids],
    ct:pal("max concurrent holders: ~p", [counters:get(Counter, 2)]),
    ?assertEqual(3, counters:get(Counter, 2)),
    {ok, #{passes := 10, holders := 0}} = live_load_throttle:info(par).

parallelism_slot_freed_when_holder_dies() ->
    [{doc, "A holder that dies without releasing gives its slot to the next waiter."}].
parallelism_slot_freed_when_holder_dies(_Config) ->
    {ok, _} = live_load_throttle:start(live_load_throttle:parallelism(par1, 1)),
    Self = self(),
    Holder = spawn(fun() -> ok = live_load_throttle:wait(par1), Self ! held, receive stop -> ok end end),
    receive held -> ok after 5000 -> ct:fail(no_hold) end,
    Waiter = spawn(fun() -> Self ! {waited, live_load_throttle:wait(par1)} end),
    receive {waited, _} -> ct:fail(passed_while_held) after 300 -> ok end,
    exit(Holder, kill),
    receive {waited, R} -> ?assertEqual(ok, R) after 5000 -> ct:fail(slot_not_freed) end,
    exit(Waiter, kill).

run_releases_slot() ->
    [{doc, "run/2 returns the fun's value and gives the parallelism slot back."}].
run_releases_slot(_Config) ->
    {ok, _} = live_load_throttle:start(live_load_throttle:parallelism(par2, 1)),
    {ok, 42} = live_load_throttle:run(par2, fun() -> 42 end),
    timer:sleep(50),
    {ok, #{holders := 0}} = live_load_throttle:info(par2),
    ok = live_load_throttle:release_all().

stopped_throttle_answers_waiters() ->
    [{doc, "Stopping a throttle answers its waiting callers with {error, {throttle_stopped, Name}}."}].
stopped_throttle_answers_waiters(_Config) ->
    {ok, _} = live_load_throttle:start(live_load_throttle:rate(zero, 0)),
    Self = self(),
    spawn(fun() -> Self ! {waited, live_load_throttle:wait(zero)} end),
    timer:sleep(100),
    ok = live_load_throttle:stop(zero),
    receive {waited, R} -> ?assertEqual({error, {throttle_stopped, zero}}, R)
    after 5000 -> ct:fail(waiter_not_answered) end,
    ?assertEqual({error, {unknown_throttle, zero}}, live_load_throttle:wait(zero)).

errors() ->
    [{doc, "Bad specs and names give precise errors."}].
errors(_Config) ->
    ?assertEqual({error, {unknown_throttle, nope}}, live_load_throttle:wait(nope)),
    ?assertEqual({error, {invalid_throttle, rate, -1}}, live_load_throttle:start(live_load_throttle:rate(a, -1))),
    ?assertEqual({error, {invalid_throttle, interval, 0}},
                 live_load_throttle:start(live_load_throttle:rate(a, 1, #{interval => 0}))),
    ?assertEqual({error, {invalid_throttle, interarrival, infinity}},
                 live_load_throttle:start(live_load_throttle:interarrival(a, infinity))),
    ?assertEqual({error, {invalid_throttle, max, 0}}, live_load_throttle:start(live_load_throttle:parallelism(a, 0))),
    ?assertEqual({error, {invalid_throttle, name, "str"}}, live_load_throttle:start(live_load_throttle:rate("str", 1))),
    %% names are atoms (amoc_throttle's names)
    ?assertEqual({error, {invalid_throttle, name, <<"bin">>}}, live_load_throttle:start(live_load_throttle:rate(<<"bin">>, 1))),
    %% rates count per minute unless an interval is given
    ?assertMatch(#{rate := 60, interval := 60000}, live_load_throttle:rate(a, 60)),
    ?assertMatch(#{rate := 5, interval := 1000}, live_load_throttle:rate(a, 5, #{interval => 1000})),
    ?assertEqual({error, {invalid_throttle, plan, #{duration => -5}}},
                 live_load_throttle:start(live_load_throttle:ramp(live_load_throttle:rate(a, 1), 5, #{duration => -5}))),
    ?assertMatch({error, {invalid_throttle, ramp, _}},
                 live_load_throttle:start(live_load_throttle:ramp(live_load_throttle:parallelism(a, 1), 5, #{duration => 5}))),
    {ok, _} = live_load_throttle:start(live_load_throttle:rate(dup, 1)),
    ?assertEqual({error, {already_started, dup}}, live_load_throttle:start(live_load_throttle:rate(dup, 2))),
    ?assertEqual({error, {already_started, dup}},
                 live_load_throttle:start_all([live_load_throttle:rate(fresh, 1), live_load_throttle:rate(dup, 1)])),
    %% start_all rolled back what it had started
    ?assertEqual({error, {unknown_throttle, fresh}}, live_load_throttle:info(fresh)).

%% N callers wait in a loop for DurationMs; returns the pass times (ms, monotonic), sorted.
passes(Name, Callers, DurationMs) ->
    Self = self(),
    Deadline = erlang:monotonic_time(millisecond) + DurationMs,
    Pids = [spawn_link(fun() -> caller(Name, Deadline, Self) end) || _ <- lists:seq(1, Callers)],
    timer:sleep(DurationMs + 50),
    [begin unlink(P), exit(P, kill) end || P <- Pids],
    lists:sort(collect([])).

caller(Name, Deadline, Parent) ->
    ok = live_load_throttle:wait(Name),
    T = erlang:monotonic_time(millisecond),
    case T < Deadline of
        true -> Parent ! {pass, T}, caller(Name, Deadline, Parent);
        false -> ok
    end.

collect(Acc) ->
    receive {pass, T} -> collect([T | Acc]) after 0 -> Acc end.

max_in_window(Times, W) ->
    lists:max([0 | [length([U || U <- Times, U >= T, U < T + W]) || T <- Times]]).
