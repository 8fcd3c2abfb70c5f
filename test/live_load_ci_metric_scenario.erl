%% Test scenario without a browser for live_load_ci_SUITE: it records the custom metric
%% `ci.value' (ms, dimensions `user' = odd | even and `phase' = the phase's index) on a known
%% schedule, so thresholds, abort_on_fail and the Prometheus exporter can be checked against
%% values a test controls.
%%
%% Config: `phases' ([{FromMs, ToMs, ValueMs}], default [{0, 600000, 20}]): while a user's time
%% since its first iteration is in [FromMs, ToMs) each iteration records ValueMs + (N rem 10),
%% N the user's iteration number; `iteration_ms' (default 50) each iteration's sleep; `report'
%% (a pid) gets `{phases_done, UserId}' once, after the user's last phase; `own_thresholds' is
%% what the scenario's thresholds/1 callback returns (default ["ci.value.count > 0"]).
-module(live_load_ci_metric_scenario).
-behaviour(live_load_scenario).
-export([config/1, config_keys/0, thresholds/1, run/3]).

config_keys() -> [phases, iteration_ms, report, own_thresholds].

config(Opts) ->
    maps:merge(#{phases => [{0, 600000, 20}], iteration_ms => 50}, Opts).

%% gets the same map config/1 gets
thresholds(Opts) ->
    maps:get(own_thresholds, Opts, ["ci.value.count > 0"]).

run(Ctx, UserId, #{phases := Phases, iteration_ms := Sleep} = Config) ->
    Now = erlang:monotonic_time(millisecond),
    A = live_load_context:assigns(Ctx),
    T0 = maps:get(t0, A, Now),
    N = maps:get(n, A, 0) + 1,
    E = Now - T0,
    Parity = case UserId rem 2 of 0 -> <<"even">>; 1 -> <<"odd">> end,
    _ = [live_load_metrics:record(<<"ci.value">>, V + N rem 10,
                                  #{<<"user">> => Parity, <<"phase">> => integer_to_binary(I)})
         || {I, {From, To, V}} <- lists:zip(lists:seq(1, length(Phases)), Phases), E >= From, E < To],
    Last = lists:max([To || {_, To, _} <- Phases]),
    Reported = case Config of
                   #{report := Pid} when E >= Last, not is_map_key(reported, A) ->
                       Pid ! {phases_done, UserId},
                       true;
                   _ -> maps:is_key(reported, A)
               end,
    timer:sleep(Sleep),
    C1 = live_load_context:assign(live_load_context:assign(Ctx, t0, T0), n, N),
    case Reported of
        true -> live_load_context:assign(C1, reported, true);
        false -> C1
    end.
