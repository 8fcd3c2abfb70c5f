%% Per-node recording: concurrency, bounded dimensions, buckets, errors, run options.
-module(live_load_metrics_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2]).
-export([concurrent_recorders_lose_nothing/1, dimension_cap/1, dimension_cap_concurrent/1,
         series_cap/1, bucket_cap/1, errors_bounded/1, quick_stats/1, declared_units/1,
         non_utf8_dimension/1, run_options/1]).

all() ->
    [concurrent_recorders_lose_nothing, dimension_cap, dimension_cap_concurrent, series_cap,
     bucket_cap, errors_bounded, quick_stats, declared_units, non_utf8_dimension, run_options].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(live_load),
    Config.

end_per_suite(_Config) ->
    ok.

init_per_testcase(_Case, Config) ->
    ok = live_load_metrics:reset(),
    Config.

%%% Cases

concurrent_recorders_lose_nothing(_Config) ->
    ct:comment("200 processes recording at once: total, per-dimension, per-bucket and counter "
               "counts are exact"),
    Procs = 200,
    PerProc = 2000,
    Events = [<<"inc">>, <<"dec">>, <<"save">>, <<"open">>],
    Parent = self(),
    Go = make_ref(),
    Pids = [spawn_link(fun() ->
                               receive Go -> ok end,
                               Dims = #{<<"event">> => lists:nth(I rem 4 + 1, Events)},
                               [begin
                                    ok = live_load_metrics:record(<<"liveview.event">>, J * 0.5, Dims),
                                    ok = live_load_metrics:count(<<"iterations">>, 1, #{<<"result">> => <<"ok">>})
                                end || J <- lists:seq(1, PerProc)],
                               Parent ! {done, self()}
                       end) || I <- lists:seq(1, Procs)],
    [P ! Go || P <- Pids],
    [receive {done, P} -> ok after 120000 -> ct:fail(timeout) end || P <- Pids],
    R = result(),
    #{<<"metrics">> := #{<<"liveview.event">> := M}, <<"counters">> := Counters,
      <<"time_series">> := #{<<"buckets">> := Buckets}} = R,
    Total = Procs * PerProc,
    ?assertEqual(Total, maps:get(<<"count">>, M)),
    ?assertEqual(float(Procs * lists:sum([J * 0.5 || J <- lists:seq(1, PerProc)])), maps:get(<<"sum">>, M)),
    #{<<"by">> := #{<<"event">> := Rows}} = M,
    ?assertEqual(maps:from_list([{E, Total div 4} || E <- Events]),
                 maps:map(fun(_, Row) -> maps:get(<<"count">>, Row) end, Rows)),
    ?assertEqual(Total, lists:sum([maps:get(<<"count">>, maps:get(<<"liveview.event">>, Ms, #{}), 0)
                                   || #{<<"metrics">> := Ms} <- Buckets])),
    ?assertMatch(#{<<"iterations">> := #{<<"total">> := Total,
                                         <<"by">> := #{<<"result">> := #{<<"ok">> := Total}}}},
                 Counters),
    ?assertEqual(#{<<"ok">> => Total}, maps:get(<<"iterations">>, maps:get(<<"run">>, R))).

dimension_cap(_Config) ->
    ct:comment("100 000 distinct URL values stay within the cap of 100; the overflow is counted"),
    N = 100000,
    [live_load_metrics:record(<<"http.duration">>, 1.0, #{<<"route">> => url(I), <<"method">> => <<"GET">>})
     || I <- lists:seq(1, N)],
    #{<<"metrics">> := #{<<"http.duration">> := M}, <<"counters">> := Counters} = result(),
    ?assertEqual(N, maps:get(<<"count">>, M)),
    #{<<"by">> := #{<<"route">> := Routes, <<"method">> := Methods}} = M,
    ?assertEqual(101, map_size(Routes)),
    ?assertEqual(N - 100, maps:get(<<"count">>, maps:get(<<"other">>, Routes))),
    ?assertEqual([<<"GET">>], maps:keys(Methods)),
    ?assertMatch(#{<<"live_load.dimension_overflow">> :=
                       #{<<"total">> := 99900,
                         <<"by">> := #{<<"metric">> := #{<<"http.duration">> := 99900},
                                       <<"dimension">> := #{<<"route">> := 99900}}}},
                 Counters),
    %% The memory stays bounded: admitted values and sketches are counted, not the input.
    ?assert(ets:info(live_load_metrics_meta, size) =< 110),
    ?assert(ets:info(live_load_metrics_sketches, size) =< 110).

dimension_cap_concurrent(_Config) ->
    ct:comment("the cap holds when many processes admit new values at the same time"),
    ok = live_load_metrics:start_run(#{max_dim_values => 50}),
    Parent = self(),
    Pids = [spawn_link(fun() ->
                               [live_load_metrics:count(<<"http.requests">>, 1, #{<<"route">> => url(I * 7 + P)})
                                || I <- lists:seq(1, 500)],
                               Parent ! {done, self()}
                       end) || P <- lists:seq(1, 16)],
    [receive {done, P} -> ok after 60000 -> ct:fail(timeout) end || P <- Pids],
    #{<<"counters">> := #{<<"http.requests">> := C}} = result(),
    #{<<"total">> := 8000, <<"by">> := #{<<"route">> := Routes}} = C,
    Admitted = maps:remove(<<"other">>, Routes),
    ?assertEqual(50, map_size(Admitted)),
    ?assertEqual(8000, lists:sum(maps:values(Routes))).

series_cap(_Config) ->
    ct:comment("dimension combinations per metric are capped too; past it values go to the "
               "all-other combination"),
    ok = live_load_metrics:start_run(#{max_series => 10}),
    [live_load_metrics:record(<<"liveview.event">>, 2.0, #{<<"event">> => integer_to_binary(E), <<"route">> => integer_to_binary(Rt)})
     || E <- lists:seq(1, 5), Rt <- lists:seq(1, 5)],
    #{<<"metrics">> := #{<<"liveview.event">> := M}} = result(),
    ?assertEqual(25, maps:get(<<"count">>, M)),
    ?assertEqual(15, maps:get(<<"count">>, maps:get(<<"other">>, maps:get(<<"event">>, maps:get(<<"by">>, M))))),
    ?assert(ets:info(live_load_metrics_sketches, size) =< 12).

bucket_cap(_Config) ->
    ct:comment("time buckets are relative to the run start and capped; later values stay in "
               "the totals and are counted as bucket overflow"),
    ok = live_load_metrics:start_run(#{bucket_ms => 50, max_buckets => 2}),
    live_load_metrics:record(<<"m">>, 1.0, #{}),
    timer:sleep(150),
    live_load_metrics:record(<<"m">>, 2.0, #{}),
    #{<<"metrics">> := #{<<"m">> := M}, <<"counters">> := Counters,
      <<"time_series">> := #{<<"bucket_ms">> := 50, <<"buckets">> := Buckets}} = result(),
    ?assertEqual(2, maps:get(<<"count">>, M)),
    ?assertMatch([#{<<"t_ms">> := 0, <<"metrics">> := #{<<"m">> := #{<<"count">> := 1}}}], Buckets),
    ?assertMatch(#{<<"live_load.bucket_overflow">> := #{<<"total">> := 1}}, Counters).

errors_bounded(_Config) ->
    ct:comment("errors keep count and first/last time; messages are capped in length and in "
               "number per kind; metric errors show in the metric and its dimension rows"),
    Long = binary:copy(<<"x">>, 5000),
    live_load_metrics:error(<<"navigation_error">>, Long, undefined),
    [live_load_metrics:error(<<"js_error">>, <<"id ", (integer_to_binary(I))/binary>>, <<"liveview.event">>,
                             #{<<"event">> => <<"save">>})
     || I <- lists:seq(1, 300)],
    R = result(),
    Errors = maps:get(<<"errors">>, R),
    [Nav] = [E || #{<<"kind">> := <<"navigation_error">>} = E <- Errors],
    ?assertEqual(1024, byte_size(maps:get(<<"message">>, Nav))),
    Js = [E || #{<<"kind">> := <<"js_error">>} = E <- Errors],
    ?assertEqual(101, length(Js)),
    ?assertEqual(300, lists:sum([C || #{<<"count">> := C} <- Js])),
    [Other] = [E || #{<<"message">> := <<"(other messages)">>} = E <- Js],
    ?assertEqual(200, maps:get(<<"count">>, Other)),
    ?assert(maps:get(<<"first_at">>, Other) =< maps:get(<<"last_at">>, Other)),
    #{<<"metrics">> := #{<<"liveview.event">> := M}} = R,
    ?assertMatch(#{<<"count">> := 0, <<"errors">> := 300, <<"quantiles">> := [null | _],
                   <<"by">> := #{<<"event">> := #{<<"save">> := #{<<"errors">> := 300}}}}, M).

quick_stats(_Config) ->
    ?assertEqual(undefined, live_load_metrics:quick_stats(<<"liveview.connect">>)),
    [live_load_metrics:record(<<"liveview.connect">>, float(V), #{<<"route">> => integer_to_binary(V rem 3)})
     || V <- lists:seq(1, 1000)],
    #{count := 1000, p50 := P50, p95 := P95} = live_load_metrics:quick_stats(<<"liveview.connect">>),
    ?assert(abs(P50 - 500) =< 5.01),
    ?assert(abs(P95 - 950) =< 9.51).

declared_units(_Config) ->
    ok = live_load_metrics:declare(<<"http.bytes">>, #{unit => bytes, description => <<"Body size">>}),
    ok = live_load_metrics:reset(),
    live_load_metrics:record(<<"http.bytes">>, 1024, #{}),
    live_load_metrics:record(<<"step.duration">>, 3, #{}),
    #{<<"metrics">> := #{<<"http.bytes">> := B, <<"step.duration">> := S}} = result(),
    ?assertMatch(#{<<"unit">> := <<"bytes">>, <<"description">> := <<"Body size">>}, B),
    ?assertMatch(#{<<"unit">> := <<"ms">>}, S).

non_utf8_dimension(_Config) ->
    ct:comment("dimension values and messages that are not UTF-8 still give valid JSON"),
    live_load_metrics:record(<<"m">>, 1.0, #{<<"route">> => <<"/caf", 16#E9>>}),
    live_load_metrics:error(<<"k">>, <<255, 254>>, <<"m">>),
    R = result(),
    {ok, R2} = live_load_result:from_json(live_load_result:to_json(R)),
    ?assertEqual(R, R2),
    ?assertMatch(#{<<"/café"/utf8>> := _},
                 maps:get(<<"route">>, maps:get(<<"by">>, maps:get(<<"m">>, maps:get(<<"metrics">>, R))))).

run_options(_Config) ->
    ?assertEqual({error, {invalid_option, bucket_ms, 0}}, live_load_metrics:start_run(#{bucket_ms => 0})),
    ?assertEqual({error, {invalid_option, max_dim_values, -1}}, live_load_metrics:start_run(#{max_dim_values => -1})),
    ?assertEqual({error, {invalid_option, max_buckets, many}}, live_load_metrics:start_run(#{max_buckets => many})),
    ?assertEqual({error, {invalid_option, colour, red}}, live_load_metrics:start_run(#{colour => red})),
    ?assertEqual({error, {invalid_option, options, []}}, live_load_metrics:start_run([])),
    ok = live_load_metrics:start_run(#{bucket_ms => 1000, max_buckets => 10, max_dim_values => 5, max_series => 20}).

%%% Helpers

result() ->
    {ok, Collected} = live_load_collector:collect([node()]),
    live_load_result:build(Collected, #{}).

url(I) -> <<"/items/", (integer_to_binary(I))/binary>>.
