%% @doc Thresholds checked on a run's collected data (`live_load_snapshot:data()', merged over
%% the nodes): each one's observed value and verdict.
%%
%% A threshold's row is every value recorded with all of its dimensions (`{event=inc,
%% route=/counter}' takes the series whose dimensions include both), merged in the sketch NIF and
%% summarised by `live_load_result_stats', so a threshold without dimensions, or with one,
%% observes exactly the figure the result shows (`metrics.M', `metrics.M.by.K.V', `counters.C').
%% Counters give `count', `rate' and, for `iterations' and `http.requests', `failed_rate'
%% (`live_load_failures'). `live_load_run_result' puts the verdicts in the result's `thresholds'
%% section (`guides/result_format.md'); `live_load_threshold_watch' evaluates the
%% `abort_on_fail' ones during the run.
-module(live_load_threshold_eval).

-export([evaluate/3]).
-export([aborted/2]).

-export_type([verdict/0, abort/0]).

-type verdict() :: #{binary() => term()}.
%% What stopped a run: the threshold's verdict when it failed, and when (ms into the run).
-type abort() :: #{expression := binary(), observed := number(), at_ms := non_neg_integer()}.

%% @doc Each threshold's verdict on `Data' over a run of `DurationMs': `expression', `metric',
%% `dimensions', `statistic', `observed' (null when there is no value), `limit', `unit', `pass',
%% `reason' (why there is no observed value, else null) and `abort_on_fail'.
-spec evaluate([live_load_threshold:threshold()], live_load_snapshot:data(), non_neg_integer()) -> [verdict()].
evaluate(Thresholds, Data, DurationMs) ->
    Seconds = max(1, DurationMs) / 1000,
    [verdict(T, Data, Seconds) || T <- Thresholds].

%% @doc The verdicts of a result whose run `Abort' stopped: that threshold failed (whatever the
%% final figure says, the run was cut short because of it) and its reason says when.
-spec aborted([verdict()], abort()) -> [verdict()].
aborted(Verdicts, #{expression := E, observed := O, at_ms := At}) ->
    Reason = iolist_to_binary(io_lib:format("aborted the run ~.1f s in: observed ~ts",
                                            [At / 1000, number(O)])),
    [case V of
         #{<<"expression">> := E} -> V#{<<"pass">> := false, <<"reason">> := Reason};
         _ -> V
     end || V <- Verdicts].

number(N) when is_integer(N) -> integer_to_binary(N);
number(F) -> float_to_binary(float(F), [{decimals, 3}, compact]).

verdict(#{expression := E, op := Op, limit := Limit, statistic := Stat, metric := M, unit := U,
          dims := Dims} = T, Data, Seconds) ->
    {Observed, Reason} = observe(M, Dims, Stat, Data, Seconds),
    Pass = Observed =/= null andalso compare(Op, Observed, Limit),
    #{<<"expression">> => E, <<"metric">> => M, <<"dimensions">> => Dims, <<"statistic">> => Stat,
      <<"observed">> => Observed, <<"limit">> => Limit, <<"unit">> => U,
      <<"pass">> => Pass, <<"reason">> => Reason,
      <<"abort_on_fail">> => maps:get(abort_on_fail, T, false)}.

compare(<<"<">>, A, B) -> A < B;
compare(<<"<=">>, A, B) -> A =< B;
compare(<<">">>, A, B) -> A > B;
compare(<<">=">>, A, B) -> A >= B;
compare(<<"==">>, A, B) -> A == B;
compare(<<"!=">>, A, B) -> A /= B.

observe(M, Dims, Stat, #{sketches := Sketches, metric_errors := Errors, counters := Counters}, Seconds) ->
    IsMetric = has_name(M, Sketches) orelse has_name(M, Errors),
    IsCounter = has_name(M, Counters),
    if
        IsMetric ->
            Row = live_load_result_stats:summary(
                    live_load_result_stats:merge_all(matching(M, Dims, Sketches)),
                    lists:sum(matching(M, Dims, Errors))),
            metric_stat(M, Row, Stat, Seconds);
        IsCounter ->
            counter_stat(M, [{D, N} || {{C, D}, N} <- maps:to_list(Counters), C =:= M, within(Dims, D)],
                         Stat, Seconds);
        Stat =:= <<"count">> ->
            {0, null};   %% nothing of it happened
        true ->
            no_metric(M, Sketches, Errors, Counters)
    end.

%% A documented name that nothing recorded had no values; another name may be a typo.
no_metric(M, Sketches, Errors, Counters) ->
    case lists:member(M, live_load_threshold:documented_names()) of
        true -> {null, <<"no values recorded">>};
        false ->
            Known = lists:usort([N || {N, _} <- maps:keys(Sketches) ++ maps:keys(Errors) ++ maps:keys(Counters)]),
            {null, iolist_to_binary(["no metric ", M, " in the result", live_load_threshold:did_you_mean(M, Known)])}
    end.

has_name(M, Map) ->
    lists:any(fun({N, _}) -> N =:= M end, maps:keys(Map)).

%% The values of the series of `M' recorded with all of `Dims'.
matching(M, Dims, Map) ->
    [V || {{N, D}, V} <- maps:to_list(Map), N =:= M, within(Dims, D)].

within(Filter, Dims) ->
    maps:with(maps:keys(Filter), Dims) =:= Filter.

metric_stat(M, Row, Stat, Seconds) ->
    #{<<"count">> := Count, <<"errors">> := Errors} = Row,
    case Stat of
        <<"count">> -> {Count, null};
        <<"rate">> -> {Count / Seconds, null};
        %% errors recorded with live_load_metrics:error/4 naming the metric (custom metrics)
        <<"failed_rate">> when Count + Errors =:= 0 -> {null, <<"no values recorded">>};
        <<"failed_rate">> -> {100 * Errors / (Count + Errors), null};
        _ when Count =:= 0 -> {null, no_values(M, Errors)};
        <<"p99.9">> -> {maps:get(<<"p99.9">>, Row), null};
        <<"p", N/binary>> -> {lists:nth(binary_to_integer(N) + 1, maps:get(<<"quantiles">>, Row)), null};
        S -> {maps:get(S, Row), null}
    end.

no_values(_M, 0) -> <<"no values recorded">>;
no_values(_M, Errors) -> iolist_to_binary(["no values recorded (", integer_to_binary(Errors), " failed)"]).

%% Counters: `count' is the total of the matching rows, `rate' that per second, `failed_rate'
%% the failed share of it (percent, `live_load_failures').
counter_stat(C, Rows, Stat, Seconds) ->
    Total = lists:sum([N || {_, N} <- Rows]),
    case Stat of
        <<"count">> -> {Total, null};
        <<"rate">> -> {Total / Seconds, null};
        <<"failed_rate">> ->
            case live_load_failures:has_failed_share(C) of
                false ->
                    {null, iolist_to_binary([C, " is a counter without failed_rate (defined for iterations "
                                             "and http.requests)"])};
                true when Total =:= 0 -> {null, <<"no values recorded">>};
                true ->
                    Failed = lists:sum([N || {D, N} <- Rows, live_load_failures:failed(C, D)]),
                    {100 * Failed / Total, null}
            end;
        _ -> {null, iolist_to_binary([C, " is a counter: it has count, rate and failed_rate, not ", Stat])}
    end.
