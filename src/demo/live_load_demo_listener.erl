%% @doc The demo target's TCP listener: owns the listening socket and a few acceptor processes
%% that hand each connection to a {@link live_load_demo_conn} under `live_load_demo_conn_sup'.
-module(live_load_demo_listener).
-behaviour(gen_server).

-export([start_link/1]).
-export([port/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

-define(ACCEPTORS, 4).

-spec start_link(#{port := inet:port_number(), bind := inet:ip_address()}) ->
    {ok, pid()} | {error, term()}.
start_link(Opts) -> gen_server:start_link({local, ?MODULE}, ?MODULE, Opts, []).

%% @doc The port actually listened on (useful with `port => 0').
-spec port() -> inet:port_number().
port() -> gen_server:call(?MODULE, port).

-spec init(map()) -> {ok, map()} | {stop, term()}.
init(#{port := Port, bind := Ip}) ->
    case gen_tcp:listen(Port, [binary, {active, false}, {reuseaddr, true}, {ip, Ip},
                               {backlog, 1024}, {nodelay, true}]) of
        {ok, L} ->
            {ok, P} = inet:port(L),
            [spawn_link(fun() -> accept(L) end) || _ <- lists:seq(1, ?ACCEPTORS)],
            {ok, #{listen => L, port => P}};
        {error, Reason} ->
            {stop, {listen_failed, Port, Reason}}
    end.

accept(L) ->
    case gen_tcp:accept(L) of
        {ok, Sock} ->
            case supervisor:start_child(live_load_demo_conn_sup, []) of
                {ok, Pid} -> live_load_demo_conn:serve(Pid, Sock);
                _ -> gen_tcp:close(Sock)
            end,
            accept(L);
        {error, closed} -> ok;
        {error, _} -> accept(L)
    end.

-spec handle_call(term(), gen_server:from(), map()) -> {reply, term(), map()}.
handle_call(port, _, #{port := P} = S) -> {reply, P, S};
handle_call(_, _, S) -> {reply, {error, unknown_call}, S}.

-spec handle_cast(term(), map()) -> {noreply, map()}.
handle_cast(_, S) -> {noreply, S}.

-spec handle_info(term(), map()) -> {noreply, map()}.
handle_info(_, S) -> {noreply, S}.
