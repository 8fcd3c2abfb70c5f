%% @doc The one emitter: connection events (the shapes of guides/interfaces.md) turned into metrics.
%%
%% Every metric a context records is declared here, once, with its unit ({@link declare/0});
%% every value gets the dimension `connection' (`browser' | `protocol'), so a hybrid run compares
%% both kinds side by side. Both backends send the same event shapes to the user's owner, which
%% passes each one here ({@link event/2}) from its own process: observer batches (LiveView timed in
%% the page, or by the protocol client), one `liveview' event, `http', `ws', `error', `cdp' (browser
%% page events) and `browser_down' / `connection_down'.
%%
%% Event input is hostile (any page script can call the observer's binding): every field is
%% checked; an event of the wrong shape is counted in `events.invalid' (dims `type') and never
%% raises. Values are bucketed at the time the event happened (observer `time_origin + t',
%% `wall_ms' of the others, capped at now), not when the mailbox was drained. Route dimensions
%% come from {@link live_load_context_route} applied to the URL (the one templating rule),
%% falling back to a `route' or `path' field when the event carries no URL.
-module(live_load_emit).

-export([declare/0]).
-export([metrics/0]).
-export([event/2]).
-export([step/3]).

-define(MAX_DIM, 64).
-define(MAX_BATCH, 1000).
-define(IS_MS(V), (is_number(V) andalso V >= 0)).

-type kind() :: live_load_connection:kind().

%% @doc Name, unit and description of every metric the emitter records (timers and sizes;
%% counters are documented in guides/events.md).
-spec metrics() -> [{binary(), live_load_metrics:unit(), binary()}].
metrics() ->
    [{<<"liveview.connect">>, ms, <<"navigation start to main view connected (joined)">>},
     {<<"liveview.event">>, ms, <<"push to reply patch applied">>},
     {<<"liveview.input_to_patch">>, ms, <<"trusted input to patch applied, in the page">>},
     {<<"liveview.wire">>, ms, <<"push frame written to its reply frame read, by the client's network stack (server + network)">>},
     {<<"liveview.event_received">>, ms, <<"push frame handed to the page's WebSocket to its reply frame read by the page (the browser's scheduling included)">>},
     {<<"liveview.diff_bytes">>, bytes, <<"payload bytes of the reply frame to a push">>},
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
     {<<"step.duration">>, ms, <<"one context step, as the driver sees it">>}].

%% @doc Declares the units and descriptions of {@link metrics/0} (idempotent).
-spec declare() -> ok.
declare() ->
    _ = [safe(fun() -> live_load_metrics:declare(M, #{unit => U, description => D}) end) || {M, U, D} <- metrics()],
    ok.

%% @doc Records the duration of one context step (as the driver sees it, dims `step').
-spec step(kind(), binary(), number()) -> ok.
step(Conn, Op, Ms) ->
    record(Conn, <<"step.duration">>, Ms, #{<<"step">> => Op}, now).

%% @doc Records one event of a user of connection `Conn'. `down' when it says the backend went
%% away (the context opens a fresh user for the next iteration).
-spec event(kind(), term()) -> ok | down.
event(Conn, #{<<"type">> := <<"observer">>} = Batch) ->
    observer_batch(Conn, Batch);
event(Conn, #{<<"type">> := <<"liveview">>} = E0) ->
    %% `type' names the shape here: the push type of an `event' is `event_type'
    E = (maps:remove(<<"type">>, E0))#{<<"type">> => maps:get(<<"event_type">>, E0, null)},
    Route = route(E),
    case lv(Conn, E, Route, wall(E)) of
        ok -> ok;
        invalid -> invalid(Conn, <<"liveview">>)
    end;
event(Conn, #{<<"type">> := <<"http">>} = H) ->
    http(Conn, H);
event(Conn, #{<<"type">> := <<"ws">>} = W) ->
    ws(Conn, W);
event(Conn, #{<<"type">> := <<"error">>, <<"kind">> := K, <<"message">> := M}) when is_binary(K), is_binary(M) ->
    report(Conn, cap(K), M);
event(Conn, #{<<"type">> := <<"cdp">>, <<"method">> := <<"Inspector.targetCrashed">>}) ->
    count(Conn, <<"page.crashes">>, 1, #{}, now),
    report(Conn, <<"page_crashed">>, <<"the page's renderer crashed">>);
event(Conn, #{<<"type">> := <<"cdp">>, <<"method">> := <<"Page.javascriptDialogOpening">>} = E) ->
    %% the port has accepted it already, or crashed the renderer of a dialog loop (guides/browser.md)
    _ = maps:get(<<"loop_stopped">>, E, false) =:= true andalso count(Conn, <<"page.dialog_loops_stopped">>, 1, #{}, now),
    count(Conn, <<"page.dialogs">>, 1, #{<<"type">> => dialog_type(maps:get(<<"params">>, E, #{}))}, now);
event(_Conn, #{<<"type">> := <<"cdp">>}) ->
    ok;
event(_Conn, #{<<"type">> := T}) when T =:= <<"browser_down">>; T =:= <<"connection_down">> ->
    down;
event(Conn, _) ->
    invalid(Conn, <<"unknown">>).

%% ---------------------------------------------------------------- LiveView

observer_batch(Conn, Batch) ->
    Origin = maps:get(<<"time_origin">>, Batch, null),
    Events = maps:get(<<"events">>, Batch, []),
    Dropped = maps:get(<<"dropped">>, Batch, 0),
    Path = maps:get(<<"path">>, Batch, <<"/">>),
    case is_list(Events) andalso length(Events) =< ?MAX_BATCH andalso is_integer(Dropped) andalso Dropped >= 0
        andalso (is_binary(Path) orelse Path =:= null) andalso (is_number(Origin) orelse Origin =:= null) of
        true ->
            _ = Dropped > 0 andalso count(Conn, <<"observer.dropped">>, Dropped, #{}, now),
            Route = live_load_context_route:collapse(Path),
            Bad = length([E || E <- Events, element_of(Conn, E, Route, Origin) =:= invalid]),
            _ = Bad > 0 andalso count(Conn, <<"events.invalid">>, Bad, #{<<"type">> => <<"observer">>}, now),
            ok;
        false ->
            invalid(Conn, <<"observer">>)
    end.

element_of(Conn, #{} = E, Route, Origin) ->
    At = case {Origin, maps:get(<<"t">>, E, null)} of
             {O, T} when is_number(O), is_number(T) -> O + T;
             _ -> now
         end,
    lv(Conn, E, Route, At);
element_of(_Conn, _, _Route, _Origin) ->
    invalid.

%% One LiveView event (an element of an observer batch, or a `liveview' event): ok or invalid.
lv(Conn, #{<<"kind">> := <<"connect">>, <<"ms">> := Ms} = E, Route, At) when ?IS_MS(Ms) ->
    record(Conn, <<"liveview.connect">>, Ms, #{<<"route">> => Route}, At),
    count(Conn, <<"liveview.transport">>, 1, #{<<"transport">> => dim(E, <<"transport">>)}, At);
lv(Conn, #{<<"kind">> := <<"event">>, <<"ms">> := Ms} = E, Route, At) when ?IS_MS(Ms) ->
    Dims = #{<<"event">> => dim(E, <<"event">>), <<"type">> => dim(E, <<"type">>)},
    record(Conn, <<"liveview.event">>, Ms, Dims#{<<"route">> => Route}, At),
    case maps:get(<<"input_ms">>, E, null) of
        In when ?IS_MS(In) -> record(Conn, <<"liveview.input_to_patch">>, In, Dims, At);
        _ -> ok
    end;
lv(Conn, #{<<"kind">> := Kind, <<"ms">> := Ms} = E, Route, At) when ?IS_MS(Ms), (Kind =:= <<"wire">> orelse
                                                                        Kind =:= <<"received">>) ->
    %% the reply's size comes with whichever of the two carries it (browser: `received', which every
    %% answered push gets; protocol: `wire')
    Dims = #{<<"event">> => dim(E, <<"event">>), <<"type">> => dim(E, <<"type">>), <<"route">> => Route},
    record(Conn, case Kind of
                     <<"wire">> -> <<"liveview.wire">>;
                     <<"received">> -> <<"liveview.event_received">>
                 end, Ms, Dims, At),
    case maps:get(<<"bytes">>, E, null) of
        B when is_integer(B), B >= 0 -> record(Conn, <<"liveview.diff_bytes">>, B, Dims, At);
        _ -> ok
    end;
lv(Conn, #{<<"kind">> := <<"event_lost">>} = E, _Route, At) ->
    count(Conn, <<"liveview.events_lost">>, 1, #{<<"reason">> => dim(E, <<"reason">>)}, At);
lv(Conn, #{<<"kind">> := <<"navigation">>, <<"ms">> := Ms} = E, _Route, At) when ?IS_MS(Ms) ->
    record(Conn, <<"liveview.navigation">>, Ms, #{<<"kind">> => dim(E, <<"nav">>)}, At);
lv(Conn, #{<<"kind">> := <<"disconnect">>}, _Route, At) ->
    count(Conn, <<"liveview.disconnects">>, 1, #{}, At);
lv(Conn, #{<<"kind">> := <<"reconnect">>, <<"ms">> := Ms}, Route, At) when ?IS_MS(Ms) ->
    count(Conn, <<"liveview.reconnects">>, 1, #{}, At),
    record(Conn, <<"liveview.reconnect">>, Ms, #{<<"route">> => Route}, At);
lv(Conn, #{<<"kind">> := <<"lv_error">>} = E, Route, At) ->
    Kind = dim(E, <<"error">>),
    count(Conn, <<"liveview.errors">>, 1, #{<<"kind">> => Kind}, At),
    report(Conn, <<"liveview_error">>, <<Kind/binary, " error in view ", (dim(E, <<"view">>))/binary, " on ", Route/binary>>);
lv(Conn, #{<<"kind">> := <<"diagnostic">>} = E, _Route, At) ->
    count(Conn, <<"liveview.diagnostics">>, 1, #{<<"level">> => dim(E, <<"level">>), <<"code">> => dim(E, <<"code">>)}, At);
lv(Conn, #{<<"kind">> := <<"js_error">>} = E, _Route, At) ->
    count(Conn, <<"page.js_errors">>, 1, #{}, At),
    report(Conn, <<"js_error">>, text(maps:get(<<"message">>, E, null)));
lv(_Conn, #{<<"kind">> := K}, _Route, _At) when K =:= <<"init">>; K =:= <<"dom_ready">>; K =:= <<"navigate">>;
                                                  K =:= <<"transport">> ->
    ok;
lv(_Conn, #{<<"kind">> := K}, _Route, _At) when is_binary(K) ->
    %% a kind a newer observer may send: not invalid, not recorded
    case lists:member(K, [<<"connect">>, <<"event">>, <<"wire">>, <<"received">>, <<"navigation">>, <<"reconnect">>]) of
        true -> invalid;
        false -> ok
    end;
lv(_Conn, _, _Route, _At) ->
    invalid.

%% ---------------------------------------------------------------- HTTP, WebSocket

http(Conn, #{<<"status">> := S, <<"method">> := M} = H) when (is_integer(S) orelse S =:= null), is_binary(M) ->
    At = wall(H),
    Route = route(H),
    Status = case S of
                 null -> <<"failed">>;
                 _ -> integer_to_binary(S)
             end,
    Dims = #{<<"method">> => dim(H, <<"method">>), <<"route">> => Route, <<"status">> => Status},
    count(Conn, <<"http.requests">>, 1, #{<<"status">> => Status}, At),
    case maps:get(<<"failed">>, H, false) of
        true ->
            count(Conn, <<"http.failures">>, 1, #{<<"route">> => Route}, At),
            report(Conn, <<"http_failure">>, <<(text(maps:get(<<"error">>, H, null)))/binary, " ", Route/binary>>);
        _ -> ok
    end,
    _ = [record(Conn, Metric, V, Dims, At)
         || {Key, Metric} <- [{<<"duration_ms">>, <<"http.duration">>}, {<<"ttfb_ms">>, <<"http.ttfb">>},
                              {<<"dns_ms">>, <<"http.dns">>}, {<<"connect_ms">>, <<"http.connect">>},
                              {<<"tls_ms">>, <<"http.tls">>}, {<<"bytes">>, <<"http.bytes">>}],
            V <- [maps:get(Key, H, null)], ?IS_MS(V)],
    ok;
http(Conn, _) ->
    invalid(Conn, <<"http">>).

%% Each `sent'/`received' event is one frame, whatever running count the port adds to it.
ws(Conn, #{<<"what">> := What} = W) ->
    At = wall(W),
    case What of
        <<"open">> -> count(Conn, <<"ws.opened">>, 1, #{}, At);
        <<"close">> -> count(Conn, <<"ws.closed">>, 1, #{}, At);
        <<"handshake">> ->
            case maps:get(<<"ms">>, W, null) of
                Ms when ?IS_MS(Ms) -> record(Conn, <<"ws.handshake">>, Ms, #{}, At);
                _ -> ok
            end;
        <<"sent">> -> frame(Conn, <<"ws.frame_sent_bytes">>, <<"ws.frames_sent">>, W, At);
        <<"received">> -> frame(Conn, <<"ws.frame_received_bytes">>, <<"ws.frames_received">>, W, At);
        <<"frames">> -> frames(Conn, W, At);
        _ -> invalid(Conn, <<"ws">>)
    end;
ws(Conn, _) ->
    invalid(Conn, <<"ws">>).

%% A batch of frames (the protocol port counts them instead of sending one event per frame): every
%% size is recorded, the counters grow by the number of frames.
frames(Conn, W, At) ->
    Sent = maps:get(<<"sent">>, W, []),
    Received = maps:get(<<"received">>, W, []),
    case sizes(Sent) andalso sizes(Received) of
        true ->
            _ = [record(Conn, <<"ws.frame_sent_bytes">>, B, #{}, At) || B <- Sent],
            _ = [record(Conn, <<"ws.frame_received_bytes">>, B, #{}, At) || B <- Received],
            _ = Sent =/= [] andalso count(Conn, <<"ws.frames_sent">>, length(Sent), #{}, At),
            _ = Received =/= [] andalso count(Conn, <<"ws.frames_received">>, length(Received), #{}, At),
            ok;
        false ->
            invalid(Conn, <<"ws">>)
    end.

sizes(L) ->
    is_list(L) andalso length(L) =< ?MAX_BATCH andalso lists:all(fun(B) -> is_integer(B) andalso B >= 0 end, L).

frame(Conn, BytesMetric, Counter, W, At) ->
    case maps:get(<<"bytes">>, W, null) of
        B when ?IS_MS(B) -> record(Conn, BytesMetric, B, #{}, At);
        _ -> ok
    end,
    count(Conn, Counter, 1, #{}, At).

%% ---------------------------------------------------------------- helpers

%% The URL's template (the one rule), else the route or path the event carries.
route(E) ->
    case maps:get(<<"url">>, E, null) of
        U when is_binary(U) -> live_load_context_route:collapse(U);
        _ -> live_load_context_route:collapse(maps:get(<<"route">>, E, maps:get(<<"path">>, E, null)))
    end.

wall(E) ->
    case maps:get(<<"wall_ms">>, E, null) of
        W when is_number(W) -> W;
        _ -> now
    end.

invalid(Conn, Type) ->
    count(Conn, <<"events.invalid">>, 1, #{<<"type">> => Type}, now).

dialog_type(#{<<"type">> := T}) when T =:= <<"alert">>; T =:= <<"confirm">>; T =:= <<"prompt">>;
                                     T =:= <<"beforeunload">> -> T;
dialog_type(_) -> <<"unknown">>.

dim(Map, Key) ->
    case maps:get(Key, Map, null) of
        B when is_binary(B) -> cap(B);
        I when is_integer(I) -> integer_to_binary(I);
        _ -> <<"unknown">>
    end.

cap(B) when byte_size(B) =< ?MAX_DIM -> B;
cap(B) ->
    case string:slice(B, 0, ?MAX_DIM) of
        S when is_binary(S) -> S;
        _ -> <<"invalid">>
    end.

text(B) when is_binary(B) -> B;
text(_) -> <<"unknown">>.

conn(browser) -> <<"browser">>;
conn(protocol) -> <<"protocol">>.

%% An event can't have happened after now: a forged time never lands in a future bucket.
at(now) -> #{};
at(At) -> #{at => min(At, erlang:system_time(millisecond))}.

%% The metrics store may be absent (a context used from a bare shell): then nothing is recorded.
record(Conn, Metric, Value, Dims, At) ->
    safe(fun() -> live_load_metrics:record(Metric, Value, Dims#{<<"connection">> => conn(Conn)}, at(At)) end).

count(Conn, Counter, N, Dims, At) ->
    safe(fun() -> live_load_metrics:count(Counter, N, Dims#{<<"connection">> => conn(Conn)}, at(At)) end).

report(Conn, Kind, Message) ->
    safe(fun() -> live_load_metrics:error(Kind, Message, undefined, #{<<"connection">> => conn(Conn)}) end).

safe(F) ->
    try F() of _ -> ok
    catch error:undef -> ok; error:badarg -> ok
    end.
