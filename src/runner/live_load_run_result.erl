%% @doc Turns what the engine knows about a finished scenario run into the result map, through
%% `live_load_collector' (merged sketches of every node) and `live_load_result' (the map whose
%% format `guides/result_format.md' defines).
-module(live_load_run_result).

-export([build/1]).

-spec build(map()) -> {ok, map()} | {error, term()}.
build(RunInfo) ->
    try
        {ok, live_load_result:build(live_load_collector:collect(), RunInfo)}
    catch Class:Reason:Stack ->
        {error, {result_failed, {Class, Reason, Stack}}}
    end.
