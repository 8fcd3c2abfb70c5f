%% Test scenario for throttles on amoc (no browser): user id rem 3 picks the throttle
%% (0: rate, 1: parallelism, 2: ramp); every pass is reported to the `report' pid with the node.
-module(live_load_amoc_throttle_scenario).
-behaviour(live_load_scenario).
-export([throttles/1, run/3]).

throttles(_Config) ->
    [live_load_throttle:rate(t_rate, 1200),                        %% 20/s
     live_load_throttle:parallelism(t_par, 2),
     live_load_throttle:ramp(live_load_throttle:rate(t_ramp, 600), 3000, #{steps => 4, interval => 1000})].

run(Ctx, UserId, #{report := Pid}) ->
    Name = element(UserId rem 3 + 1, {t_rate, t_par, t_ramp}),
    C1 = live_load_context:throttle(Ctx, Name),
    Pid ! {pass, Name, node(), self(), erlang:system_time(millisecond)},
    case Name of
        t_par -> timer:sleep(300), Pid ! {leave, Name, node(), self(), erlang:system_time(millisecond)};
        _ -> ok
    end,
    C1.
