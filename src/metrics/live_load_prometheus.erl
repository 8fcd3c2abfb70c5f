%% @doc Live metrics for Prometheus: while a run goes, `GET /metrics' on the given address
%% answers this node's figures in the Prometheus text exposition format (0.0.4), built from
%% the same collection the result is made from (`live_load_collector' + `live_load_result'),
%% so a scrape and the final result agree. Formatting is `live_load_prometheus_text'.
%%
%% A small `gen_tcp' server bound to the given address only (one process per connection,
%% HTTP/1.1 `Connection: close'); `live_load:run/1' starts it for the option
%% `prometheus => "127.0.0.1:9568"' and stops it after the last scenario. The active user
%% count comes from {@link users_changed/1}, called by `live_load_runner_ctx' as contexts open
%% and close. See `guides/ci.md'.
-module(live_load_prometheus).

-export([parse_address/1]).
-export([start/1]).
-export([stop/1]).
-export([users_changed/1]).
-export([active_users/0]).
-export([scrape/0]).

-define(USERS_KEY, {?MODULE, users}).
-define(MAX_REQUEST, 8192).

%% @doc `"127.0.0.1:9568"' (or `"[::1]:9568"') as `{IpTuple, Port}'.
-spec parse_address(unicode:chardata() | {inet:ip_address(), inet:port_number()}) ->
          {ok, {inet:ip_address(), inet:port_number()}} | {error, {invalid_option, prometheus, term()}}.
parse_address({Ip, Port} = A) when is_tuple(Ip), is_integer(Port), Port >= 0, Port < 65536 -> {ok, A};
parse_address(Text) when is_list(Text); is_binary(Text) ->
    S = unicode:characters_to_list(Text),
    case string:split(S, ":", trailing) of
        [Host0, PortS] ->
            Host = string:trim(string:trim(Host0, leading, "["), trailing, "]"),
            case {inet:parse_address(Host), string:to_integer(PortS)} of
                {{ok, Ip}, {Port, ""}} when Port >= 0, Port < 65536 -> {ok, {Ip, Port}};
                _ -> {error, {invalid_option, prometheus, Text}}
            end;
        _ -> {error, {invalid_option, prometheus, Text}}
    end;
parse_address(Other) ->
    {error, {invalid_option, prometheus, Other}}.

%% @doc Starts the server on `Address'; returns its pid and the port it listens on.
-spec start(term()) -> {ok, pid(), inet:port_number()} | {error, term()}.
start(Address) ->
    case parse_address(Address) of
        {ok, {Ip, Port}} ->
            Caller = self(),
            Ref = make_ref(),
            Pid = spawn(fun() -> listen(Caller, Ref, Ip, Port) end),
            Mon = monitor(process, Pid),
            receive
                {Ref, {ok, P}} -> demonitor(Mon, [flush]), {ok, Pid, P};
                {Ref, {error, _} = E} -> demonitor(Mon, [flush]), E;
                {'DOWN', Mon, process, Pid, Reason} -> {error, Reason}
            end;
        {error, _} = E -> E
    end.

%% @doc Stops the server and closes its socket.
-spec stop(pid()) -> ok.
stop(Pid) ->
    Mon = monitor(process, Pid),
    exit(Pid, shutdown),
    receive {'DOWN', Mon, process, Pid, _} -> ok after 5000 -> ok end.

%% @doc Adds `Delta' to the node's active user count (contexts open).
-spec users_changed(integer()) -> ok.
users_changed(Delta) ->
    atomics:add(users_ref(), 1, Delta).

%% @doc The node's active user count.
-spec active_users() -> integer().
active_users() ->
    atomics:get(users_ref(), 1).

users_ref() ->
    case persistent_term:get(?USERS_KEY, undefined) of
        undefined ->
            %% made once per node, under a node-local lock: two users starting at once must not
            %% each make one (the counts added to the lost one would be lost)
            global:trans({?USERS_KEY, self()},
                         fun() ->
                                 case persistent_term:get(?USERS_KEY, undefined) of
                                     undefined ->
                                         Ref = atomics:new(1, [{signed, true}]),
                                         persistent_term:put(?USERS_KEY, Ref),
                                         Ref;
                                     Ref -> Ref
                                 end
                         end, [node()]);
        Ref -> Ref
    end.

%% @doc The `/metrics' body now.
-spec scrape() -> iodata().
scrape() ->
    {ok, Collected} = live_load_collector:collect([node()]),
    Result = live_load_result:build(Collected, #{}),
    live_load_prometheus_text:render(Result, #{users_active => active_users()}).

%%% Server

listen(Caller, Ref, Ip, Port) ->
    process_flag(trap_exit, true),
    Family = case tuple_size(Ip) of 8 -> inet6; _ -> inet end,
    case gen_tcp:listen(Port, [binary, Family, {ip, Ip}, {active, false}, {reuseaddr, true},
                               {packet, http_bin}, {backlog, 64}]) of
        {ok, L} ->
            {ok, P} = inet:port(L),
            Caller ! {Ref, {ok, P}},
            Self = self(),
            Acceptor = spawn_link(fun() -> accept(L, Self) end),
            receive
                {'EXIT', _, _} -> gen_tcp:close(L), exit(Acceptor, kill)
            end;
        {error, Reason} ->
            Caller ! {Ref, {error, {prometheus_listen_failed, Reason}}}
    end.

accept(L, Owner) ->
    case gen_tcp:accept(L) of
        {ok, S} ->
            Pid = spawn(fun() -> receive {go, S} -> serve(S) end end),
            ok = gen_tcp:controlling_process(S, Pid),
            Pid ! {go, S},
            accept(L, Owner);
        {error, closed} -> ok;
        {error, _} -> accept(L, Owner)
    end.

serve(S) ->
    Reply = case request(S, undefined, 0) of
                {ok, 'GET', <<"/metrics">>} ->
                    Body = try scrape()
                           catch C:R -> {error, io_lib:format("~p:~0tP", [C, R, 10])}
                           end,
                    case Body of
                        {error, Why} -> response(500, <<"text/plain">>, Why);
                        _ -> response(200, <<"text/plain; version=0.0.4; charset=utf-8">>, Body)
                    end;
                {ok, 'GET', _} -> response(404, <<"text/plain">>, <<"only /metrics here\n">>);
                {ok, _, _} -> response(405, <<"text/plain">>, <<"GET /metrics\n">>);
                error -> response(400, <<"text/plain">>, <<"bad request\n">>)
            end,
    _ = gen_tcp:send(S, Reply),
    gen_tcp:close(S).

%% Reads the request line and the headers (bounded), returns method and path.
request(S, Line, Bytes) when Bytes < ?MAX_REQUEST ->
    case gen_tcp:recv(S, 0, 10000) of
        {ok, {http_request, Method, {abs_path, Path}, _}} ->
            request(S, {Method, hd(binary:split(Path, <<"?">>))}, Bytes + byte_size(Path));
        {ok, {http_header, _, _, _, V}} -> request(S, Line, Bytes + byte_size(V) + 32);
        {ok, http_eoh} when Line =/= undefined -> {ok, element(1, Line), element(2, Line)};
        _ -> error
    end;
request(_, _, _) -> error.

response(Code, Type, Body) ->
    Reason = case Code of 200 -> "OK"; 400 -> "Bad Request"; 404 -> "Not Found";
                 405 -> "Method Not Allowed"; _ -> "Internal Server Error" end,
    Bin = iolist_to_binary(Body),
    [io_lib:format("HTTP/1.1 ~b ~s\r\nContent-Type: ~s\r\nContent-Length: ~b\r\nConnection: close\r\n\r\n",
                   [Code, Reason, Type, byte_size(Bin)]), Bin].
