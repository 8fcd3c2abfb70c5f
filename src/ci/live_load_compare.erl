%% @doc Compares two runs of the same scenarios: a Markdown delta table of p50, p95, p99, error
%% rate and throughput per metric, the counters' rates and error rates, and per dimension value
%% where a change is flagged; and the regressions beyond noise.
%%
%% The noise rule, per row and statistic, both runs having at least `min_samples' (default 20)
%% values in the row, and for a quantile q at least 5 values beyond it (count x (1 - q) >= 5:
%% p95 needs 100 values, p99 500; the tail of fewer values is one outlier):
%% <ul>
%% <li>quantiles (ms, bytes): flagged when the relative change exceeds
%%     `max(max_regression, 2 x 0.01)' (each sketch estimate is within its relative accuracy 0.01
%%     of the exact value, so two estimates of one value can differ by 2 %) AND the absolute
%%     change exceeds `min_delta' (default 10 ms; 1 kB for bytes);</li>
%% <li>error rate (percent: a metric's errors / (values + errors); the failed share of the
%%     counters `iterations' and `http.requests', `live_load_failures'): flagged when it moved by
%%     more than 1 percentage point AND by more than `max_regression' relative;</li>
%% <li>throughput (values, iterations or requests per second of the run): flagged when the
%%     relative change exceeds `max_regression' AND the absolute change exceeds 0.1/s;</li>
%% <li>failures per second (a counter that counts failures, `live_load_failures:counts_failures/1',
%%     or a failed dimension value such as `http.requests{status=500}' or
%%     `iterations{result=failed}'): flagged when it rose by more than `max_regression' relative
%%     AND by more than 0.1/s, with at least 5 of them in the worse run (the base may have none:
%%     failures that appear are the regression to catch). Counters' totals (`min_samples') are not
%%     asked for here.</li>
%% </ul>
%% A flagged change in the worse direction (higher latency, error rate or failures, lower
%% throughput) is a regression. Other counters' rates are shown, never flagged. See
%% `guides/ci.md'.
-module(live_load_compare).

-export([compare/3]).
-export([defaults/0]).

-export_type([opts/0, report/0]).

-type opts() :: #{max_regression := float(), min_delta_ms := number(), min_samples := pos_integer()}.
-type report() :: #{markdown := iodata(), regressions := non_neg_integer(), flagged := non_neg_integer()}.

-define(ALPHA, 0.01).            %% the sketches' relative accuracy
-define(ERROR_RATE_FLOOR, 1.0).  %% percentage points
-define(THROUGHPUT_FLOOR, 0.1).  %% per second
-define(BYTES_FLOOR, 1000).
-define(TAIL, 5).                %% values beyond a quantile for it to be compared

%% @doc max_regression 10 %, min_delta 10 ms, min_samples 20.
-spec defaults() -> opts().
defaults() ->
    #{max_regression => 0.10, min_delta_ms => 10, min_samples => 20}.

%% @doc Compares results `Base' with `New' (lists of `live_load_result' maps, matched by scenario).
-spec compare([map()], [map()], opts()) -> report().
compare(Base, New, Opts) ->
    Pairs = pairs(Base, New),
    Sections = [scenario(Name, B, N, Opts) || {Name, B, N} <- Pairs],
    Regressions = lists:sum([R || {_, R, _} <- Sections]),
    Flagged = lists:sum([F || {_, _, F} <- Sections]),
    Unmatched = [S || S <- scenarios(New), not lists:keymember(S, 1, Pairs)],
    #{markdown => [[Md || {Md, _, _} <- Sections],
                   [["Scenario ", S, " has no baseline run.\n\n"] || S <- Unmatched],
                   summary(Regressions, Flagged, Opts)],
      regressions => Regressions, flagged => Flagged}.

scenarios(Results) -> [scenario_name(R) || R <- Results].

scenario_name(R) ->
    case maps:get(<<"scenario">>, maps:get(<<"run">>, R, #{}), null) of
        S when is_binary(S) -> S;
        _ -> <<"run">>
    end.

pairs([B], [N]) -> [{scenario_name(N), B, N}];
pairs(Base, New) ->
    [{S, B, N} || N <- New, S <- [scenario_name(N)], B <- [R || R <- Base, scenario_name(R) =:= S]].

summary(0, Flagged, Opts) ->
    io_lib:format("No regression beyond noise (max regression ~ts, min delta ~ts ms, ~b samples); "
                  "~b change(s) flagged.~n", [pct(maps:get(max_regression, Opts) * 100),
                                            num(maps:get(min_delta_ms, Opts)),
                                            maps:get(min_samples, Opts), Flagged]);
summary(N, _Flagged, Opts) ->
    io_lib:format("**~b regression(s)** beyond noise (max regression ~ts, min delta ~ts ms).~n",
                  [N, pct(maps:get(max_regression, Opts) * 100), num(maps:get(min_delta_ms, Opts))]).

scenario(Name, Base, New, Opts) ->
    BSec = seconds(Base),
    NSec = seconds(New),
    BM = maps:get(<<"metrics">>, Base, #{}),
    NM = maps:get(<<"metrics">>, New, #{}),
    Points = maps:get(<<"quantile_points">>, New, []),
    BC = maps:get(<<"counters">>, Base, #{}),
    NC = maps:get(<<"counters">>, New, #{}),
    Rows = lists:append(
             [metric_rows(M, maps:get(M, BM), maps:get(M, NM), {BSec, NSec}, Points, Opts)
              || M <- lists:sort(maps:keys(NM)), maps:is_key(M, BM)]
             ++ [counter_rows(C, maps:get(C, BC, #{}), maps:get(C, NC, #{}), {BSec, NSec}, Opts)
                 || C <- lists:usort(maps:keys(BC) ++ maps:keys(NC))]),
    Regressions = length([x || {_, _, _, _, _, regression} <- Rows]),
    Flagged = length([x || {_, _, _, _, _, F} <- Rows, F =/= none]),
    Head = [<<"Metric">>, <<"Statistic">>, <<"Base">>, <<"New">>, <<"Change">>, <<"">>],
    Table = [line(Head), line([<<"---">>, <<"---">>, <<"--:">>, <<"--:">>, <<"--:">>, <<"---">>])
             | [line([Label, Stat, num(B), num(N), change(B, N), flag(F)]) || {Label, Stat, B, N, _, F} <- Rows]],
    {[<<"## ">>, Name, <<": base ">>, started(Base), <<" vs new ">>, started(New), <<"\n\n">>, Table, $\n],
     Regressions, Flagged}.

started(R) ->
    case maps:get(<<"started_at">>, maps:get(<<"run">>, R, #{}), null) of
        S when is_binary(S) -> S;
        _ -> <<"?">>
    end.

seconds(R) ->
    max(1, maps:get(<<"duration_ms">>, maps:get(<<"run">>, R, #{}), 1000)) / 1000.

%% The metric's own rows (all five statistics), then its dimension rows with a flagged change.
%% A dimension value that holds all of the metric's values in both runs (`connection=browser' in
%% a browser-only run) is the metric's own row again: not repeated.
metric_rows(Name, B, N, Secs, Points, Opts) ->
    Unit = maps:get(<<"unit">>, N, <<"ms">>),
    Top = stat_rows(Name, B, N, Unit, Secs, Points, Opts),
    Dims = lists:append(
             [[Row || Row = {_, _, _, _, _, F} <- stat_rows(<<"&nbsp;&nbsp;", K/binary, "=", V/binary>>,
                                                             BRow, NRow, Unit, Secs, Points, Opts),
                      F =/= none]
              || {K, Values} <- lists:sort(maps:to_list(maps:get(<<"by">>, N, #{}))),
                 {V, NRow} <- lists:sort(maps:to_list(Values)),
                 BRow <- [maps:get(V, maps:get(K, maps:get(<<"by">>, B, #{}), #{}), none)],
                 BRow =/= none, not (count(BRow) =:= count(B) andalso count(NRow) =:= count(N))]),
    [{esc(L), S, Bv, Nv, U, F} || {L, S, Bv, Nv, U, F} <- Top ++ Dims].

stat_rows(Label, B, N, Unit, {BSec, NSec}, Points, Opts) ->
    Enough = count(B) >= maps:get(min_samples, Opts) andalso count(N) >= maps:get(min_samples, Opts),
    Quantiles = [{P, Q, quantile(Q, B, Points), quantile(Q, N, Points)}
                 || {P, Q} <- [{<<"p50">>, 0.5}, {<<"p95">>, 0.95}, {<<"p99">>, 0.99}]],
    %% a tail quantile of few values is one of its largest values: compare it only when at
    %% least ?TAIL values lie beyond it in both runs
    Tail = fun(Q) -> min(count(B), count(N)) * (1 - Q) >= ?TAIL end,
    QRows = [{Label, P, Bv, Nv, Unit,
              quantile_flag(Enough andalso Tail(Q) andalso Unit =/= <<"count">>, Bv, Nv, Unit, Opts)}
             || {P, Q, Bv, Nv} <- Quantiles],
    BErr = error_rate(B),
    NErr = error_rate(N),
    BTp = count(B) / BSec,
    NTp = count(N) / NSec,
    QRows ++ [{Label, <<"error rate %">>, BErr, NErr, <<"percent">>, error_flag(Enough, BErr, NErr, Opts)},
              {Label, <<"throughput /s">>, BTp, NTp, <<"per_second">>, throughput_flag(Enough, BTp, NTp, Opts)}].

count(M) -> maps:get(<<"count">>, M, 0).

%%% Counters

%% The counter's rate per second (its throughput for iterations and http.requests), error rate
%% where it has a failed share, then its dimension values whose rate change is flagged.
counter_rows(Name, B, N, {BSec, NSec} = Secs, Opts) ->
    BT = maps:get(<<"total">>, B, 0),
    NT = maps:get(<<"total">>, N, 0),
    Enough = BT >= maps:get(min_samples, Opts) andalso NT >= maps:get(min_samples, Opts),
    Kind = case {live_load_failures:counts_failures(Name), live_load_failures:has_failed_share(Name)} of
               {true, _} -> failures;
               {_, true} -> throughput;
               _ -> shown
           end,
    Rate = {Name, rate_label(Kind), BT / BSec, NT / NSec, <<"per_second">>,
            rate_flag(Kind, Enough, {BT, BT / BSec}, {NT, NT / NSec}, Opts)},
    ErrorRate = case live_load_failures:has_failed_share(Name) of
                    true ->
                        BErr = failed_share(Name, B),
                        NErr = failed_share(Name, N),
                        [{Name, <<"error rate %">>, BErr, NErr, <<"percent">>, error_flag(Enough, BErr, NErr, Opts)}];
                    false -> []
                end,
    Dims = [Row || {K, V} <- dim_values(B, N),
                   not (dim_count(B, K, V) =:= BT andalso dim_count(N, K, V) =:= NT),   %% the counter itself
                   Row = {_, _, _, _, _, F} <- [dim_row(Name, K, V, Kind, Enough, B, N, Secs, Opts)],
                   F =/= none],
    [{esc(L), S, Bv, Nv, U, F} || {L, S, Bv, Nv, U, F} <- [Rate | ErrorRate] ++ Dims].

rate_label(throughput) -> <<"throughput /s">>;
rate_label(_) -> <<"rate /s">>.

dim_row(Name, K, V, Kind, Enough, B, N, {BSec, NSec}, Opts) ->
    BN = dim_count(B, K, V),
    NN = dim_count(N, K, V),
    RowKind = case live_load_failures:failed_value(Name, K, V) of
                  true -> failures;
                  false -> Kind
              end,
    {<<"&nbsp;&nbsp;", K/binary, "=", V/binary>>, <<"rate /s">>, BN / BSec, NN / NSec, <<"per_second">>,
     rate_flag(RowKind, Enough, {BN, BN / BSec}, {NN, NN / NSec}, Opts)}.

dim_values(B, N) ->
    lists:usort([{K, V} || C <- [B, N], {K, Vs} <- maps:to_list(maps:get(<<"by">>, C, #{})), V <- maps:keys(Vs)]).

dim_count(C, K, V) ->
    maps:get(V, maps:get(K, maps:get(<<"by">>, C, #{}), #{}), 0).

%% The failed share of a counter in percent, from its dimension rows (`live_load_failures').
failed_share(Name, C) ->
    case maps:get(<<"total">>, C, 0) of
        0 -> 0.0;
        Total ->
            Failed = lists:sum([N || {K, Vs} <- maps:to_list(maps:get(<<"by">>, C, #{})), {V, N} <- maps:to_list(Vs),
                                     live_load_failures:failed_value(Name, K, V)]),
            100 * Failed / Total
    end.

%% failures: more of them per second is worse, flagged from at least ?TAIL of them in the worse
%% run whatever the totals; throughput: fewer per second is worse, with enough samples; shown:
%% never flagged.
rate_flag(failures, _Enough, {BN, B}, {NN, N}, #{max_regression := Max}) ->
    case abs(relative(B, N)) > Max andalso abs(N - B) > ?THROUGHPUT_FLOOR andalso max(BN, NN) >= ?TAIL of
        true when N > B -> regression;
        true -> improvement;
        false -> none
    end;
rate_flag(throughput, Enough, {_, B}, {_, N}, Opts) ->
    throughput_flag(Enough, B, N, Opts);
rate_flag(shown, _, _, _, _) ->
    none.

error_rate(M) ->
    C = count(M),
    E = maps:get(<<"errors">>, M, 0),
    case C + E of
        0 -> 0.0;
        T -> 100 * E / T
    end.

quantile(Q, M, Points) ->
    case maps:get(<<"quantiles">>, M, []) of
        Qs when length(Qs) =:= length(Points), Qs =/= [] ->
            case [V || {P, V} <- lists:zip(Points, Qs), abs(P - Q) < 1.0e-9] of
                [V | _] -> V;
                [] -> null
            end;
        _ -> null
    end.

quantile_flag(false, _, _, _, _) -> none;
quantile_flag(_, B, N, _, _) when not is_number(B); not is_number(N) -> none;
quantile_flag(true, B, N, Unit, #{max_regression := Max, min_delta_ms := Floor0}) ->
    Floor = case Unit of <<"bytes">> -> ?BYTES_FLOOR; _ -> Floor0 end,
    Rel = relative(B, N),
    case abs(Rel) > max(Max, 2 * ?ALPHA) andalso abs(N - B) > Floor of
        true when N > B -> regression;
        true -> improvement;
        false -> none
    end.

error_flag(false, _, _, _) -> none;
error_flag(true, B, N, #{max_regression := Max}) ->
    case abs(N - B) > ?ERROR_RATE_FLOOR andalso abs(relative(B, N)) > Max of
        true when N > B -> regression;
        true -> improvement;
        false -> none
    end.

throughput_flag(false, _, _, _) -> none;
throughput_flag(true, B, N, #{max_regression := Max}) ->
    case abs(relative(B, N)) > Max andalso abs(N - B) > ?THROUGHPUT_FLOOR of
        true when N < B -> regression;
        true -> improvement;
        false -> none
    end.

relative(B, N) when B == 0, N == 0 -> 0.0;
relative(B, _N) when B == 0 -> 1.0e9;
relative(B, N) -> (N - B) / abs(B).

change(B, N) when is_number(B), is_number(N) ->
    case relative(B, N) of
        R when R >= 1.0e9 -> <<"new">>;
        R -> [case R >= 0 of true -> <<"+">>; false -> <<>> end, pct(R * 100)]
    end;
change(_, _) -> <<"-">>.

flag(regression) -> <<"**regression**">>;
flag(improvement) -> <<"improvement">>;
flag(none) -> <<"">>.

pct(P) -> [float_to_binary(float(P), [{decimals, 1}]), <<"%">>].

num(null) -> <<"-">>;
num(V) when is_integer(V) -> integer_to_binary(V);
num(V) when abs(V) >= 100 -> float_to_binary(float(V), [{decimals, 0}]);
num(V) -> float_to_binary(float(V), [{decimals, 2}]).

line(Cells) -> [<<"| ">>, lists:join(<<" | ">>, Cells), <<" |\n">>].

esc(B) -> binary:replace(B, <<"|">>, <<"\\|">>, [global]).
