%% @doc Runs over time: loads several runs (a `--save' directory, oldest first by its index, or
%% result files in the order given) and renders the Markdown trend table: p95 of the main
%% metrics per run, with the run ids. The HTML report shows the same as its "Trend over runs"
%% section when given two or more runs of one scenario. See `guides/ci.md'.
-module(live_load_trend).

-export([load/1]).
-export([markdown/1]).

-define(MAIN, [<<"liveview.event">>, <<"liveview.connect">>, <<"liveview.navigation">>,
               <<"iteration.duration">>, <<"http.duration">>]).

%% @doc `[{RunId, Result}]' from directories (saved runs) and result files.
-spec load([file:filename()]) -> {ok, [{binary(), map()}]} | {error, term()}.
load(Paths) ->
    lists:foldl(fun(_, {error, _} = E) -> E;
                   (P, {ok, Acc}) ->
                        case one(P) of
                            {ok, Rs} -> {ok, Acc ++ Rs};
                            {error, _} = E -> E
                        end
                end, {ok, []}, Paths).

one(Path) ->
    case filelib:is_dir(Path) of
        true -> live_load_runs:load_dir(Path);
        false ->
            case file:read_file(Path) of
                {ok, Bin} ->
                    case live_load_result:read_results(Bin) of
                        {ok, Rs} ->
                            Base = unicode:characters_to_binary(filename:rootname(filename:basename(Path))),
                            {ok, [{Base, R} || R <- Rs]};
                        {error, Why} -> {error, {bad_result_file, Path, Why}}
                    end;
                {error, Why} -> {error, {cannot_read, Path, Why}}
            end
    end.

%% @doc One table per scenario: run id, start, iterations ok/failed and p95 of the main metrics.
-spec markdown([{binary(), map()}]) -> iodata().
markdown(Runs) ->
    Scenarios = lists:usort([scenario(R) || {_, R} <- Runs]),
    [table(S, [{Id, R} || {Id, R} <- Runs, scenario(R) =:= S]) || S <- Scenarios].

table(Scenario, Runs) ->
    Names = [N || N <- ?MAIN, lists:any(fun({_, R}) -> is_map_key(N, maps:get(<<"metrics">>, R, #{})) end, Runs)],
    Head = [<<"Run">>, <<"Started">>, <<"Iterations ok/failed">> | [[N, <<" p95 (ms)">>] || N <- Names]],
    Rows = [[Id, started(R), iterations(R) | [num(p95(R, N)) || N <- Names]] || {Id, R} <- Runs],
    [<<"## Trend: ">>, Scenario, <<" (">>, integer_to_binary(length(Runs)), <<" runs, oldest first)\n\n">>,
     line(Head), line([<<"---">> || _ <- Head]), [line(R) || R <- Rows], $\n].

scenario(R) ->
    case maps:get(<<"scenario">>, maps:get(<<"run">>, R, #{}), null) of
        S when is_binary(S) -> S;
        _ -> <<"run">>
    end.

started(R) ->
    case maps:get(<<"started_at">>, maps:get(<<"run">>, R, #{}), null) of
        S when is_binary(S) -> S;
        _ -> <<"-">>
    end.

iterations(R) ->
    It = maps:get(<<"iterations">>, maps:get(<<"run">>, R, #{}), #{}),
    [integer_to_binary(maps:get(<<"ok">>, It, 0)), $/, integer_to_binary(maps:get(<<"failed">>, It, 0))].

p95(R, Name) ->
    Points = maps:get(<<"quantile_points">>, R, []),
    case maps:get(Name, maps:get(<<"metrics">>, R, #{}), none) of
        #{<<"quantiles">> := Qs} when length(Qs) =:= length(Points) ->
            case [V || {P, V} <- lists:zip(Points, Qs), abs(P - 0.95) < 1.0e-9] of
                [V | _] -> V;
                [] -> null
            end;
        _ -> null
    end.

num(null) -> <<"-">>;
num(V) when abs(V) >= 100 -> float_to_binary(float(V), [{decimals, 0}]);
num(V) -> float_to_binary(float(V), [{decimals, 2}]).

line(Cells) -> [<<"| ">>, lists:join(<<" | ">>, Cells), <<" |\n">>].
