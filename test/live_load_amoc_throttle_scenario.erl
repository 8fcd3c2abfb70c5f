%% Test scenario for throttles on amoc (no browser). Config:
%% - `report' (pid): every pass is reported `{pass, Name, Node, Pid, SystemMs}' (and a
%%   parallelism holder's end `{leave, ...}');
%% - `throttles' (specs) and `names' (the throttle each user waits for: user id rem length);
%%   default: rate, parallelism, ramp, interarrival (t_rate, t_par, t_ramp, t_ia);
%% - `init_delay' (#{Node => Ms}): config/1 sleeps that long on that node, so its init/0 (and
%%   its throttle starts) come later than the other nodes'.
-module(live_load_amoc_throttle_scenario).
-behaviour(live_load_scenario).
-export([config/1, throttles/1, run/3]).

-define(NAMES, [t_rate, t_par, t_ramp, t_ia]).

config(Config) ->
    timer:sleep(maps:get(node(), maps:get(init_delay, Config, #{}), 0)),
    Config.

throttles(#{throttles := Specs}) ->
    Specs;
throttles(_Config) ->
    [live_load_throttle:rate(t_rate, 1200),                        %% 20/s
     live_load_throttle:parallelism(t_par, 2),
     live_load_throttle:ramp(live_load_throttle:rate(t_ramp, 600), 3000, #{steps => 4, interval => 1000}),
     live_load_throttle:interarrival(t_ia, 100)].                  %% 10/s

run(Ctx, UserId, #{report := Pid} = Config) ->
    Names = maps:get(names, Config, ?NAMES),
    Name = lists:nth(UserId rem length(Names) + 1, Names),
    C1 = live_load_context:throttle(Ctx, Name),
    Pid ! {pass, Name, node(), self(), erlang:system_time(millisecond)},
    case Name of
        t_par -> timer:sleep(300), Pid ! {leave, Name, node(), self(), erlang:system_time(millisecond)};
        _ -> ok
    end,
    C1.
