%% @doc Result fixtures for live_load_report_html_SUITE: results shaped like
%% `guides/interfaces.md' ("Result"), as maps with binary keys (what a JSON decoder gives) and as
%% JSON text, with deterministic numbers so the suite can compare the page with them.
-module(live_load_report_html_fixture).

-export([result/1, json/1, decode/1, full_precision/1]).

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

%% JSON text of a term made of maps with binary keys, lists, binaries, numbers, true/false/null.
json(Term) -> iolist_to_binary(enc(Term)).

enc(null) -> <<"null">>;
enc(true) -> <<"true">>;
enc(false) -> <<"false">>;
enc(I) when is_integer(I) -> integer_to_binary(I);
enc(F) when is_float(F) -> float_to_binary(F, [short]);
enc(B) when is_binary(B) -> [$", esc(B), $"];
enc(L) when is_list(L) -> [$[, lists:join($,, [enc(X) || X <- L]), $]];
enc(M) when is_map(M) -> [${, lists:join($,, [[enc(K), $:, enc(V)] || {K, V} <- lists:sort(maps:to_list(M))]), $}].

esc(B) -> << <<(esc_char(C))/binary>> || <<C>> <= B >>.
esc_char($") -> <<"\\\"">>;
esc_char($\\) -> <<"\\\\">>;
esc_char(C) when C < 32 -> iolist_to_binary(io_lib:format("\\u~4.16.0b", [C]));
esc_char(C) -> <<C>>.

%% Decodes the JSON that test/js/report_check.js prints: objects -> maps with binary keys,
%% arrays -> lists, strings -> binaries (UTF-8), numbers, true/false/null.
decode(Bin) ->
    {V, Rest} = value(ws(Bin)),
    <<>> = ws(Rest),
    V.

ws(<<C, R/binary>>) when C =:= $\s; C =:= $\t; C =:= $\n; C =:= $\r -> ws(R);
ws(B) -> B.

value(<<"{", R/binary>>) -> object(ws(R), #{});
value(<<"[", R/binary>>) -> array(ws(R), []);
value(<<"\"", R/binary>>) -> string(R, []);
value(<<"true", R/binary>>) -> {true, R};
value(<<"false", R/binary>>) -> {false, R};
value(<<"null", R/binary>>) -> {null, R};
value(B) -> number(B).

object(<<"}", R/binary>>, M) -> {M, R};
object(<<"\"", R/binary>>, M) ->
    {K, R1} = string(R, []),
    <<":", R2/binary>> = ws(R1),
    {V, R3} = value(ws(R2)),
    case ws(R3) of
        <<",", R4/binary>> -> object(ws(R4), M#{K => V});
        <<"}", R4/binary>> -> {M#{K => V}, R4}
    end.

array(<<"]", R/binary>>, []) -> {[], R};
array(B, Acc) ->
    {V, R} = value(B),
    case ws(R) of
        <<",", R1/binary>> -> array(ws(R1), [V | Acc]);
        <<"]", R1/binary>> -> {lists:reverse([V | Acc]), R1}
    end.

string(<<"\"", R/binary>>, Acc) -> {unicode:characters_to_binary(lists:reverse(Acc)), R};
string(<<"\\u", H:4/binary, R/binary>>, Acc) ->
    C = binary_to_integer(H, 16),
    case {C >= 16#D800 andalso C =< 16#DBFF, R} of
        {true, <<"\\u", L:4/binary, R1/binary>>} ->
            Lo = binary_to_integer(L, 16),
            string(R1, [16#10000 + ((C - 16#D800) bsl 10) + (Lo - 16#DC00) | Acc]);
        _ -> string(R, [C | Acc])
    end;
string(<<"\\", E, R/binary>>, Acc) ->
    C = case E of $n -> $\n; $t -> $\t; $r -> $\r; $b -> $\b; $f -> $\f; _ -> E end,
    string(R, [C | Acc]);
string(B, Acc) ->
    [C | _] = unicode:characters_to_list(binary:part(B, 0, utf8_len(B))),
    string(binary:part(B, utf8_len(B), byte_size(B) - utf8_len(B)), [C | Acc]).

utf8_len(<<C, _/binary>>) when C < 16#80 -> 1;
utf8_len(<<C, _/binary>>) when C < 16#E0 -> 2;
utf8_len(<<C, _/binary>>) when C < 16#F0 -> 3;
utf8_len(_) -> 4.

number(B) ->
    {match, [N]} = re:run(B, "^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?", [{capture, [0], binary}]),
    R = binary:part(B, byte_size(N), byte_size(B) - byte_size(N)),
    V = case re:run(N, "[.eE]") of
            nomatch -> binary_to_integer(N);
            _ -> to_float(N)
        end,
    {V, R}.

to_float(N) ->
    case binary:match(N, <<".">>) of
        nomatch ->
            [M, E] = re:split(N, "[eE]"),
            binary_to_float(<<M/binary, ".0e", E/binary>>);
        _ -> binary_to_float(N)
    end.
