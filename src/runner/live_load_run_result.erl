%% @doc Turns what the engine knows about a finished scenario run into the result map: the
%% metrics of this node are collected by `live_load_collector' and shaped by `live_load_result'
%% (format in `guides/result_format.md').
-module(live_load_run_result).

-export([build/1]).

-spec build(map()) -> {ok, live_load_result:result()} | {error, term()}.
build(RunInfo) ->
    try live_load_collector:collect([node()]) of
        {ok, Collected} ->
            Info = maps:with([scenario, duration_ms, mode, users, iterations, options], RunInfo),
            {ok, live_load_result:build(Collected, Info)};
        {error, Reason} ->
            {error, {result_failed, Reason}}
    catch Class:Reason:Stack ->
        {error, {result_failed, {Class, Reason, Stack}}}
    end.
