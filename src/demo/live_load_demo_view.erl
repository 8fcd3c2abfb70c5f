%% @doc One LiveView process per joined view, as in Phoenix: mounts the page on `phx_join',
%% runs its event handlers, and answers with the rendered tree or its diff.
%%
%% Frames go straight to the transport process (WebSocket connection or long-poll session) as
%% `{live_load_demo_out, Iodata}'. The view monitors its transport and stops with it. A crash
%% (the `#crash' button, or an event picked by `fail_percent') ends the process with
%% `{shutdown, view_crashed}', which the transport turns into `phx_error', so the client shows
%% the error classes and rejoins (a new process); the shutdown tuple keeps logs quiet.
-module(live_load_demo_view).

-define(HEX(C), ((C >= $0 andalso C =< $9) orelse (C >= $a andalso C =< $f) orelse (C >= $A andalso C =< $F))).
-behaviour(gen_server).

-export([start/5]).
-export([start_link/5]).
-export([push/4]).
-export([leave/1]).
-export([init/1, handle_continue/2, handle_call/3, handle_cast/2, handle_info/2]).


%% @doc Starts a view under the demo's view supervisor; it replies to the join itself.
-spec start(pid(), binary(), binary() | null, binary() | null, map()) -> {ok, pid()} | {error, term()}.
start(Transport, Topic, JoinRef, Ref, Payload) ->
    supervisor:start_child(live_load_demo_view_sup, [Transport, Topic, JoinRef, Ref, Payload]).

-spec start_link(pid(), binary(), binary() | null, binary() | null, map()) -> {ok, pid()}.
start_link(Transport, Topic, JoinRef, Ref, Payload) ->
    gen_server:start_link(?MODULE, {Transport, Topic, JoinRef, Ref, Payload}, []).

%% @doc Hands a client message (`event', `live_patch', ...) to the view, stamped with the time it
%% left the connection process (the start of the server time {@link live_load_demo_timing} keeps).
-spec push(pid(), binary() | null, binary(), map()) -> ok.
push(View, Ref, Event, Payload) -> gen_server:cast(View, {in, Ref, Event, Payload, erlang:monotonic_time()}).

%% @doc Stops the view after `phx_leave' or a duplicate join.
-spec leave(pid()) -> ok.
leave(View) -> gen_server:cast(View, leave).

-spec init({pid(), binary(), term(), term(), map()}) -> {ok, map(), {continue, term()}}.
init({Transport, Topic, JoinRef, Ref, Payload}) ->
    erlang:monitor(process, Transport),
    {ok, #{transport => Transport, topic => Topic, join_ref => JoinRef}, {continue, {join, Ref, Payload}}}.

-spec handle_continue(term(), map()) -> {noreply, map()} | {stop, normal, map()}.
handle_continue({join, Ref, Payload}, S) ->
    Url = case Payload of
              #{<<"redirect">> := R} when is_binary(R) -> R;
              #{<<"url">> := U} when is_binary(U) -> U;
              _ -> <<>>
          end,
    {Path, Query} = split_url(Url),
    case {live_load_demo_page:route_of_session(maps:get(<<"session">>, Payload, null)),
          live_load_demo_page:route(Path)} of
        {{ok, _}, {live, Mod}} ->
            Assigns = Mod:handle_params(Query, Mod:mount(Query)),
            Tree = Mod:render(Assigns),
            Title = Mod:title(Assigns),
            reply(S, Ref, ok, join_response(live_load_demo_rendered:to_rendered(Tree, Title, wire()))),
            {noreply, S#{mod => Mod, assigns => Assigns, tree => Tree, title => Title, path => Path}};
        _ ->
            %% Phoenix answers a join it cannot authorise this way; the client reloads the page.
            reply(S, Ref, error, #{<<"reason">> => <<"unauthorized">>}),
            {stop, normal, S}
    end.

-spec handle_call(term(), gen_server:from(), map()) -> {reply, {error, unknown_call}, map()}.
handle_call(_, _, S) -> {reply, {error, unknown_call}, S}.

-spec handle_cast(term(), map()) -> {noreply, map()} | {stop, term(), map()}.
handle_cast(leave, S) -> {stop, normal, S};
handle_cast({in, Ref, <<"event">>, Payload, T0}, S) ->
    injected_latency(),
    case injected_failure() of
        true -> {stop, {shutdown, view_crashed}, S};
        false ->
            %% reply/4 records the server time of this event when it sends the answer
            case event(Ref, Payload, S#{timing => {event_name(Payload), T0}}) of
                {noreply, S1} -> {noreply, maps:remove(timing, S1)};
                Stop -> Stop
            end
    end;
handle_cast({in, Ref, <<"live_patch">>, #{<<"url">> := Url}, _T0}, #{mod := Mod} = S) when is_binary(Url) ->
    {Path, Query} = split_url(Url),
    case live_load_demo_page:route(Path) of
        {live, Mod} ->
            {Resp, S1} = rerender(Mod:handle_params(Query, maps:get(assigns, S)), S),
            reply(S1, Ref, ok, Resp),
            {noreply, S1#{path := Path}};
        _ ->
            reply(S, Ref, ok, #{<<"link_redirect">> => true}),
            {noreply, S}
    end;
handle_cast({in, Ref, _Other, _, _T0}, S) ->
    %% cids_will_destroy, cids_destroyed, allow_upload...: nothing to do in this demo.
    reply(S, Ref, ok, #{}),
    {noreply, S}.

-spec handle_info(term(), map()) -> {noreply, map()} | {stop, normal, map()}.
handle_info({'DOWN', _, process, T, _}, #{transport := T} = S) -> {stop, normal, S};
handle_info(_, S) -> {noreply, S}.

event(Ref, #{<<"event">> := Event} = P, #{mod := Mod, assigns := A} = S) when is_binary(Event) ->
    Value = value(maps:get(<<"type">>, P, <<>>), maps:get(<<"value">>, P, #{})),
    case Mod:handle_event(Event, Value, A) of
        crash -> {stop, {shutdown, view_crashed}, S};
        {noreply, A1} ->
            {Resp, S1} = rerender(A1, S),
            reply(S1, Ref, ok, Resp),
            {noreply, S1};
        {noreply, A1, Events} ->
            {Resp, S1} = rerender(A1, S),
            Diff = maps:get(<<"diff">>, Resp, #{}),
            reply(S1, Ref, ok, Resp#{<<"diff">> => Diff#{<<"e">> => [[Name, Data] || {Name, Data} <- Events]}}),
            {noreply, S1};
        {push_patch, To, A1} ->
            {Path, Query} = split_url(To),
            {Resp, S1} = rerender(Mod:handle_params(Query, A1), S),
            reply(S1, Ref, ok, Resp#{<<"live_patch">> => #{<<"to">> => To, <<"kind">> => <<"push">>}}),
            {noreply, S1#{path := Path}};
        {push_navigate, To, A1} ->
            reply(S, Ref, ok, #{<<"live_redirect">> => #{<<"to">> => To, <<"kind">> => <<"push">>}}),
            {noreply, S#{assigns := A1}};
        {redirect, To, A1} ->
            reply(S, Ref, ok, #{<<"redirect">> => #{<<"to">> => To}}),
            {noreply, S#{assigns := A1}}
    end;
event(Ref, _, S) ->
    reply(S, Ref, ok, #{}),
    {noreply, S}.

rerender(A1, #{mod := Mod, tree := Old, title := OldTitle} = S) ->
    New = Mod:render(A1),
    Title = Mod:title(A1),
    Diff0 = live_load_demo_rendered:diff(Old, New, wire()),
    Diff = case Title of
               OldTitle -> Diff0;
               _ -> Diff0#{<<"t">> => Title}
           end,
    Resp = case map_size(Diff) of
               0 -> #{};
               _ -> #{<<"diff">> => Diff}
           end,
    {Resp, S#{assigns := A1, tree := New, title := Title}}.

%% Forms arrive urlencoded; clicks and keys as maps. Decoded as Plug.Conn.Query does: `+' is a
%% space, `%XX' a byte, and the bytes are NOT checked for UTF-8 (`q=%FF' gives `<<255>>'). Such a
%% value then reaches the rendered diff, whose JSON encoding raises (as Jason does in Phoenix),
%% so the view crashes and the client gets `phx_error' and rejoins: what a Phoenix app does.
value(<<"form">>, V) when is_binary(V) ->
    maps:from_list([form_pair(P) || P <- binary:split(V, <<"&">>, [global]), P =/= <<>>]);
value(_, V) when is_map(V) -> V;
value(_, _) -> #{}.

split_url(Url) ->
    case uri_string:parse(Url) of
        #{path := Path} = M when is_binary(Path) ->
            Q = case M of
                    #{query := QS} ->
                        case uri_string:dissect_query(QS) of
                            L when is_list(L) -> maps:from_list([{K, V} || {K, V} <- L, is_binary(V)]);
                            _ -> #{}
                        end;
                    _ -> #{}
                end,
            {case Path of <<>> -> <<"/">>; _ -> Path end, Q};
        _ -> {<<>>, #{}}
    end.

%% The wire format of the LiveView version the target plays (its `liveview' option): 1.2 says its
%% version in the join reply; 0.20.1 (the npm client we ship) predates that field.
wire() ->
    case live_load_demo_target:config(liveview) of
        <<"0.20">> -> v0_20;
        _ -> v1
    end.

join_response(Rendered) ->
    case wire() of
        v1 -> #{<<"rendered">> => Rendered, <<"liveview_version">> => <<"1.2.12">>};
        v0_20 -> #{<<"rendered">> => Rendered}
    end.

injected_latency() ->
    case live_load_demo_target:config(latency_ms) of
        0 -> ok;
        Ms -> timer:sleep(Ms)
    end.

injected_failure() ->
    case live_load_demo_target:config(fail_percent) of
        0 -> false;
        P -> rand:uniform() * 100 < P
    end.

reply(#{transport := T, topic := Topic, join_ref := JoinRef} = S, Ref, Status, Response) ->
    Frame = live_load_json:encode([JoinRef, Ref, Topic, <<"phx_reply">>,
                                   #{<<"status">> => atom_to_binary(Status), <<"response">> => Response}]),
    T ! {live_load_demo_out, Frame},
    case S of
        #{timing := {Name, T0}} -> live_load_demo_timing:record(Name, T0, iolist_size(Frame));
        _ -> ok
    end.

event_name(#{<<"event">> := E}) when is_binary(E) ->
    case string:slice(E, 0, 64) of
        B when is_binary(B) -> B;
        _ -> <<"invalid">>
    end;
event_name(_) -> <<"unknown">>.

form_pair(P) ->
    case binary:split(P, <<"=">>) of
        [K, X] -> {form_bytes(K), form_bytes(X)};
        [K] -> {form_bytes(K), <<>>}
    end.

form_bytes(B) -> form_bytes(B, <<>>).

form_bytes(<<$%, H, L, T/binary>>, Acc) when ?HEX(H), ?HEX(L) ->
    form_bytes(T, <<Acc/binary, (binary_to_integer(<<H, L>>, 16))>>);
form_bytes(<<$+, T/binary>>, Acc) -> form_bytes(T, <<Acc/binary, $\s>>);
form_bytes(<<C, T/binary>>, Acc) -> form_bytes(T, <<Acc/binary, C>>);
form_bytes(<<>>, Acc) -> Acc.
