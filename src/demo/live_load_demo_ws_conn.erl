%% @doc The WebSocket half of a demo connection: answers the upgrade, then runs
%% {@link live_load_demo_socket} over RFC 6455 frames ({@link live_load_demo_ws}) until either
%% side closes or 90 s pass without a frame (clients heartbeat every 30 s).
%%
%% Close codes: a message over `max_frame' 1009, a bad frame (unmasked, reserved bits, bad
%% control frame) 1002, invalid JSON or a frame that is not a Phoenix V2 message 1007, an unknown
%% topic or too many channels 1008, a binary frame 1003. Only that connection ends; its views
%% stop with it.
-module(live_load_demo_ws_conn).

-export([run/2]).

-define(IDLE_MS, 90000).

%% @doc Completes the handshake for `Key' and serves the socket; never returns.
-spec run(gen_tcp:socket(), binary()) -> no_return().
run(Sock, Key) ->
    ok = gen_tcp:send(Sock, [<<"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n"
                               "connection: Upgrade\r\nsec-websocket-accept: ">>,
                             live_load_demo_ws:accept_key(Key), <<"\r\n\r\n">>]),
    ok = inet:setopts(Sock, [{packet, raw}, {active, once}]),
    case live_load_demo_target:config(fault) of
        close_websocket -> close(Sock, 1011, <<"fault close_websocket">>);
        _ -> ok
    end,
    loop(#{sock => Sock, buf => <<>>,
           parser => live_load_demo_ws:new_parser(live_load_demo_target:config(max_frame)),
           socket => live_load_demo_socket:new()}).

loop(#{sock := Sock} = S) ->
    receive
        {tcp, Sock, Data} ->
            #{buf := Buf, parser := P} = S,
            case live_load_demo_ws:parse(<<Buf/binary, Data/binary>>, P) of
                {ok, Msgs, Rest, P1} ->
                    S1 = messages(Msgs, S#{buf := Rest, parser := P1}),
                    ok = inet:setopts(Sock, [{active, once}]),
                    loop(S1);
                {error, {too_big, _}} -> close(Sock, 1009, <<"message too big">>);
                {error, {protocol_error, _}} -> close(Sock, 1002, <<"protocol error">>)
            end;
        {tcp_closed, Sock} -> exit(normal);
        {tcp_error, Sock, _} -> exit(normal);
        {live_load_demo_out, Frame} ->
            send(Sock, Frame),
            loop(S);
        Other ->
            case live_load_demo_socket:handle_info(Other, maps:get(socket, S)) of
                {ok, Frames, Sk} ->
                    [send(Sock, F) || F <- Frames],
                    loop(S#{socket := Sk});
                unknown -> loop(S)
            end
    after ?IDLE_MS ->
            close(Sock, 1000, <<"idle">>)
    end.

messages([], S) -> S;
messages([{text, Text} | T], #{sock := Sock, socket := Sk} = S) ->
    case live_load_demo_socket:handle_text(Text, Sk) of
        {ok, Frames, Sk1} ->
            [send(Sock, F) || F <- Frames],
            messages(T, S#{socket := Sk1});
        {error, {unknown_topic, _}} -> close(Sock, 1008, <<"unknown topic">>);
        {error, too_many_channels} -> close(Sock, 1008, <<"too many channels">>);
        {error, _} -> close(Sock, 1007, <<"bad frame">>)
    end;
messages([{binary, _} | _], #{sock := Sock}) -> close(Sock, 1003, <<"binary frames unsupported">>);
messages([{ping, P} | T], #{sock := Sock} = S) ->
    _ = gen_tcp:send(Sock, live_load_demo_ws:pong(P)),
    messages(T, S);
messages([{pong, _} | T], S) -> messages(T, S);
messages([{close, _, _} | _], #{sock := Sock}) -> close(Sock, 1000, <<>>).

send(Sock, Frame) ->
    case gen_tcp:send(Sock, live_load_demo_ws:text(Frame)) of
        ok -> ok;
        {error, _} -> live_load_demo_conn:close(Sock)
    end.

-spec close(gen_tcp:socket(), 1000..4999, binary()) -> no_return().
close(Sock, Code, Reason) ->
    _ = gen_tcp:send(Sock, live_load_demo_ws:close(Code, Reason)),
    live_load_demo_conn:close(Sock).
