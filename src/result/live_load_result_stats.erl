%% @doc Figures of one sketch as result maps (binary keys, JSON-ready): the full summary
%% with the 101-point quantile curve, and the short forms used in time buckets and per-node
%% tables. Empty sketches give `null' for min, max, mean and quantiles.
-module(live_load_result_stats).

-export([quantile_points/0]).
-export([summary/2]).
-export([short/2]).
-export([bucket/2]).
-export([merge_all/1]).

-type sketch() :: term().

%% @doc q = 0.00, 0.01, ..., 1.00 (101 points).
-spec quantile_points() -> [float()].
quantile_points() ->
    [I / 100 || I <- lists:seq(0, 100)].

%% @doc count, sum, min, max, mean, errors, the quantile curve aligned to
%% {@link quantile_points/0} and `p99.9' (the tail between the curve's last two points).
-spec summary(sketch(), non_neg_integer()) -> #{binary() => term()}.
summary(S, Errors) ->
    Count = live_load_sketch:count(S),
    Base = #{<<"count">> => Count, <<"sum">> => float(live_load_sketch:sum(S)),
             <<"errors">> => Errors},
    case Count of
        0 ->
            Base#{<<"min">> => null, <<"max">> => null, <<"mean">> => null, <<"p99.9">> => null,
                  <<"quantiles">> => [null || _ <- quantile_points()]};
        _ ->
            Base#{<<"min">> => float(live_load_sketch:min(S)),
                  <<"max">> => float(live_load_sketch:max(S)),
                  <<"mean">> => float(live_load_sketch:sum(S)) / Count,
                  <<"p99.9">> => hd(quantiles(S, [0.999])),
                  <<"quantiles">> => quantiles(S, quantile_points())}
    end.

%% @doc count, errors, mean, p50, p90, p95, p99 and max (per-node tables).
-spec short(sketch(), non_neg_integer()) -> #{binary() => term()}.
short(S, Errors) ->
    Count = live_load_sketch:count(S),
    Keys = [<<"p50">>, <<"p90">>, <<"p95">>, <<"p99">>],
    Qs = case Count of
             0 -> [null, null, null, null];
             _ -> quantiles(S, [0.5, 0.9, 0.95, 0.99])
         end,
    Extra = case Count of
                0 -> #{<<"max">> => null, <<"mean">> => null};
                _ -> #{<<"max">> => float(live_load_sketch:max(S)),
                       <<"mean">> => float(live_load_sketch:sum(S)) / Count}
            end,
    maps:merge(Extra#{<<"count">> => Count, <<"errors">> => Errors},
               maps:from_list(lists:zip(Keys, Qs))).

%% @doc count, errors, p50, p95, p99 (time-series buckets).
-spec bucket(sketch() | none, non_neg_integer()) -> #{binary() => term()}.
bucket(none, Errors) ->
    #{<<"count">> => 0, <<"errors">> => Errors, <<"p50">> => null, <<"p95">> => null,
      <<"p99">> => null};
bucket(S, Errors) ->
    case live_load_sketch:count(S) of
        0 -> bucket(none, Errors);
        Count ->
            [P50, P95, P99] = quantiles(S, [0.5, 0.95, 0.99]),
            #{<<"count">> => Count, <<"errors">> => Errors, <<"p50">> => P50,
              <<"p95">> => P95, <<"p99">> => P99}
    end.

%% @doc A new sketch holding all of `Sketches' (which are left unchanged).
-spec merge_all([sketch()]) -> sketch().
merge_all(Sketches) ->
    All = live_load_sketch:new(),
    lists:foreach(fun(S) -> ok = live_load_sketch:merge(All, S) end, Sketches),
    All.

quantiles(S, Qs) ->
    [float(V) || V <- live_load_sketch:quantiles(S, Qs)].
