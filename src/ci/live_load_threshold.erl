%% @doc Thresholds: pass/fail rules on a run's result, written once here.
%%
%% ```
%% METRIC[{DIM=VALUE,...}].STATISTIC OP VALUE[UNIT]
%% liveview.event{event=inc}.p95 < 100ms
%% liveview.event{event=inc,connection=browser}.p95 < 100ms
%% iterations.failed_rate < 1%
%% http.requests{status=500}.count == 0
%% '''
%% Statistics: `p0'..`p100' (whole percents, from the result's quantile curve) and `p99.9',
%% `min', `max', `mean', `count', `rate' (per second of the run) and `failed_rate' (percent).
%% A statistic that means nothing for a documented name is refused here: a counter has `count'
%% and `rate' (and `failed_rate' for `iterations' and `http.requests', `live_load_failures');
%% no built-in metric records failed operations, so a documented metric has no `failed_rate'.
%% Comparisons: `<' `<=' `>' `>=' `==' `!='. Units: `ms', `s', `m' for time metrics; `B', `kB',
%% `MB' for bytes; `%' for `failed_rate'; `/s' (optional) for `rate'; none for counts.
%%
%% A threshold is that expression, or a map `#{expr => Expression, abort_on_fail => true,
%% delay_abort_eval => Ms}': with `abort_on_fail' it is also checked every 2 s during the run and
%% stops the run when it fails (`live_load_threshold_watch'), not before `delay_abort_eval' ms of
%% the run have passed.
%%
%% {@link parse/1} checks the syntax and, for names that look like a documented metric but are
%% not one, says which was meant; `live_load_threshold_eval:evaluate/3' gives each threshold's
%% observed value and verdict against a run's data. See `guides/ci.md'.
-module(live_load_threshold).

-export([parse/1]).
-export([parse_all/1]).
-export([did_you_mean/2]).
-export([format_error/1]).
-export([documented_names/0]).
-export([documented_metrics/0]).
-export([documented_counters/0]).

-export_type([threshold/0]).

-type threshold() :: #{expression := binary(),
                       metric := binary(),
                       dims := #{binary() => binary()},
                       statistic := binary(),
                       op := binary(),
                       limit := number(),
                       unit := binary(),
                       abort_on_fail := boolean(),
                       delay_abort_eval := non_neg_integer()}.

-define(OPS, [<<"<=">>, <<">=">>, <<"==">>, <<"!=">>, <<"<">>, <<">">>]).
-define(STATS, [<<"min">>, <<"max">>, <<"mean">>, <<"count">>, <<"rate">>, <<"failed_rate">>]).

%% @doc The metric and counter names of `guides/events.md' (a test keeps the two equal).
-spec documented_names() -> [binary()].
documented_names() ->
    documented_metrics() ++ documented_counters().

%% @doc The documented metrics (values in a sketch: quantiles, min, max, mean, count, rate).
-spec documented_metrics() -> [binary()].
documented_metrics() ->
    [<<"liveview.connect">>, <<"liveview.event">>, <<"liveview.input_to_patch">>, <<"liveview.wire">>,
     <<"liveview.event_received">>,
     <<"liveview.diff_bytes">>, <<"liveview.navigation">>, <<"liveview.reconnect">>, <<"http.duration">>,
     <<"http.ttfb">>, <<"http.dns">>, <<"http.connect">>, <<"http.tls">>, <<"http.bytes">>,
     <<"ws.handshake">>, <<"ws.frame_sent_bytes">>, <<"ws.frame_received_bytes">>, <<"step.duration">>,
     <<"iteration.duration">>].

%% @doc The documented counters (count and rate; failed_rate where `live_load_failures' has one).
-spec documented_counters() -> [binary()].
documented_counters() ->
    [<<"liveview.transport">>, <<"liveview.events_lost">>, <<"liveview.disconnects">>,
     <<"liveview.reconnects">>, <<"liveview.errors">>, <<"liveview.diagnostics">>,
     <<"page.js_errors">>, <<"page.crashes">>, <<"page.dialogs">>, <<"page.dialog_loops_stopped">>,
     <<"observer.dropped">>, <<"http.requests">>,
     <<"http.failures">>, <<"ws.opened">>, <<"ws.closed">>, <<"ws.frames_sent">>,
     <<"ws.frames_received">>, <<"events.invalid">>, <<"iterations">>].

%% @doc Parses a list of thresholds; the first bad one gives
%% `{error, {invalid_threshold, Expression, Why}}'.
-spec parse_all([unicode:chardata() | map()]) -> {ok, [threshold()]} | {error, term()}.
parse_all(Exprs) when is_list(Exprs) ->
    lists:foldl(fun(E, {ok, Acc}) ->
                        case parse(E) of
                            {ok, T} -> {ok, Acc ++ [T]};
                            {error, _} = Err -> Err
                        end;
                   (_, Err) -> Err
                end, {ok, []}, Exprs);
parse_all(Other) ->
    {error, {invalid_option, thresholds, Other}}.

%% @doc Parses one threshold (an expression, or a map with `expr' and the abort options), or
%% `{error, {invalid_threshold, Expression, Why}}'.
-spec parse(unicode:chardata() | map()) -> {ok, threshold()} | {error, {invalid_threshold, binary(), term()}}.
parse(#{} = Map) ->
    case maps:find(expr, Map) of
        {ok, Expr} ->
            case parse(Expr) of
                {ok, T} -> options(maps:to_list(maps:remove(expr, Map)), T);
                {error, _} = E -> E
            end;
        error -> {error, {invalid_threshold, printed(Map), missing_expr}}
    end;
parse(Expr0) ->
    case unicode:characters_to_binary(Expr0) of
        Expr when is_binary(Expr) ->
            case parse_bin(string:trim(Expr)) of
                {ok, T} -> {ok, T#{expression => string:trim(Expr), abort_on_fail => false,
                                   delay_abort_eval => 0}};
                {error, Why} -> {error, {invalid_threshold, Expr, Why}}
            end;
        _ -> {error, {invalid_threshold, printed(Expr0), not_text}}
    end.

printed(Term) -> iolist_to_binary(io_lib:format("~0tp", [Term])).

options([], T) -> {ok, T};
options([{abort_on_fail, B} | Rest], T) when is_boolean(B) -> options(Rest, T#{abort_on_fail := B});
options([{delay_abort_eval, Ms} | Rest], T) when is_integer(Ms), Ms >= 0 ->
    options(Rest, T#{delay_abort_eval := Ms});
options([{K, V} | _], #{expression := E}) when K =:= abort_on_fail; K =:= delay_abort_eval ->
    {error, {invalid_threshold, E, {bad_option, K, V}}};
options([{K, _} | _], #{expression := E}) ->
    {error, {invalid_threshold, E, {unknown_key, K}}}.

parse_bin(Expr) ->
    case split_op(Expr) of
        {ok, Lhs, Op, Rhs} ->
            case lhs(string:trim(Lhs)) of
                {ok, {Metric, Dims, Stat}} ->
                    case value(string:trim(Rhs), Metric, Stat) of
                        {ok, {Limit, Kind}} ->
                            {ok, #{metric => Metric, dims => Dims, statistic => Stat, op => Op,
                                   limit => Limit, unit => unit_name(Kind)}};
                        {error, _} = E -> E
                    end;
                {error, _} = E -> E
            end;
        {error, _} = E -> E
    end.

%% The comparison is the first run of <, >, =, ! characters after the dimension braces.
split_op(Expr) ->
    From = case binary:matches(Expr, <<"}">>) of
               [] -> 0;
               Ms -> element(1, lists:last(Ms)) + 1
           end,
    case re:run(Expr, <<"[<>=!]+">>, [{capture, first, index}, {offset, From}]) of
        {match, [{Start, Len}]} ->
            Op = binary:part(Expr, Start, Len),
            Lhs = binary:part(Expr, 0, Start),
            Rhs = binary:part(Expr, Start + Len, byte_size(Expr) - Start - Len),
            case lists:member(Op, ?OPS) of
                true when Lhs =:= <<>> -> {error, missing_metric};
                true when Rhs =:= <<>> -> {error, missing_value};
                true -> {ok, Lhs, Op, Rhs};
                false -> {error, {bad_comparison, Op}}
            end;
        nomatch -> {error, missing_comparison}
    end.

lhs(Lhs) ->
    case re:run(Lhs, <<"^(.+?)\\.(p[0-9]+\\.[0-9]+|[^.{}]+)$">>,
                [{capture, all_but_first, binary}, unicode]) of
        {match, [Target, Stat]} ->
            case {stat(Stat), lists:member(Lhs, documented_names())} of
                {ok, _} -> target(Target, Stat);
                {{error, _}, true} -> {error, {missing_statistic, Lhs}};
                {{error, _} = E, false} -> E
            end;
        nomatch -> {error, {missing_statistic, Lhs}}
    end.

stat(<<"p99.9">>) -> ok;
stat(<<"p", N/binary>> = S) ->
    case string:to_integer(N) of
        {I, <<>>} when I >= 0, I =< 100 -> ok;
        _ -> {error, {bad_statistic, S}}
    end;
stat(S) ->
    case lists:member(S, ?STATS) of
        true -> ok;
        false -> {error, {bad_statistic, S}}
    end.

target(Target, Stat) ->
    case re:run(Target, <<"^([^{}]+)(?:\\{([^{}]*)\\})?$">>, [{capture, all_but_first, binary}]) of
        {match, [Metric]} -> metric(Metric, #{}, Stat);
        {match, [Metric, Dims]} ->
            case dims(string:split(Dims, ",", all), #{}) of
                {ok, Map} -> metric(Metric, Map, Stat);
                {error, Why} -> {error, {Why, Dims}}
            end;
        _ -> {error, {bad_metric, Target}}
    end.

dims([], Acc) -> {ok, Acc};
dims([D | Rest], Acc) ->
    case [string:trim(P) || P <- string:split(D, "=")] of
        [K, V] when K =/= <<>>, V =/= <<>> ->
            case maps:is_key(K, Acc) of
                true -> {error, duplicate_dimension};
                false -> dims(Rest, Acc#{K => V})
            end;
        _ -> {error, bad_dimension}
    end.

metric(Metric, Dims, Stat) ->
    case re:run(Metric, <<"^[A-Za-z0-9_.:-]+$">>) of
        nomatch -> {error, {bad_metric, Metric}};
        _ ->
            Documented = documented_names(),
            case lists:member(Metric, Documented) of
                true ->
                    case statistic_for(Metric, Stat) of
                        ok -> {ok, {Metric, Dims, Stat}};
                        {error, _} = E -> E
                    end;
                false ->
                    %% a custom metric is fine; a near miss of a documented one is a typo
                    case closest(Metric, Documented, 2) of
                        none -> {ok, {Metric, Dims, Stat}};
                        Near -> {error, {no_metric, Metric, Near}}
                    end
            end
    end.

%% A statistic that means nothing for a documented name is refused rather than evaluated to a
%% constant (a failed_rate that is always 0 would always pass).
statistic_for(Name, Stat) ->
    case {lists:member(Name, documented_counters()), Stat} of
        {true, <<"count">>} -> ok;
        {true, <<"rate">>} -> ok;
        {true, <<"failed_rate">>} ->
            case live_load_failures:has_failed_share(Name) of
                true -> ok;
                false -> {error, {no_failed_rate, counter, Name}}
            end;
        {true, _} -> {error, {counter_statistic, Name, Stat}};
        {false, <<"failed_rate">>} -> {error, {no_failed_rate, metric, Name}};
        {false, _} -> ok
    end.

%% The limit in the metric's own unit (ms, bytes, count, percent, per second).
value(Rhs, Metric, Stat) ->
    case re:run(Rhs, <<"^(-?[0-9]+(?:\\.[0-9]+)?)\\s*(\\S*)$">>, [{capture, all_but_first, binary}]) of
        {match, [Num, Unit]} ->
            Kinds = kinds(Metric, Stat),
            case [{L, K} || K <- Kinds, {ok, L} <- [unit(number(Num), Unit, K)]] of
                [LimitKind | _] -> {ok, LimitKind};
                [] -> {error, {bad_unit, Unit, hd(Kinds)}}
            end;
        nomatch -> {error, {bad_value, Rhs}}
    end.

%% The kinds a limit of `Stat' on `Metric' may be written in: a documented metric's own, a
%% custom metric's time or bytes.
kinds(Metric, Stat) ->
    case kind(Metric, Stat) of
        time ->
            case lists:member(Metric, documented_names()) of
                true -> [time];
                false -> [time, bytes]
            end;
        K -> [K]
    end.

number(B) ->
    case string:to_integer(B) of
        {I, <<>>} -> I;
        _ -> binary_to_float(B)
    end.

%% What a statistic's value measures.
kind(_Metric, <<"count">>) -> count;
kind(_Metric, <<"rate">>) -> rate;
kind(_Metric, <<"failed_rate">>) -> percent;
kind(Metric, _) ->
    case binary:match(Metric, <<"bytes">>) of
        nomatch -> time;
        _ -> bytes
    end.

unit(N, <<>>, _Kind) -> {ok, N};
unit(_N, _, count) -> error;
unit(N, <<"ms">>, time) -> {ok, N};
unit(N, <<"s">>, time) -> {ok, N * 1000};
unit(N, <<"m">>, time) -> {ok, N * 60000};
unit(N, <<"B">>, bytes) -> {ok, N};
unit(N, <<"kB">>, bytes) -> {ok, N * 1000};
unit(N, <<"MB">>, bytes) -> {ok, N * 1000000};
unit(N, <<"%">>, percent) -> {ok, N};
unit(N, <<"/s">>, rate) -> {ok, N};
unit(_N, _Unit, _Kind) -> error.

%%% Names

closest(Name, Candidates, Max) ->
    Scored = [{distance(Name, C), C} || C <- Candidates, C =/= Name],
    case lists:sort([S || {D, _} = S <- Scored, D =< Max]) of
        [{_, Best} | _] -> Best;
        [] -> none
    end.

did_you_mean(none) -> <<>>;
did_you_mean(Name) -> [" (did you mean ", Name, "?)"].

%% @doc `" (did you mean X?)"' for the name of `Candidates' within 3 edits of `Name', or `<<>>'.
-spec did_you_mean(binary(), [binary()]) -> iodata().
did_you_mean(Name, Candidates) ->
    did_you_mean(closest(Name, Candidates, 3)).

unit_name(time) -> <<"ms">>;
unit_name(bytes) -> <<"bytes">>;
unit_name(count) -> <<"count">>;
unit_name(percent) -> <<"percent">>;
unit_name(rate) -> <<"per_second">>.

%% Levenshtein distance on bytes.
distance(A, B) ->
    Bs = binary_to_list(B),
    First = lists:seq(0, length(Bs)),
    {_, Last} = lists:foldl(
                  fun(Ca, {I, Prev}) ->
                          Row = row_step(Ca, Bs, Prev, [I + 1]),
                          {I + 1, Row}
                  end, {0, First}, binary_to_list(A)),
    lists:last(Last).

row_step(_Ca, [], _Prev, Acc) -> lists:reverse(Acc);
row_step(Ca, [Cb | Bs], [Diag, Up | Prev], [Left | _] = Acc) ->
    Cost = case Ca =:= Cb of true -> 0; false -> 1 end,
    row_step(Ca, Bs, [Up | Prev], [min(min(Up + 1, Left + 1), Diag + Cost) | Acc]).

%%% Errors

%% @doc A readable sentence for a threshold error (as the CLI prints it).
-spec format_error(term()) -> iodata().
format_error({invalid_threshold, Expr, Why}) ->
    ["'", Expr, "': ", why(Why)];
format_error(Other) ->
    io_lib:format("~0tp", [Other]).

why(missing_comparison) -> "no comparison (expected one of < <= > >= == !=)";
why(missing_metric) -> "no metric before the comparison";
why(missing_value) -> "no value after the comparison";
why({bad_comparison, Op}) -> ["comparison ", Op, " (expected one of < <= > >= == !=)"];
why({missing_statistic, Lhs}) ->
    [Lhs, " has no statistic (append .p95, .p99.9, .min, .max, .mean, .count, .rate or .failed_rate)"];
why({bad_statistic, S}) ->
    ["statistic ", S, " (expected p0..p100, p99.9, min, max, mean, count, rate or failed_rate)"];
why({bad_metric, M}) -> ["metric name ", M, " (letters, digits, _ . : - and an optional {dim=value})"];
why({bad_dimension, Dims}) -> ["{", Dims, "}: expected {name=value} or {name=value,name=value,...}"];
why({duplicate_dimension, Dims}) -> ["{", Dims, "}: a dimension named twice"];
why({counter_statistic, Name, Stat}) ->
    [Name, " is a counter: statistic ", Stat, " means nothing for it (a counter has count and rate",
     case live_load_failures:has_failed_share(Name) of true -> " and failed_rate"; false -> "" end, ")"];
why({no_failed_rate, counter, Name}) ->
    [Name, " has no failed_rate: failed_rate is the share of failures in iterations (result=failed) "
     "and http.requests (status failed or outside 200..399); use ", Name, ".count or ", Name, ".rate"];
why({no_failed_rate, metric, Name}) ->
    [Name, " has no failed_rate: no built-in metric records failed operations (failures are counted "
     "in iterations and http.requests: use iterations.failed_rate or http.requests.failed_rate)"];
why(missing_expr) -> "a threshold map needs expr => Expression";
why({bad_option, K, V}) ->
    [atom_to_list(K), " ", io_lib:format("~0tp", [V]),
     case K of abort_on_fail -> " (expected true or false)"; _ -> " (expected milliseconds, an integer >= 0)" end];
why({unknown_key, K}) ->
    [io_lib:format("~0tp", [K]), " (a threshold map has expr, abort_on_fail and delay_abort_eval)"];
why({no_metric, M, Near}) -> ["no metric ", M, did_you_mean(Near)];
why({bad_value, V}) -> ["value ", V, " (expected a number with an optional unit, e.g. 100ms, 1%)"];
why({bad_unit, U, Kind}) -> ["unit ", U, " (expected ", units(Kind), ")"];
why(not_text) -> "not a string";
why(Other) -> io_lib:format("~0tp", [Other]).

units(time) -> "ms, s or m for a time";
units(bytes) -> "B, kB or MB for bytes";
units(count) -> "no unit for a count";
units(percent) -> "% for failed_rate";
units(rate) -> "/s or none for rate".
