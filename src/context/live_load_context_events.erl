%% @doc Browser events of a user turned into metrics (the mapping documented in guides/events.md).
%%
%% The browser sends `{live_load_event, User, Event}' to the user's process; the context drains
%% them at every step ({@link drain/1}) and while it waits for page events ({@link await/3}), and
%% records each with `live_load_metrics'. Every dimension value is a bounded binary: route
%% templates from {@link live_load_context_route}, event names and element descriptors capped.
-module(live_load_context_events).

-export([drain/1]).
-export([await/3]).
-export([handle/1]).
-export([declare/0]).
-export([record_step/2]).

-define(MAX_DIM, 64).

%% @doc Records every event of `User' already in the mailbox. Returns `down' when one of them says
%% the browser went away.
-spec drain(term()) -> ok | down.
drain(User) ->
    drain(User, ok).

drain(User, Acc) ->
    receive
        {live_load_event, U, Event} when U =:= User ->
            drain(User, acc(handle(Event), Acc))
    after 0 -> Acc
    end.

acc(down, _) -> down;
acc(_, Acc) -> Acc.

%% @doc Records events of `User' until `Pred(Event)' is true for one (returned) or the deadline (a
%% monotonic time in ms) passes.
-spec await(term(), fun((map()) -> boolean()), integer()) -> {ok, map()} | {error, timeout | browser_down}.
await(User, Pred, Deadline) ->
    Left = max(0, Deadline - erlang:monotonic_time(millisecond)),
    receive
        {live_load_event, U, Event} when U =:= User ->
            case handle(Event) of
                down -> {error, browser_down};
                ok ->
                    case Pred(Event) of
                        true -> {ok, Event};
                        false -> await(User, Pred, Deadline)
                    end
            end
    after Left -> {error, timeout}
    end.

%% @doc Records one browser event.
-spec handle(map()) -> ok | down.
handle(#{<<"type">> := <<"observer">>} = Batch) ->
    Route = live_load_context_route:collapse(maps:get(<<"path">>, Batch, <<"/">>)),
    case maps:get(<<"dropped">>, Batch, 0) of
        N when is_integer(N), N > 0 -> count(<<"observer.dropped">>, N, #{});
        _ -> ok
    end,
    Events = maps:get(<<"events">>, Batch, []),
    _ = [observer(E, Route) || E <- Events, is_map(E)],
    ok;
handle(#{<<"type">> := <<"http">>} = H) ->
    http(H);
handle(#{<<"type">> := <<"ws">>} = W) ->
    ws(W);
handle(#{<<"type">> := <<"cdp">>, <<"method">> := <<"Inspector.targetCrashed">>}) ->
    count(<<"page.crashes">>, 1, #{}),
    report(<<"page_crashed">>, <<"the page's renderer crashed">>);
handle(#{<<"type">> := <<"browser_down">>}) ->
    down;
handle(_) ->
    ok.

observer(#{<<"kind">> := <<"connect">>, <<"ms">> := Ms} = E, Route) ->
    record(<<"liveview.connect">>, Ms, #{<<"route">> => Route}),
    count(<<"liveview.transport">>, 1, #{<<"transport">> => dim(E, <<"transport">>)});
observer(#{<<"kind">> := <<"event">>, <<"ms">> := Ms} = E, Route) ->
    Dims = #{<<"event">> => dim(E, <<"event">>), <<"type">> => dim(E, <<"type">>)},
    record(<<"liveview.event">>, Ms, Dims#{<<"route">> => Route}),
    case maps:get(<<"input_ms">>, E, null) of
        In when is_number(In) -> record(<<"liveview.input_to_patch">>, In, Dims);
        _ -> ok
    end;
observer(#{<<"kind">> := <<"event_lost">>} = E, _Route) ->
    count(<<"liveview.events_lost">>, 1, #{<<"reason">> => dim(E, <<"reason">>)});
observer(#{<<"kind">> := <<"navigation">>, <<"ms">> := Ms} = E, _Route) ->
    record(<<"liveview.navigation">>, Ms, #{<<"kind">> => dim(E, <<"nav">>)});
observer(#{<<"kind">> := <<"disconnect">>}, _Route) ->
    count(<<"liveview.disconnects">>, 1, #{});
observer(#{<<"kind">> := <<"reconnect">>, <<"ms">> := Ms}, Route) ->
    count(<<"liveview.reconnects">>, 1, #{}),
    record(<<"liveview.reconnect">>, Ms, #{<<"route">> => Route});
observer(#{<<"kind">> := <<"lv_error">>} = E, Route) ->
    Kind = dim(E, <<"error">>),
    count(<<"liveview.errors">>, 1, #{<<"kind">> => Kind}),
    report(<<"liveview_error">>, <<Kind/binary, " error in view ", (dim(E, <<"view">>))/binary, " on ", Route/binary>>);
observer(#{<<"kind">> := <<"diagnostic">>} = E, _Route) ->
    count(<<"liveview.diagnostics">>, 1, #{<<"level">> => dim(E, <<"level">>), <<"code">> => dim(E, <<"code">>)});
observer(#{<<"kind">> := <<"js_error">>} = E, _Route) ->
    count(<<"page.js_errors">>, 1, #{}),
    report(<<"js_error">>, text(maps:get(<<"message">>, E, null)));
observer(_, _) ->
    ok.

http(H) ->
    Route = case maps:get(<<"route">>, H, null) of
                R when is_binary(R) -> live_load_context_route:collapse(R);
                _ -> live_load_context_route:collapse(maps:get(<<"url">>, H, null))
            end,
    Status = case maps:get(<<"status">>, H, null) of
                 S when is_integer(S) -> integer_to_binary(S);
                 _ -> <<"failed">>
             end,
    Dims = #{<<"method">> => dim(H, <<"method">>), <<"route">> => Route, <<"status">> => Status},
    count(<<"http.requests">>, 1, #{<<"status">> => Status}),
    case maps:get(<<"failed">>, H, false) of
        true ->
            count(<<"http.failures">>, 1, #{<<"route">> => Route}),
            report(<<"http_failure">>, <<(text(maps:get(<<"error">>, H, null)))/binary, " ", Route/binary>>);
        _ -> ok
    end,
    _ = [record(Metric, V, Dims)
         || {Key, Metric} <- [{<<"duration_ms">>, <<"http.duration">>}, {<<"ttfb_ms">>, <<"http.ttfb">>},
                              {<<"dns_ms">>, <<"http.dns">>}, {<<"connect_ms">>, <<"http.connect">>},
                              {<<"tls_ms">>, <<"http.tls">>}, {<<"bytes">>, <<"http.bytes">>}],
            V <- [maps:get(Key, H, null)], is_number(V)],
    ok.

ws(#{<<"what">> := <<"open">>}) -> count(<<"ws.opened">>, 1, #{});
ws(#{<<"what">> := <<"close">>}) -> count(<<"ws.closed">>, 1, #{});
ws(#{<<"what">> := <<"handshake">>, <<"ms">> := Ms}) when is_number(Ms) ->
    record(<<"ws.handshake">>, Ms, #{});
ws(#{<<"what">> := <<"sent">>} = W) -> frames(<<"ws.frame_sent_bytes">>, <<"ws.frames_sent">>, W);
ws(#{<<"what">> := <<"received">>} = W) -> frames(<<"ws.frame_received_bytes">>, <<"ws.frames_received">>, W);
ws(_) -> ok.

frames(BytesMetric, Counter, W) ->
    case maps:get(<<"bytes">>, W, null) of
        B when is_number(B) -> record(BytesMetric, B, #{});
        _ -> ok
    end,
    case maps:get(<<"count">>, W, 1) of
        N when is_integer(N), N > 0 -> count(Counter, N, #{});
        _ -> count(Counter, 1, #{})
    end.

%% @doc Declares the units and descriptions of the metrics this module records.
-spec declare() -> ok.
declare() ->
    _ = [safe(fun() -> live_load_metrics:declare(M, #{unit => U, description => D}) end)
         || {M, U, D} <- [{<<"liveview.connect">>, ms, <<"navigation start to main view connected, in the page">>},
                          {<<"liveview.event">>, ms, <<"push to patch applied, in the page">>},
                          {<<"liveview.input_to_patch">>, ms, <<"trusted input to patch applied, in the page">>},
                          {<<"liveview.navigation">>, ms, <<"page-loading start to stop, by kind">>},
                          {<<"liveview.reconnect">>, ms, <<"main view disconnected to connected again">>},
                          {<<"http.duration">>, ms, <<"request sent to body loaded">>},
                          {<<"http.ttfb">>, ms, <<"request start to response headers">>},
                          {<<"http.dns">>, ms, <<"DNS lookup">>},
                          {<<"http.connect">>, ms, <<"TCP connect">>},
                          {<<"http.tls">>, ms, <<"TLS handshake">>},
                          {<<"http.bytes">>, bytes, <<"encoded response bytes">>},
                          {<<"ws.frame_sent_bytes">>, bytes, <<"WebSocket frame payload sent">>},
                          {<<"ws.frame_received_bytes">>, bytes, <<"WebSocket frame payload received">>},
                          {<<"ws.handshake">>, ms, <<"WebSocket upgrade request to response">>},
                          {<<"step.duration">>, ms, <<"one context step, as the driver sees it">>}]],
    ok.

%% @doc Records the duration of one context step (as the driver sees it, dims `step').
-spec record_step(binary(), number()) -> ok.
record_step(Op, Ms) ->
    record(<<"step.duration">>, Ms, #{<<"step">> => Op}).

dim(Map, Key) ->
    case maps:get(Key, Map, null) of
        B when is_binary(B), byte_size(B) =< ?MAX_DIM -> B;
        B when is_binary(B) ->
            case string:slice(B, 0, ?MAX_DIM) of
                S when is_binary(S) -> S;
                _ -> <<"invalid">>
            end;
        I when is_integer(I) -> integer_to_binary(I);
        _ -> <<"unknown">>
    end.

text(B) when is_binary(B) -> B;
text(_) -> <<"unknown">>.

%% The metrics store may be absent (a context used from a bare shell): then nothing is recorded.
record(Metric, Value, Dims) -> safe(fun() -> live_load_metrics:record(Metric, Value, Dims) end).
count(Counter, N, Dims) -> safe(fun() -> live_load_metrics:count(Counter, N, Dims) end).
report(Kind, Message) -> safe(fun() -> live_load_metrics:error(Kind, Message, undefined) end).

safe(F) ->
    try F() of _ -> ok
    catch error:undef -> ok; error:badarg -> ok
    end.
