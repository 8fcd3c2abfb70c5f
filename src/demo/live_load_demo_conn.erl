%% @doc One HTTP/1.1 connection of the demo target (a process per TCP connection, started
%% under `live_load_demo_conn_sup'): keep-alive request loop, pages, the two client bundles,
%% the long-poll transport, and the upgrade after which the same process runs
%% {@link live_load_demo_ws_conn}.
%%
%% Every input is capped: request line and header lines (16 KiB, OTP's `http_bin' packet
%% parser, which closes the socket itself on a longer line), 64 headers, 1 MiB request bodies (413 otherwise), WebSocket messages (`max_frame',
%% default 1 MiB, see {@link live_load_demo_ws_conn}).
-module(live_load_demo_conn).

-export([start_link/0]).
-export([serve/2]).
-export([close/1]).
-export([init/1]).

-define(IDLE_MS, 60000).
-define(MAX_HEADERS, 64).
-define(MAX_BODY, 1048576).

-type req() :: #{method := binary(), path := binary(), query := #{binary() => binary()},
                 version := {non_neg_integer(), non_neg_integer()},
                 headers := #{binary() => binary()}, body := binary()}.

%% @doc Started by the supervisor; waits for the acceptor to hand over the socket.
-spec start_link() -> {ok, pid()}.
start_link() -> proc_lib:start_link(?MODULE, init, [self()]).

%% @doc Gives an accepted socket to a connection process.
-spec serve(pid(), gen_tcp:socket()) -> ok.
serve(Pid, Sock) ->
    case gen_tcp:controlling_process(Sock, Pid) of
        ok ->
            Pid ! {live_load_demo_socket, Sock},
            ok;
        {error, _} ->
            _ = gen_tcp:close(Sock),
            exit(Pid, kill),
            ok
    end.

-spec init(pid()) -> no_return().
init(Parent) ->
    proc_lib:init_ack(Parent, {ok, self()}),
    receive
        {live_load_demo_socket, Sock} -> request(Sock)
    after 5000 -> exit(normal)
    end.

request(Sock) ->
    ok = inet:setopts(Sock, [{packet, http_bin}, {packet_size, 16384}, {active, false}]),
    case gen_tcp:recv(Sock, 0, ?IDLE_MS) of
        {ok, {http_request, Method, {abs_path, Target}, Vsn}} ->
            headers(Sock, #{method => method(Method), target => Target, version => Vsn}, #{}, 0);
        {ok, _} -> error_close(Sock, 400);
        {error, _} -> close(Sock)
    end.

method(M) when is_atom(M) -> atom_to_binary(M);
method(M) when is_binary(M) -> M.

headers(Sock, _, _, N) when N > ?MAX_HEADERS -> error_close(Sock, 431);
headers(Sock, Req, Hs, N) ->
    case gen_tcp:recv(Sock, 0, ?IDLE_MS) of
        {ok, {http_header, _, Name, _, Value}} ->
            K = string:lowercase(if is_atom(Name) -> atom_to_binary(Name); true -> Name end),
            headers(Sock, Req, Hs#{K => Value}, N + 1);
        {ok, http_eoh} -> body(Sock, Req, Hs);
        {ok, _} -> error_close(Sock, 400);
        {error, _} -> close(Sock)
    end.

body(Sock, #{target := Target} = Req0, Hs) ->
    ok = inet:setopts(Sock, [{packet, raw}]),
    {Path, Query} = split_target(Target),
    Req = maps:remove(target, Req0#{path => Path, query => Query, headers => Hs, body => <<>>}),
    case content_length(Hs) of
        0 -> dispatch(Sock, Req);
        N when is_integer(N), N =< ?MAX_BODY ->
            case gen_tcp:recv(Sock, N, ?IDLE_MS) of
                {ok, Body} -> dispatch(Sock, Req#{body := Body});
                {error, _} -> close(Sock)
            end;
        N when is_integer(N) -> error_close(Sock, 413);
        invalid -> error_close(Sock, 400)
    end.

content_length(#{<<"transfer-encoding">> := _}) -> invalid;
content_length(#{<<"content-length">> := V}) ->
    try binary_to_integer(string:trim(V)) of
        N when N >= 0 -> N;
        _ -> invalid
    catch error:badarg -> invalid
    end;
content_length(_) -> 0.

split_target(Target) ->
    case binary:split(Target, <<"?">>) of
        [P] -> {P, #{}};
        [P, Q] ->
            case uri_string:dissect_query(Q) of
                L when is_list(L) -> {P, maps:from_list([{K, V} || {K, V} <- L, is_binary(K), is_binary(V)])};
                _ -> {P, #{}}
            end
    end.

-spec dispatch(gen_tcp:socket(), req()) -> no_return().
dispatch(Sock, Req) ->
    case live_load_demo_target:config(fault) of
        http_500 -> respond(Sock, Req, 500, <<"text/plain">>, <<"internal server error (fault http_500)\n">>);
        hang -> hang(Sock);
        _ -> route(Sock, Req)
    end.

%% fault `hang': the request was read; nothing is answered until the client gives up (bounded)
-spec hang(gen_tcp:socket()) -> no_return().
hang(Sock) ->
    _ = inet:setopts(Sock, [{active, false}, {packet, raw}]),
    _ = gen_tcp:recv(Sock, 0, 600000),
    _ = gen_tcp:close(Sock),
    exit(normal).

route(Sock, #{method := <<"GET">>, path := <<"/live/websocket">>} = Req) -> upgrade(Sock, Req);
route(Sock, #{path := <<"/live/longpoll">>} = Req) ->
    {Status, Json} = live_load_demo_longpoll:handle(Req),
    respond(Sock, Req, Status, <<"application/json">>, live_load_json:encode(Json));
route(Sock, #{method := <<"GET">>, path := <<"/_demo/timing">>} = Req) ->
    respond(Sock, Req, 200, <<"application/json">>, live_load_json:encode(live_load_demo_timing:summary()));
route(Sock, #{method := <<"POST">>, path := <<"/_demo/timing/reset">>} = Req) ->
    ok = live_load_demo_timing:reset(),
    respond(Sock, Req, 200, <<"application/json">>, <<"{}">>);
%% A Phoenix app serves priv/static/favicon.ico; browsers ask for it on every first page of a
%% context, so a 404 here would show as a failed request in every browser run.
route(Sock, #{method := <<"GET">>, path := <<"/favicon.ico">>} = Req) ->
    respond(Sock, Req, 200, <<"image/x-icon">>, favicon(), <<"public, max-age=86400">>);
route(Sock, #{method := <<"GET">>, path := <<"/assets/", _/binary>> = Path} = Req) ->
    case maps:find(Path, live_load_demo_target:config(assets)) of
        %% as Plug.Static answers a digested asset (`?vsn=d'): the browser keeps it
        {ok, Js} -> respond(Sock, Req, 200, <<"text/javascript">>, Js,
                            <<"public, max-age=31536000, immutable">>);
        error -> respond(Sock, Req, 404, <<"text/plain">>, <<"not found\n">>)
    end;
route(Sock, #{method := <<"GET">>, path := Path, query := Query} = Req) ->
    case live_load_demo_page:route(Path) of
        not_found -> respond(Sock, Req, 404, <<"text/plain">>, <<"not found\n">>);
        Route -> respond(Sock, Req, 200, <<"text/html; charset=utf-8">>,
                         live_load_demo_page:render_dead(Route, Query))
    end;
route(Sock, Req) -> respond(Sock, Req, 405, <<"text/plain">>, <<"method not allowed\n">>).

%% A 1x1 transparent 32-bit icon: ICONDIR, one ICONDIRENTRY, BITMAPINFOHEADER, pixel, AND mask.
favicon() ->
    Image = <<40:32/little, 1:32/little, 2:32/little, 1:16/little, 32:16/little, 0:32, 8:32/little,
              0:32, 0:32, 0:32, 0:32, 0:32, 0:32>>,
    <<0:16, 1:16/little, 1:16/little, 1, 1, 0, 0, 1:16/little, 32:16/little,
      (byte_size(Image)):32/little, 22:32/little, Image/binary>>.

respond(Sock, Req, Status, Type, Body) ->
    respond(Sock, Req, Status, Type, Body, <<"no-store">>).

respond(Sock, #{version := Vsn, headers := Hs}, Status, Type, Body, CacheControl) ->
    Keep = keep_alive(Vsn, Hs),
    Resp = [<<"HTTP/1.1 ">>, status(Status), <<"\r\ncontent-type: ">>, Type,
            <<"\r\ncontent-length: ">>, integer_to_binary(iolist_size(Body)),
            <<"\r\ncache-control: ">>, CacheControl, <<"\r\nconnection: ">>,
            case Keep of true -> <<"keep-alive">>; false -> <<"close">> end, <<"\r\n\r\n">>, Body],
    case gen_tcp:send(Sock, Resp) of
        ok when Keep -> request(Sock);
        _ -> close(Sock)
    end.

keep_alive({1, 1}, Hs) -> string:lowercase(maps:get(<<"connection">>, Hs, <<>>)) =/= <<"close">>;
keep_alive(_, _) -> false.

status(200) -> <<"200 OK">>;
status(400) -> <<"400 Bad Request">>;
status(403) -> <<"403 Forbidden">>;
status(404) -> <<"404 Not Found">>;
status(405) -> <<"405 Method Not Allowed">>;
status(413) -> <<"413 Content Too Large">>;
status(431) -> <<"431 Request Header Fields Too Large">>;
status(500) -> <<"500 Internal Server Error">>.

-spec error_close(gen_tcp:socket(), 400..599) -> no_return().
error_close(Sock, Status) ->
    _ = gen_tcp:send(Sock, [<<"HTTP/1.1 ">>, status(Status),
                            <<"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n">>]),
    close(Sock).

%% @doc Ends the connection process with a graceful close: stop sending, then read and drop what the client still sends (bounded in
%% time and bytes) so the kernel sends FIN, not RST, and the client reads our last response or
%% close frame.
-spec close(gen_tcp:socket()) -> no_return().
close(Sock) ->
    _ = gen_tcp:shutdown(Sock, write),
    _ = inet:setopts(Sock, [{active, false}, {packet, raw}]),
    drain(Sock, erlang:monotonic_time(millisecond) + 2000, 4194304),
    _ = gen_tcp:close(Sock),
    exit(normal).

drain(Sock, Deadline, Budget) ->
    Left = Deadline - erlang:monotonic_time(millisecond),
    case Left > 0 andalso Budget > 0 andalso gen_tcp:recv(Sock, 0, Left) of
        {ok, B} -> drain(Sock, Deadline, Budget - byte_size(B));
        _ -> ok
    end.

%% WebSocket upgrade (the connection then belongs to live_load_demo_ws_conn) ---------------

upgrade(Sock, #{headers := Hs} = Req) ->
    Upgrade = string:lowercase(maps:get(<<"upgrade">>, Hs, <<>>)),
    case {Upgrade, Hs, live_load_demo_target:config(refuse_websocket)} of
        {_, _, true} ->
            respond(Sock, Req#{headers := Hs#{<<"connection">> => <<"close">>}}, 403,
                    <<"text/plain">>, <<"websocket refused (refuse_websocket)\n">>);
        {<<"websocket">>, #{<<"sec-websocket-key">> := Key, <<"sec-websocket-version">> := <<"13">>}, false} ->
            live_load_demo_ws_conn:run(Sock, Key);
        _ ->
            error_close(Sock, 400)
    end.
