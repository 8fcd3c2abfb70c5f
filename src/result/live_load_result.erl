%% @doc The result of a run: one map, JSON-serialisable without knowing live_load's
%% internals (binary keys, numbers, binaries, lists, `null', booleans), so that
%% `from_json(iolist_to_binary(to_json(R))) =:= {ok, R}'.
%%
%% The format (`"format": "live_load.result/1"') is described field by field in
%% `guides/result_format.md'. Reporters read only this map or its JSON.
-module(live_load_result).

-export([build/2]).
-export([to_json/1]).
-export([from_json/1]).
-export([results_to_json/1]).
-export([read_results/1]).
-export([format/0]).

-export_type([result/0, run_info/0]).

-define(FORMAT, <<"live_load.result/1">>).
-define(RESULTS_FORMAT, <<"live_load.results/1">>).

-type result() :: #{binary() => live_load_json:json()}.
%% What the runner knows about the run; every key is optional.
-type run_info() :: #{scenario => atom() | binary(),
                      duration_ms => non_neg_integer(),
                      mode => atom() | binary(),
                      users => #{target => non_neg_integer(), started => non_neg_integer(),
                                 failed => non_neg_integer(), stopped => non_neg_integer()},
                      iterations => #{ok => non_neg_integer(), failed => non_neg_integer(),
                                      halted => non_neg_integer()},
                      engine => local | amoc,
                      interrupted => boolean(),
                      options => term()}.

%% @doc The format tag written into every result.
-spec format() -> binary().
format() -> ?FORMAT.

%% @doc Build the result from collected metrics and what the runner knows about the run.
-spec build(live_load_collector:collected(), run_info()) -> result().
build(#{nodes := Nodes, merged := Merged}, Run) ->
    #{started_at_ms := Started} = Merged,
    #{<<"format">> => ?FORMAT,
      <<"live_load_version">> => version(),
      <<"run">> => run(Run, Started, Nodes, Merged),
      <<"quantile_points">> => live_load_result_stats:quantile_points(),
      <<"metrics">> => metrics(Merged),
      <<"counters">> => counters(Merged),
      <<"time_series">> => time_series(Merged),
      <<"nodes">> => [node_entry(N) || N <- Nodes],
      <<"errors">> => errors(Merged)}.

%% @doc The result as JSON text.
-spec to_json(result()) -> iodata().
to_json(Result) ->
    live_load_json:encode(Result).

%% @doc Read a result saved as JSON. Rejects other formats.
-spec from_json(iodata()) -> {ok, result()} | {error, term()}.
from_json(Json) ->
    case live_load_json:decode(Json) of
        {ok, #{<<"format">> := ?FORMAT} = R} -> {ok, R};
        {ok, #{<<"format">> := Other}} -> {error, {unsupported_format, Other}};
        {ok, _} -> {error, {unsupported_format, missing}};
        {error, _} = Error -> Error
    end.

%% @doc Several results (one per scenario, in run order) as one JSON document, the shape of every
%% results file: `{"format": "live_load.results/1", "results": [Result, ...]}'.
-spec results_to_json([result()]) -> iodata().
results_to_json(Results) ->
    ["{\"format\":\"", ?RESULTS_FORMAT, "\",\"results\":[",
     lists:join(",\n", [to_json(R) || R <- Results]), "]}\n"].

%% @doc Read a results file: the `live_load.results/1' envelope, one bare result, or a JSON
%% array of results (files written before the envelope). Every result is checked as by
%% {@link from_json/1}.
-spec read_results(iodata()) -> {ok, [result()]} | {error, term()}.
read_results(Json) ->
    case live_load_json:decode(Json) of
        {ok, #{<<"format">> := ?RESULTS_FORMAT, <<"results">> := Rs}} when is_list(Rs) -> check_results(Rs);
        {ok, #{<<"format">> := ?FORMAT} = R} -> {ok, [R]};
        {ok, #{<<"format">> := Other}} -> {error, {unsupported_format, Other}};
        {ok, Rs} when is_list(Rs) -> check_results(Rs);
        {ok, _} -> {error, {unsupported_format, missing}};
        {error, _} = Error -> Error
    end.

check_results(Rs) ->
    case [R || R <- Rs, not (is_map(R) andalso maps:get(<<"format">>, R, undefined) =:= ?FORMAT)] of
        [] -> {ok, Rs};
        [#{<<"format">> := Other} | _] -> {error, {unsupported_format, Other}};
        [_ | _] -> {error, {unsupported_format, missing}}
    end.

%%% Run metadata

run(Run, Started, Nodes, Merged) ->
    Iterations = case Run of
                     #{iterations := I} -> live_load_json:to_term(I);
                     _ -> iterations(Merged)
                 end,
    #{<<"scenario">> => live_load_json:to_term(maps:get(scenario, Run, null)),
      <<"started_at">> => iso8601(Started),
      <<"duration_ms">> => maps:get(duration_ms, Run,
                                    erlang:system_time(millisecond) - Started),
      <<"mode">> => live_load_json:to_term(maps:get(mode, Run, null)),
      <<"users">> => live_load_json:to_term(maps:get(users, Run, null)),
      <<"iterations">> => Iterations,
      <<"nodes">> => [atom_to_binary(N, utf8) || #{node := N} <- Nodes],
      <<"engine">> => live_load_json:to_term(maps:get(engine, Run, local)),
      <<"interrupted">> => maps:get(interrupted, Run, false),
      <<"options">> => live_load_json:to_term(maps:get(options, Run, #{}))}.

iterations(#{counters := Counters}) ->
    lists:foldl(fun({V, N}, Acc) -> maps:update_with(V, fun(M) -> M + N end, N, Acc) end, #{},
                [{text(V), N} || {{<<"iterations">>, #{<<"result">> := V}}, N}
                                     <- maps:to_list(Counters)]).

version() ->
    _ = application:load(live_load),
    case application:get_key(live_load, vsn) of
        {ok, Vsn} -> list_to_binary(Vsn);
        undefined -> null
    end.

%%% Metrics

metrics(Data) ->
    #{sketches := Sketches, metric_errors := Errors, declared := Declared} = Data,
    ByMetric = group(maps:to_list(Sketches)),
    ErrorsByMetric = group(maps:to_list(Errors)),
    Names = lists:usort(maps:keys(ByMetric) ++ maps:keys(ErrorsByMetric)),
    maps:from_list(
      [{text(M), metric(maps:get(M, ByMetric, []), maps:get(M, ErrorsByMetric, []),
                        maps:get(M, Declared, {ms, <<>>}))}
       || M <- Names]).

%% #{Name => [{Dims, Value}]}
group(KVs) ->
    lists:foldl(fun({{Name, Dims}, V}, Acc) ->
                        maps:update_with(Name, fun(L) -> [{Dims, V} | L] end, [{Dims, V}], Acc)
                end, #{}, KVs).

metric(Series, ErrorSeries, {Unit, Desc}) ->
    All = live_load_result_stats:merge_all([S || {_, S} <- Series]),
    Top = live_load_result_stats:summary(All, lists:sum([N || {_, N} <- ErrorSeries])),
    Top#{<<"unit">> => atom_to_binary(Unit, utf8),
         <<"description">> => Desc,
         <<"by">> => by(Series, ErrorSeries)}.

%% Per dimension key and value: the merge of every combination holding that value.
by(Series, ErrorSeries) ->
    Sketches = by_value(Series, fun(L) -> live_load_result_stats:merge_all(L) end),
    Errors = by_value(ErrorSeries, fun lists:sum/1),
    Keys = lists:usort(maps:keys(Sketches) ++ maps:keys(Errors)),
    lists:foldl(
      fun({K, V} = KV, Acc) ->
              S = case Sketches of
                      #{KV := Sk} -> Sk;
                      _ -> live_load_sketch:new()
                  end,
              Row = live_load_result_stats:summary(S, maps:get(KV, Errors, 0)),
              maps:update_with(text(K), fun(Vs) -> Vs#{text(V) => Row} end,
                               #{text(V) => Row}, Acc)
      end, #{}, Keys).

by_value(Series, Combine) ->
    Grouped = lists:foldl(
                fun({Dims, X}, Acc) ->
                        maps:fold(fun(K, V, A) ->
                                          maps:update_with({K, V}, fun(L) -> [X | L] end, [X], A)
                                  end, Acc, Dims)
                end, #{}, Series),
    maps:map(fun(_, L) -> Combine(L) end, Grouped).

%%% Counters

counters(#{counters := Counters, overflow := Overflow}) ->
    Folded = [{{<<"live_load.dimension_overflow">>,
                #{<<"metric">> => Name, <<"dimension">> => Key}}, N}
              || {{Name, Key}, N} <- maps:to_list(Overflow)],
    maps:fold(fun(C, L, Acc) -> Acc#{text(C) => counter(L)} end, #{},
              group(maps:to_list(Counters) ++ Folded)).

counter(Series) ->
    By = lists:foldl(
           fun({Dims, N}, Acc) ->
                   maps:fold(fun(K, V, A) ->
                                     Row = maps:get(text(K), A, #{}),
                                     A#{text(K) => Row#{text(V) => N + maps:get(text(V), Row, 0)}}
                             end, Acc, Dims)
           end, #{}, Series),
    #{<<"total">> => lists:sum([N || {_, N} <- Series]), <<"by">> => By}.

%%% Time series

time_series(#{bucket_ms := Width, buckets := Buckets, bucket_errors := BErrors,
              bucket_counters := BCounters}) ->
    Indexes = [I || {_, I} <- maps:keys(Buckets) ++ maps:keys(BErrors) ++ maps:keys(BCounters)],
    Last = lists:max([-1 | Indexes]),
    Sk = group_index(Buckets),
    Er = group_index(BErrors),
    Co = group_index(BCounters),
    #{<<"bucket_ms">> => Width,
      <<"buckets">> => [bucket(I * Width, maps:get(I, Sk, #{}), maps:get(I, Er, #{}),
                               maps:get(I, Co, #{}))
                        || I <- lists:seq(0, Last)]}.

%% #{Index => #{Name => Value}}
group_index(Map) ->
    maps:fold(fun({Name, I}, V, Acc) ->
                      maps:update_with(I, fun(M) -> M#{Name => V} end, #{Name => V}, Acc)
              end, #{}, Map).

bucket(T, Sketches, Errors, Counters) ->
    Names = lists:usort(maps:keys(Sketches) ++ maps:keys(Errors)),
    #{<<"t_ms">> => T,
      <<"metrics">> => maps:from_list(
                         [{text(M), live_load_result_stats:bucket(maps:get(M, Sketches, none),
                                                                  maps:get(M, Errors, 0))}
                          || M <- Names]),
      <<"counters">> => maps:from_list([{text(C), N} || {C, N} <- maps:to_list(Counters)])}.

%%% Nodes

%% A node's entry: its figures when it has data (also a node lost mid-run, which keeps its
%% data up to the last pull), its status, and for a node not `ok' the reason (and `down_at').
node_entry(#{node := Node, status := Status} = R) ->
    Base = #{<<"node">> => atom_to_binary(Node, utf8), <<"status">> => atom_to_binary(Status, utf8)},
    WithData = case R of
                   #{data := Data} -> maps:merge(Base, node_figures(Data));
                   _ -> Base
               end,
    WithReason = case R of
                     #{reason := Reason} when Status =/= ok ->
                         WithData#{<<"reason">> => unicode:characters_to_binary(
                                                     io_lib:format("~0tP", [Reason, 12]))};
                     _ -> WithData
                 end,
    case R of
        #{down_at := At} -> WithReason#{<<"down_at">> => iso8601(At)};
        _ -> WithReason
    end.

node_figures(Data) ->
    #{sketches := Sketches, metric_errors := Errors, counters := Counters} = Data,
    ByMetric = group(maps:to_list(Sketches)),
    ErrorsByMetric = group(maps:to_list(Errors)),
    Names = lists:usort(maps:keys(ByMetric) ++ maps:keys(ErrorsByMetric)),
    Metrics = [{text(M), live_load_result_stats:short(
                           live_load_result_stats:merge_all([S || {_, S} <- maps:get(M, ByMetric, [])]),
                           lists:sum([N || {_, N} <- maps:get(M, ErrorsByMetric, [])]))}
               || M <- Names],
    CounterTotals = maps:fold(fun(C, L, Acc) -> Acc#{text(C) => lists:sum([N || {_, N} <- L])} end,
                              #{}, group(maps:to_list(Counters))),
    #{<<"started_at">> => iso8601(maps:get(started_at_ms, Data)),
      <<"metrics">> => maps:from_list(Metrics), <<"counters">> => CounterTotals}.

%%% Errors

errors(#{errors := Errors}) ->
    Sorted = lists:sort(fun({_, {A, _, _}}, {_, {B, _, _}}) -> A >= B end, maps:to_list(Errors)),
    [#{<<"kind">> => text(K), <<"message">> => text(Msg),
       <<"metric">> => case M of undefined -> null; _ -> text(M) end,
       <<"count">> => N, <<"first_at">> => iso8601(F), <<"last_at">> => iso8601(L)}
     || {{K, Msg, M}, {N, F, L}} <- Sorted].

%%% Helpers

iso8601(Ms) ->
    list_to_binary(calendar:system_time_to_rfc3339(Ms, [{unit, millisecond}, {offset, "Z"}])).

%% Texts from outside (dimension values, error messages) may not be UTF-8; JSON needs it.
%% Such bytes are read as Latin-1, which maps every byte to a character.
text(B) when is_binary(B) ->
    case unicode:characters_to_binary(B, utf8, utf8) of
        B -> B;
        _ -> unicode:characters_to_binary(B, latin1, utf8)
    end.
