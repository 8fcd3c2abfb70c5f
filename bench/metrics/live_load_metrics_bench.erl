%% `make bench-metrics': recording throughput with 1, 50 and 200 concurrent recorders on one
%% node; time to collect and merge 3 peer nodes x 50 metrics x 20 dimension values; size of
%% the JSON result of that run. Prints figures and the targets next to them.
-module(live_load_metrics_bench).

-export([main/0]).

-define(TOTAL_VALUES, 2000000).
-define(NODES, 3).
-define(METRICS, 50).
-define(DIM_VALUES, 20).
-define(VALUES_PER_SERIES, 200).

main() ->
    try
        {ok, _} = application:ensure_all_started(live_load),
        io:format("live_load metrics benchmark (~b schedulers)~n", [erlang:system_info(schedulers_online)]),
        [recording(N) || N <- [1, 50, 200]],
        collect_and_merge(),
        halt(0)
    catch C:R:St ->
            io:format(standard_error, "bench failed: ~p:~p~n~p~n", [C, R, St]),
            halt(1)
    end.

%% Each recorder records TOTAL/N values: 3 dimensions (the shape of liveview.event),
%% values spread over 0.5..500 ms.
recording(N) ->
    ok = live_load_metrics:reset(),
    PerProc = ?TOTAL_VALUES div N,
    Events = {<<"inc">>, <<"dec">>, <<"save">>, <<"validate">>},
    Parent = self(),
    Go = make_ref(),
    Pids = [spawn_link(fun() ->
                               Dims = #{<<"event">> => element(I rem 4 + 1, Events),
                                        <<"type">> => <<"click">>, <<"route">> => <<"/counter">>},
                               receive Go -> ok end,
                               loop(PerProc, Dims),
                               Parent ! {done, self()}
                       end) || I <- lists:seq(1, N)],
    T0 = erlang:monotonic_time(microsecond),
    [P ! Go || P <- Pids],
    [receive {done, P} -> ok end || P <- Pids],
    Us = erlang:monotonic_time(microsecond) - T0,
    Recorded = live_load_metrics:quick_stats(<<"liveview.event">>),
    #{count := Count} = Recorded,
    Count = PerProc * N,
    Rate = Count / (Us / 1.0e6),
    io:format("record: ~3b recorders  ~9b values in ~7.1f ms  ~9b values/s~s~n",
              [N, Count, Us / 1000, round(Rate),
               case N of 50 -> target(Rate >= 1.0e6, "target >= 1000000"); _ -> "" end]).

loop(0, _) -> ok;
loop(K, Dims) ->
    ok = live_load_metrics:record(<<"liveview.event">>, (K rem 1000) * 0.5 + 0.5, Dims),
    loop(K - 1, Dims).

collect_and_merge() ->
    ok = live_load_metrics:reset(),
    Paths = lists:usort([filename:dirname(code:which(M)) || M <- [live_load_metrics, live_load_sketch, ?MODULE]]),
    Args = lists:append([["-pa", P] || P <- Paths]),
    Peers = [begin
                 {ok, Peer, Node} = peer:start_link(#{name => peer:random_name(), args => Args,
                                                      wait_boot => 60000}),
                 {ok, _} = erpc:call(Node, live_load_metrics_store, start, []),
                 ok = erpc:call(Node, fun fill/0, 600000),
                 {Peer, Node}
             end || _ <- lists:seq(1, ?NODES)],
    Nodes = [N || {_, N} <- Peers],
    Runs = [time(fun() -> {ok, C} = live_load_collector:collect(Nodes), C end) || _ <- lists:seq(1, 5)],
    {CollectUs, Collected} = lists:min(Runs),
    Median = element(1, lists:nth(3, lists:sort(Runs))),
    #{merged := #{sketches := Series}} = Collected,
    {BuildUs, Result} = time(fun() -> live_load_result:build(Collected, #{scenario => bench}) end),
    {EncodeUs, Json} = time(fun() -> iolist_to_binary(live_load_result:to_json(Result)) end),
    {DecodeUs, {ok, Result}} = time(fun() -> live_load_result:from_json(Json) end),
    io:format("collect+merge: ~b nodes x ~b metrics x ~b dimension values (~b series, ~b values/node): "
              "best ~.1f ms, median ~.1f ms~s~n",
              [?NODES, ?METRICS, ?DIM_VALUES, map_size(Series),
               ?METRICS * ?DIM_VALUES * ?VALUES_PER_SERIES, CollectUs / 1000, Median / 1000,
               target(Median =< 200000, "target <= 200 ms")]),
    io:format("result build: ~.1f ms; JSON encode ~.1f ms, decode ~.1f ms; JSON size ~b bytes "
              "(~.1f KiB), gzip ~b bytes~n",
              [BuildUs / 1000, EncodeUs / 1000, DecodeUs / 1000, byte_size(Json),
               byte_size(Json) / 1024, byte_size(zlib:gzip(Json))]),
    [peer:stop(P) || {P, _} <- Peers],
    ok.

%% On a peer: 50 metrics x 20 values of one dimension, 200 values per series.
fill() ->
    ok = live_load_metrics:reset(),
    rand:seed(exsss, erlang:phash2(node())),
    lists:foreach(
      fun(M) ->
              Name = <<"bench.metric_", (integer_to_binary(M))/binary>>,
              lists:foreach(
                fun(D) ->
                        Dims = #{<<"route">> => <<"/r", (integer_to_binary(D))/binary>>},
                        [live_load_metrics:record(Name, math:exp(rand:normal(3.0, 1.0)), Dims)
                         || _ <- lists:seq(1, ?VALUES_PER_SERIES)]
                end, lists:seq(1, ?DIM_VALUES))
      end, lists:seq(1, ?METRICS)).

time(F) ->
    T0 = erlang:monotonic_time(microsecond),
    R = F(),
    {erlang:monotonic_time(microsecond) - T0, R}.

target(true, What) -> "  [" ++ What ++ ": met]";
target(false, What) -> "  [" ++ What ++ ": MISSED]".
