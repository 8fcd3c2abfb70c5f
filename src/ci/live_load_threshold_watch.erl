%% @doc `abort_on_fail' thresholds, k6-style: checked during the run, and the run is stopped
%% when one fails.
%%
%% One process per scenario run that has such thresholds (`live_load:run/1' starts it beside
%% the engine). Every 2 s (k6 evaluates its thresholds every 2 s too) it collects this run's
%% data from this node and the nodes connected to it (`live_load_collector:collect/2' with the
%% run id: other runs' data and nodes without live_load are left out, as in the result), and
%% evaluates the `abort_on_fail' thresholds whose `delay_abort_eval' has passed (counted from the
%% start of the run's metrics) with `live_load_threshold_eval'. A threshold that observes a value
%% and fails on it stops the run (`live_load:stop/0': users stopped, the partial result built);
%% one with no value yet does not. {@link stop/1} says which threshold stopped the run, if any.
%% See `guides/ci.md'.
-module(live_load_threshold_watch).

-export([start/3]).
-export([stop/1]).

-define(INTERVAL_MS, 2000).
-define(COLLECT_TIMEOUT_MS, 5000).

%% @doc Watches the `abort_on_fail' thresholds of `Thresholds' for the run `RunId'; `Stop' stops
%% the run. `none' when no threshold has `abort_on_fail'.
-spec start([live_load_threshold:threshold()], live_load_metrics:run_id(), fun(() -> term())) -> pid() | none.
start(Thresholds, RunId, Stop) ->
    case [T || #{abort_on_fail := true} = T <- Thresholds] of
        [] -> none;
        Abort ->
            Owner = self(),
            spawn(fun() ->
                          _ = monitor(process, Owner),
                          loop(#{thresholds => Abort, run_id => RunId, stop => Stop, aborted => none})
                  end)
    end.

%% @doc Stops watching; `{aborted, Abort}' when a threshold stopped the run.
-spec stop(pid() | none) -> none | {aborted, live_load_threshold_eval:abort()}.
stop(none) -> none;
stop(Pid) ->
    Mon = monitor(process, Pid),
    Pid ! {stop, self(), Mon},
    receive
        {Mon, Answer} -> demonitor(Mon, [flush]), Answer;
        {'DOWN', Mon, process, Pid, _} -> none
    end.

loop(#{aborted := Aborted} = S) ->
    receive
        {stop, From, Ref} -> From ! {Ref, Aborted};
        {'DOWN', _, process, _, _} -> ok
    after ?INTERVAL_MS ->
            case Aborted of
                none -> loop(check(S));
                _ -> loop(S)
            end
    end.

check(#{thresholds := Ts, run_id := RunId, stop := Stop} = S) ->
    Nodes = lists:usort([node() | nodes()]),
    {ok, #{merged := Data}} = live_load_collector:collect(Nodes, #{run_id => RunId, timeout => ?COLLECT_TIMEOUT_MS}),
    Elapsed = max(0, erlang:system_time(millisecond) - maps:get(started_at_ms, Data)),
    Due = [T || #{delay_abort_eval := Delay} = T <- Ts, Elapsed >= Delay],
    Failed = [V || #{<<"pass">> := false, <<"observed">> := O} = V
                       <- live_load_threshold_eval:evaluate(Due, Data, Elapsed), O =/= null],
    case Failed of
        [] -> S;
        [#{<<"expression">> := E, <<"observed">> := O} | _] ->
            _ = Stop(),
            S#{aborted := {aborted, #{expression => E, observed => O, at_ms => Elapsed}}}
    end.
