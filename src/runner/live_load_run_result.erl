%% @doc Turns a finished scenario run into the result map, the same way for every engine: the
%% metrics of the nodes that ran users are collected by `live_load_collector' and shaped by
%% `live_load_result' (format in `guides/result_format.md'). The user and iteration counts come
%% from the counters the user loop records (`users.started', `users.done', `iterations'), merged
%% over the nodes, so a count exists only for what happened. The `thresholds' of `Info' are
%% checked here, on the merged data (`live_load_threshold_eval': a threshold naming several
%% dimensions needs their combinations, which the result does not keep).
-module(live_load_run_result).

-export([build/1]).
-export([build/2]).

-type info() :: #{scenario := module(), target := pos_integer(), duration_ms := non_neg_integer(),
                  mode := atom(), options := map(), engine => local | amoc,
                  interrupted => boolean(), nodes => [node()], run_id => live_load_metrics:run_id(),
                  thresholds => [live_load_threshold:threshold()]}.
-export_type([info/0]).

%% @doc Collects this node's metrics (or `nodes' of `Info') and builds the result.
-spec build(info()) -> {ok, live_load_result:result()} | {error, term()}.
build(Info) ->
    Opts = case maps:get(run_id, Info, undefined) of
               undefined -> #{};
               RunId -> #{run_id => RunId}
           end,
    try live_load_collector:collect(maps:get(nodes, Info, [node()]), Opts) of
        {ok, Collected} -> build(Collected, Info);
        {error, Reason} -> {error, {result_failed, Reason}}
    catch Class:Reason:Stack ->
        {error, {result_failed, {Class, Reason, Stack}}}
    end.

%% @doc The result of already collected metrics.
-spec build(live_load_collector:collected(), info()) -> {ok, live_load_result:result()} | {error, term()}.
build(#{merged := Merged} = Collected, Info) ->
    try
        Counters = maps:get(counters, Merged),
        Sum = fun(Name, Pred) ->
                      lists:sum([N || {{C, Dims}, N} <- maps:to_list(Counters), C =:= Name, Pred(Dims)])
              end,
        Status = fun(S) -> fun(D) -> maps:get(<<"status">>, D, undefined) =:= S end end,
        Result = fun(R) -> fun(D) -> maps:get(<<"result">>, D, undefined) =:= R end end,
        All = fun(_) -> true end,
        Run = #{scenario => maps:get(scenario, Info),
                duration_ms => maps:get(duration_ms, Info),
                mode => maps:get(mode, Info),
                engine => maps:get(engine, Info, local),
                interrupted => maps:get(interrupted, Info, false),
                users => #{target => maps:get(target, Info),
                           started => Sum(<<"users.started">>, All),
                           failed => Sum(<<"users.done">>, Status(<<"failed">>)),
                           stopped => Sum(<<"users.done">>, Status(<<"stopped">>))},
                iterations => #{ok => Sum(<<"iterations">>, Result(<<"ok">>)),
                                failed => Sum(<<"iterations">>, Result(<<"failed">>)),
                                halted => Sum(<<"iterations">>, Result(<<"halted">>))},
                options => maps:get(options, Info)},
        Built = live_load_result:build(Collected, Run),
        {ok, case maps:get(thresholds, Info, []) of
                 [] -> Built;
                 Ts -> Built#{<<"thresholds">> => live_load_threshold_eval:evaluate(Ts, Merged, maps:get(duration_ms, Info))}
             end}
    catch Class:Reason:Stack ->
        {error, {result_failed, {Class, Reason, Stack}}}
    end.
