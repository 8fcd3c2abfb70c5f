%% @doc Result fixtures for live_load_report_html_SUITE: results shaped like
%% `guides/result_format.md', as maps with binary keys (what live_load_json:decode/1 gives), with
%% deterministic numbers so the suite can compare the page with them, and in any size (a
%% 10-minute, 3-node, 50-metric run for the size check). Results made by the real tool are
%% built in the suite itself.
-module(live_load_report_html_fixture).

-export([result/1, full_precision/1]).

-define(REAL_METRICS,
        [{<<"liveview.connect">>, ms}, {<<"liveview.event">>, ms}, {<<"liveview.input_to_patch">>, ms},
         {<<"liveview.navigation">>, ms}, {<<"http.duration">>, ms}, {<<"http.ttfb">>, ms},
         {<<"http.dns">>, ms}, {<<"http.connect">>, ms}, {<<"http.tls">>, ms}, {<<"http.bytes">>, bytes},
         {<<"ws.frame_sent_bytes">>, bytes}, {<<"ws.frame_received_bytes">>, bytes},
         {<<"ws.handshake">>, ms}, {<<"iteration.duration">>, ms}, {<<"step.duration">>, ms}]).

%% Opts: duration_ms, bucket_ms, nodes (count), metrics (count), scale (latency factor), seed.
result(Opts) ->
    DurationMs = maps:get(duration_ms, Opts, 60000),
    BucketMs = maps:get(bucket_ms, Opts, 5000),
    NNodes = maps:get(nodes, Opts, 1),
    Scale = maps:get(scale, Opts, 1.0),
    Metrics = metric_list(maps:get(metrics, Opts, 15)),
    Nodes = [<<"node", (integer_to_binary(I))/binary, "@127.0.0.1">> || I <- lists:seq(1, NNodes)],
    Ok = DurationMs div 100, Failed = 7, Halted = 2,
    #{<<"format">> => <<"live_load.result/1">>,
      <<"live_load_version">> => <<"0.1.0">>,
      <<"run">> => #{<<"scenario">> => <<"live_load_demo_counter">>,
                     <<"started_at">> => <<"2026-11-22T05:10:00.000Z">>,
                     <<"duration_ms">> => DurationMs, <<"mode">> => <<"faithful">>,
                     <<"users">> => #{<<"target">> => 40, <<"started">> => 40, <<"failed">> => 1},
                     <<"iterations">> => #{<<"ok">> => Ok, <<"failed">> => Failed, <<"halted">> => Halted},
                     <<"nodes">> => Nodes,
                     <<"options">> => #{<<"users">> => 40, <<"scenario_duration">> => DurationMs,
                                        <<"mode">> => <<"faithful">>,
                                        <<"throttle">> => #{<<"rate">> => 10, <<"interval">> => 1000}}},
      <<"quantile_points">> => [I / 100 || I <- lists:seq(0, 100)],
      <<"metrics">> => maps:from_list([{Name, metric(Name, Unit, I, Scale)}
                                       || {I, {Name, Unit}} <- enumerate(Metrics)]),
      <<"counters">> => #{<<"http.requests">> => #{<<"total">> => 1234,
                                                   <<"by">> => #{<<"status">> => #{<<"200">> => 1200, <<"302">> => 34}}},
                          <<"iterations">> => #{<<"total">> => Ok + Failed + Halted,
                                                <<"by">> => #{<<"result">> => #{<<"ok">> => Ok, <<"failed">> => Failed,
                                                                                <<"halted">> => Halted}}},
                          <<"ws.opened">> => #{<<"total">> => 41}},
      <<"time_series">> => #{<<"bucket_ms">> => BucketMs,
                             <<"buckets">> => [bucket(T, BucketMs, Metrics, Scale)
                                               || T <- lists:seq(0, DurationMs - 1, BucketMs)]},
      <<"nodes">> => [node(N, J, Metrics, Scale) || {J, N} <- enumerate(Nodes)],
      <<"errors">> => [#{<<"kind">> => <<"navigation_error">>, <<"message">> => <<"net::ERR_CONNECTION_REFUSED">>,
                         <<"metric">> => null, <<"count">> => 3,
                         <<"first_at">> => <<"2026-11-22T05:10:01.000Z">>, <<"last_at">> => <<"2026-11-22T05:10:09.000Z">>},
                       #{<<"kind">> => <<"timeout">>, <<"message">> => <<"wait_for_phx_loading_completion timed out after 5000 ms">>,
                         <<"metric">> => <<"liveview.event">>, <<"count">> => 4,
                         <<"first_at">> => <<"2026-11-22T05:12:00.000Z">>, <<"last_at">> => <<"2026-11-22T05:14:30.000Z">>},
                       #{<<"kind">> => <<"navigation_error">>, <<"message">> => <<"net::ERR_ABORTED">>,
                         <<"metric">> => <<"liveview.navigation">>, <<"count">> => 2,
                         <<"first_at">> => <<"2026-11-22T05:09:59.500Z">>, <<"last_at">> => <<"2026-11-22T05:11:00.000Z">>}]}.

metric_list(N) when N =< length(?REAL_METRICS) -> lists:sublist(?REAL_METRICS, N);
metric_list(N) ->
    ?REAL_METRICS ++ [{<<"custom.metric_", (pad(I))/binary>>, ms} || I <- lists:seq(1, N - length(?REAL_METRICS))].

pad(I) when I < 10 -> <<"0", (integer_to_binary(I))/binary>>;
pad(I) -> integer_to_binary(I).

enumerate(L) -> lists:zip(lists:seq(1, length(L)), L).

%% Base latency per metric; quantile curve rises slowly then steeply in the tail.
base(bytes, I) -> 200.0 * I;
base(_, I) -> 2.0 + I * 1.5.

curve(Base) -> [round3(Base * (1 + 3 * Q * Q + 40 * math:pow(Q, 12))) || I <- lists:seq(0, 100), Q <- [I / 100]].

round3(X) -> round(X * 1000) / 1000.

summary(Base, Count, Errors) ->
    Qs = curve(Base),
    Mean = round3(lists:sum(Qs) / length(Qs)),
    #{<<"count">> => Count, <<"sum">> => round3(Mean * Count), <<"min">> => hd(Qs), <<"max">> => lists:last(Qs),
      <<"mean">> => Mean, <<"errors">> => Errors, <<"quantiles">> => Qs}.

metric(Name, Unit, I, Scale) ->
    Base = base(Unit, I) * Scale,
    M = (summary(Base, 1000 * I, I rem 3))#{<<"unit">> => atom_to_binary(Unit),
                                           <<"description">> => <<"fixture metric ", Name/binary>>},
    M#{<<"by">> => by(Name, Base)}.

by(<<"liveview.event">>, Base) ->
    #{<<"event">> => dims([<<"inc">>, <<"dec">>, <<"save">>, <<"validate">>, <<"search">>], Base),
      <<"type">> => dims([<<"click">>, <<"form">>, <<"keyup">>], Base)};
by(<<"liveview.navigation">>, Base) ->
    #{<<"kind">> => dims([<<"initial">>, <<"redirect">>, <<"patch">>], Base)};
by(<<"liveview.connect">>, Base) -> #{<<"route">> => dims([<<"/counter">>, <<"/form">>, <<"/items/:id">>], Base)};
by(<<"http.duration">>, Base) -> #{<<"route">> => dims([<<"/counter">>, <<"/form">>, <<"/assets/app.js">>], Base)};
by(_, _) -> #{}.

%% Deliberately not in p95 order of their names: "save" is the slowest.
dims(Values, Base) ->
    Factors = [1.0, 0.6, 2.5, 1.7, 0.9],
    maps:from_list([{V, summary(Base * F, 100 + 10 * J, J rem 2)}
                    || {J, {V, F}} <- enumerate(lists:zip(Values, lists:sublist(Factors, length(Values))))]).

bucket(T, _BucketMs, Metrics, Scale) ->
    K = T div 5000,
    Wave = 1 + 0.3 * math:sin(K / 6),
    #{<<"t_ms">> => T,
      <<"metrics">> => maps:from_list(
                         [{Name, #{<<"count">> => 20 + I + K rem 7, <<"errors">> => (K + I) rem 11 div 10,
                                   <<"p50">> => round3(base(U, I) * Scale * Wave),
                                   <<"p95">> => round3(base(U, I) * Scale * Wave * 3.7),
                                   <<"p99">> => round3(base(U, I) * Scale * Wave * 4.9)}}
                          || {I, {Name, U}} <- enumerate(Metrics)]),
      <<"counters">> => #{<<"iterations">> => 45 + K rem 10}}.

node(Node, J, Metrics, Scale) ->
    F = 1 + 0.15 * (J - 1),
    #{<<"node">> => Node, <<"status">> => <<"ok">>,
      <<"metrics">> => maps:from_list(
                         [{Name, #{<<"count">> => 300 * I + J, <<"p50">> => round3(base(U, I) * Scale * F),
                                   <<"p95">> => round3(base(U, I) * Scale * F * 3.7),
                                   <<"p99">> => round3(base(U, I) * Scale * F * 4.9),
                                   <<"max">> => round3(base(U, I) * Scale * F * 9)}}
                          || {I, {Name, U}} <- enumerate(Metrics)])}.

%% Floats as a DDSketch gives them (17 significant digits), not the rounded fixture values: what a
%% real result compresses like.
full_precision(F) when is_float(F) -> F * 1.0000000123456789;
full_precision(M) when is_map(M) -> maps:map(fun(_, V) -> full_precision(V) end, M);
full_precision(L) when is_list(L) -> [full_precision(X) || X <- L];
full_precision(X) -> X.
