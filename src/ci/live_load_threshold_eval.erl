%% @doc Thresholds checked on a result: each one's observed value (read from the result map of
%% `live_load_result', exactly as the reports show it) and verdict. The expressions are parsed by
%% `live_load_threshold'; `live_load:run/1' puts the verdicts in the result's `thresholds'
%% section (`guides/result_format.md').
-module(live_load_threshold_eval).

-export([evaluate/2]).

-export_type([verdict/0]).

-type verdict() :: #{binary() => term()}.

%% @doc Each threshold's verdict on `Result': `expression', `metric', `statistic', `observed'
%% (null when the result has no such values), `limit', `unit', `pass' and `reason' (why there is
%% no observed value, else null).
-spec evaluate([live_load_threshold:threshold()], map()) -> [verdict()].
evaluate(Thresholds, Result) ->
    [verdict(T, Result) || T <- Thresholds].

verdict(#{expression := E, op := Op, limit := Limit, statistic := Stat, metric := M, unit := U} = T, Result) ->
    {Observed, Reason} = observe(T, Result),
    Pass = Observed =/= null andalso compare(Op, Observed, Limit),
    #{<<"expression">> => E, <<"metric">> => M, <<"statistic">> => Stat,
      <<"observed">> => Observed, <<"limit">> => Limit, <<"unit">> => U,
      <<"pass">> => Pass, <<"reason">> => Reason}.

compare(<<"<">>, A, B) -> A < B;
compare(<<"<=">>, A, B) -> A =< B;
compare(<<">">>, A, B) -> A > B;
compare(<<">=">>, A, B) -> A >= B;
compare(<<"==">>, A, B) -> A == B;
compare(<<"!=">>, A, B) -> A /= B.

observe(#{metric := M, dim := Dim, statistic := Stat}, Result) ->
    Metrics = maps:get(<<"metrics">>, Result, #{}),
    Counters = maps:get(<<"counters">>, Result, #{}),
    Seconds = max(1, maps:get(<<"duration_ms">>, maps:get(<<"run">>, Result, #{}), 1000)) / 1000,
    case {Metrics, Counters} of
        {#{M := Metric}, _} -> metric_stat(row(Metric, Dim), Stat, Seconds, Result);
        {_, #{M := Counter}} -> counter_stat(Counter, Dim, Stat, Seconds);
        _ when Stat =:= <<"count">> -> {0, null};   %% nothing of it happened
        _ ->
            Known = maps:keys(Metrics) ++ maps:keys(Counters),
            {null, iolist_to_binary(["no metric ", M, " in the result", live_load_threshold:did_you_mean(M, Known)])}
    end.

row(Metric, none) -> Metric;
row(Metric, {K, V}) ->
    case Metric of
        #{<<"by">> := #{K := #{V := Row}}} -> Row;
        _ -> #{<<"count">> => 0, <<"errors">> => 0}
    end.

metric_stat(Row, Stat, Seconds, Result) ->
    Count = maps:get(<<"count">>, Row, 0),
    Errors = maps:get(<<"errors">>, Row, 0),
    case Stat of
        <<"count">> -> {Count, null};
        <<"rate">> -> {Count / Seconds, null};
        <<"failed_rate">> when Count + Errors =:= 0 -> {null, <<"no values recorded">>};
        <<"failed_rate">> -> {100 * Errors / (Count + Errors), null};
        _ when Count =:= 0 -> {null, <<"no values recorded">>};
        <<"p99.9">> -> {maps:get(<<"p99.9">>, Row, null), null};
        <<"p", N/binary>> -> {quantile(binary_to_integer(N), Row, Result), null};
        S -> {maps:get(S, Row, null), null}
    end.

%% From the 101-point curve aligned to the result's quantile_points.
quantile(Percent, #{<<"quantiles">> := Qs}, #{<<"quantile_points">> := Points})
  when length(Qs) =:= length(Points) ->
    case [V || {P, V} <- lists:zip(Points, Qs), abs(P * 100 - Percent) < 1.0e-6] of
        [V | _] -> V;
        [] -> null
    end;
quantile(_, _, _) -> null.

%% Counters: `count' is the total (or the dimension value's); `rate' that per second;
%% `failed_rate' is the share of `result=failed' (the `iterations' counter) in percent.
counter_stat(#{<<"total">> := Total} = C, Dim, Stat, Seconds) ->
    By = maps:get(<<"by">>, C, #{}),
    N = case Dim of
            none -> Total;
            {K, V} -> maps:get(V, maps:get(K, By, #{}), 0)
        end,
    case Stat of
        <<"count">> -> {N, null};
        <<"rate">> -> {N / Seconds, null};
        <<"failed_rate">> when Total =:= 0 -> {null, <<"no values recorded">>};
        <<"failed_rate">> ->
            Failed = maps:get(<<"failed">>, maps:get(<<"result">>, By, #{}), 0),
            {100 * Failed / Total, null};
        _ -> {null, <<"a counter has count, rate and failed_rate only">>}
    end.
