%% @doc Owner of one `priv/live_load_protocol' port program (browserless LiveView users).
%%
%% A gen_server holding the port (`{packet,4}', external term format; the wire protocol is written
%% down once, at the top of `c_src/protocol/main.c'). Requests carry an id; replies go back to the
%% waiting caller, which gets `{error, timeout}' after its timeout. Events of a user go to its owner
%% as `{live_load_event, User, Event}'. Users are found by their integer id in a map (O(1)); owner
%% monitors map back to the id the same way.
%%
%% When the port exits every waiting caller gets `{error, browser_down}' (the reason the context
%% already knows for "the backend process died"), every owner gets `#{<<"type">> =>
%% <<"browser_down">>, <<"connection">> => <<"protocol">>}', the users are forgotten and a fresh
%% port is started; after `restart_limit' exits within a minute the server stops.
-module(live_load_protocol_port).
-behaviour(gen_server).

-export([start_link/1]).
-export([start_shared/2]).
-export([stop/1]).
-export([new_user/2]).
-export([call/3]).
-export([close_user/1]).
-export([user_count/1]).
-export([stats/1]).
-export([os_pid/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-record(user, {conn :: pid(), epoch :: pos_integer(), id :: pos_integer()}).
-opaque user() :: #user{}.
-export_type([user/0]).

-type opts() :: #{max_users := pos_integer(), port_program := file:filename_all() | default,
                  restart_limit := non_neg_integer(), max_diff := pos_integer(),
                  max_depth := pos_integer(), heartbeat_ms := pos_integer()}.

-record(state, {opts :: opts(),
                port :: port() | undefined,
                epoch = 1 :: pos_integer(),
                next_id = 1 :: pos_integer(),
                pending = #{} :: #{pos_integer() => {gen_server:from() | none, reference() | none, term()}},
                late = #{} :: #{pos_integer() => term()},
                users = #{} :: #{pos_integer() => {pid(), reference()}},
                monitors = #{} :: #{reference() => pos_integer()},
                exits = [] :: [integer()]}).

-define(CLOSE_TIMEOUT, 10000).
-define(DEFAULTS, #{max_users => 10000, port_program => default, restart_limit => 5,
                    max_diff => 8 bsl 20, max_depth => 64, heartbeat_ms => 30000}).

%% @doc Starts the owner and its port program. Options: see {@link live_load_protocol:start_link/1}.
-spec start_link(map()) -> {ok, pid()} | {error, term()}.
start_link(Opts) ->
    case validate(Opts) of
        {ok, Valid} -> gen_server:start_link(?MODULE, Valid, []);
        {error, _} = E -> E
    end.

%% @doc Starts an owner registered under `Name', not linked to the caller (the node's shared port).
-spec start_shared(atom(), map()) -> {ok, pid()} | {error, term()}.
start_shared(Name, Opts) ->
    case validate(Opts) of
        {ok, Valid} -> gen_server:start({local, Name}, ?MODULE, Valid, []);
        {error, _} = E -> E
    end.

%% @doc Stops the owner; the port closes every user's sockets and exits.
-spec stop(pid()) -> ok.
stop(Conn) ->
    gen_server:stop(Conn).

%% @doc Creates a user on the port. Options: see {@link live_load_protocol:new_user/2}.
-spec new_user(pid(), map()) -> {ok, user()} | {error, term()}.
new_user(Conn, UserOpts) when is_map(UserOpts) ->
    case user_opts(UserOpts) of
        {ok, Owner, Timeout, PortOpts} -> safe_call(Conn, {new_user, Owner, PortOpts, Timeout});
        {error, _} = E -> E
    end.

%% @doc One command for a user (a map built by {@link live_load_protocol_action:encode/1});
%% `{ok, Result}' | `{error, Reason}' as the port answered, or `{error, timeout | browser_down}'.
-spec call(user(), map(), non_neg_integer()) -> {ok, term()} | {error, term()}.
call(#user{conn = C} = U, Cmd, Timeout) when is_map(Cmd) ->
    safe_call(C, {call, U, Cmd, Timeout}).

%% @doc Closes the user (its socket and page). Always `ok'.
-spec close_user(user()) -> ok.
close_user(#user{conn = C} = U) ->
    _ = safe_call(C, {close_user, U}),
    ok.

%% @doc Users alive on this port.
-spec user_count(pid()) -> non_neg_integer().
user_count(Conn) ->
    case safe_call(Conn, user_count) of
        N when is_integer(N) -> N;
        {error, browser_down} -> 0
    end.

%% @doc The port's counters.
-spec stats(pid()) -> {ok, map()} | {error, term()}.
stats(Conn) ->
    safe_call(Conn, {port_call, {stats}, 10000}).

%% @doc OS pid of the port program.
-spec os_pid(pid()) -> {ok, non_neg_integer()} | {error, browser_down}.
os_pid(Conn) ->
    safe_call(Conn, os_pid).

safe_call(Pid, Req) ->
    try gen_server:call(Pid, Req, infinity)
    catch exit:_ -> {error, browser_down}
    end.

validate(Opts) when is_map(Opts) ->
    Known = maps:keys(?DEFAULTS) ++ [user_id, connection, mode, browser],
    case [K || K <- maps:keys(Opts), not lists:member(K, Known)] of
        [K | _] -> {error, {invalid_option, K, maps:get(K, Opts)}};
        [] -> check(maps:to_list(maps:merge(?DEFAULTS, maps:with(maps:keys(?DEFAULTS), Opts))), #{})
    end;
validate(Opts) ->
    {error, {invalid_option, opts, Opts}}.

check([], Acc) -> {ok, Acc};
check([{K, V} | T], Acc) ->
    case ok_opt(K, V) of
        true -> check(T, Acc#{K => V});
        false -> {error, {invalid_option, K, V}}
    end.

ok_opt(max_users, V) -> is_integer(V) andalso V > 0 andalso V =< 100000;
ok_opt(restart_limit, V) -> is_integer(V) andalso V >= 0;
ok_opt(max_diff, V) -> is_integer(V) andalso V >= 1024 andalso V =< 1 bsl 30;
ok_opt(max_depth, V) -> is_integer(V) andalso V >= 4 andalso V =< 1024;
ok_opt(heartbeat_ms, V) -> is_integer(V) andalso V >= 100 andalso V =< 3600000;
ok_opt(port_program, default) -> true;
ok_opt(port_program, V) -> is_list(V) orelse is_binary(V).

user_opts(O) ->
    Owner = maps:get(owner, O, self()),
    Timeout = maps:get(timeout, O, 30000),
    Base = maps:get(base_url, O, undefined),
    if
        not is_pid(Owner) -> {error, {invalid_option, owner, Owner}};
        not (is_integer(Timeout) andalso Timeout > 0) -> {error, {invalid_option, timeout, Timeout}};
        not (Base =:= undefined orelse is_binary(Base)) -> {error, {invalid_option, base_url, Base}};
        true ->
            PortOpts = case Base of
                           undefined -> #{};
                           _ -> #{<<"base_url">> => Base}
                       end,
            {ok, Owner, Timeout, PortOpts}
    end.

%% ------------------------------------------------------------------ gen_server

%% @private
-spec init(opts()) -> {ok, #state{}} | {stop, term()}.
init(Opts) ->
    process_flag(trap_exit, true),
    case open(Opts) of
        {ok, Port} -> {ok, #state{opts = Opts, port = Port}};
        {error, Reason} -> {stop, Reason}
    end.

open(Opts) ->
    Exe = case maps:get(port_program, Opts) of
              default -> default_program();
              P -> P
          end,
    Args = ["--max-users", integer_to_list(maps:get(max_users, Opts)),
            "--max-message", integer_to_list(maps:get(max_diff, Opts)),
            "--max-depth", integer_to_list(maps:get(max_depth, Opts)),
            "--heartbeat-ms", integer_to_list(maps:get(heartbeat_ms, Opts))],
    try open_port({spawn_executable, Exe}, [{packet, 4}, binary, exit_status, {args, Args}]) of
        Port -> {ok, Port}
    catch error:Reason -> {error, {port_program, Exe, Reason}}
    end.

%% LIVE_LOAD_PROTOCOL_PROGRAM overrides (the ASan build in `make asan-protocol')
default_program() ->
    case os:getenv("LIVE_LOAD_PROTOCOL_PROGRAM") of
        false -> priv_program();
        "" -> priv_program();
        P -> P
    end.

priv_program() ->
    Priv = case code:priv_dir(live_load) of
               {error, bad_name} -> filename:join(filename:dirname(filename:dirname(code:which(?MODULE))), "priv");
               Dir -> Dir
           end,
    filename:join(Priv, "live_load_protocol").

%% @private
-spec handle_call(term(), gen_server:from(), #state{}) -> {reply, term(), #state{}} | {noreply, #state{}}.
handle_call({new_user, Owner, PortOpts, Timeout}, From, S) ->
    {noreply, send(S, {new_user, PortOpts}, From, {new_user, Owner}, Timeout)};
handle_call({call, U, Cmd, Timeout}, From, S) ->
    case live_user(U, S) of
        {ok, Id} -> {noreply, send(S, {action, Id, Cmd}, From, call, Timeout)};
        error -> {reply, {error, browser_down}, S}
    end;
handle_call({close_user, U}, From, S) ->
    case live_user(U, S) of
        {ok, Id} -> {noreply, send(forget(Id, S), {close_user, Id}, From, close, ?CLOSE_TIMEOUT)};
        error -> {reply, ok, S}
    end;
handle_call({port_call, Cmd, Timeout}, From, S) ->
    {noreply, send(S, Cmd, From, call, Timeout)};
handle_call(user_count, _From, S) ->
    {reply, map_size(S#state.users), S};
handle_call(os_pid, _From, S = #state{port = Port}) ->
    case erlang:port_info(Port, os_pid) of
        {os_pid, P} -> {reply, {ok, P}, S};
        undefined -> {reply, {error, browser_down}, S}
    end.

%% @private
-spec handle_cast(term(), #state{}) -> {noreply, #state{}}.
handle_cast(_Msg, S) ->
    {noreply, S}.

%% @private
-spec handle_info(term(), #state{}) -> {noreply, #state{}} | {stop, term(), #state{}}.
handle_info({Port, {data, Data}}, S = #state{port = Port}) ->
    {noreply, from_port(binary_to_term(Data), S)};
handle_info({Port, {exit_status, Status}}, S = #state{port = Port}) ->
    port_down(Status, S);
handle_info({timeout, Id}, S = #state{pending = P, late = Late}) ->
    case maps:take(Id, P) of
        {{From, _TRef, Kind}, P2} ->
            reply(From, {error, timeout}),
            {noreply, S#state{pending = P2, late = Late#{Id => Kind}}};
        error ->
            {noreply, S}
    end;
handle_info({'DOWN', Mon, process, _Owner, _}, S = #state{monitors = Mons}) ->
    case Mons of
        #{Mon := Id} -> {noreply, send(forget(Id, S), {close_user, Id}, none, close, ?CLOSE_TIMEOUT)};
        _ -> {noreply, S}
    end;
handle_info({'EXIT', Port, Reason}, S = #state{port = Port}) ->
    %% closed without an exit_status (the VM wrote to a port program killed a moment before:
    %% epipe): no exit_status follows, so the same as its exit
    port_down({port_closed, Reason}, S);
handle_info({'EXIT', _Pid, Reason}, S) when Reason =/= normal ->
    {stop, Reason, S};
handle_info(_Msg, S) ->
    {noreply, S}.

%% @private
-spec terminate(term(), #state{}) -> ok.
terminate(_Reason, #state{port = Port}) ->
    catch port_close(Port),
    ok.

%% ------------------------------------------------------------------ internals

live_user(#user{conn = C, epoch = E, id = Id}, #state{epoch = E, users = Users}) when C =:= self() ->
    case is_map_key(Id, Users) of
        true -> {ok, Id};
        false -> error
    end;
live_user(_, _) ->
    error.

forget(Id, S = #state{users = Users, monitors = Mons}) ->
    case maps:take(Id, Users) of
        {{_Owner, Mon}, Users2} ->
            erlang:demonitor(Mon, [flush]),
            S#state{users = Users2, monitors = maps:remove(Mon, Mons)};
        error -> S
    end.

send(S = #state{port = Port, next_id = Id, pending = P}, Cmd, From, Kind, Timeout) ->
    %% a port program that just died may be closed before its exit_status or 'EXIT' reaches us:
    %% the command is lost, and its caller gets browser_down with the others then
    _ = try port_command(Port, term_to_binary(list_to_tuple([Id | tuple_to_list(Cmd)])))
        catch error:badarg -> false
        end,
    %% the port answers at the deadline itself; this is the backstop for a stuck port
    TRef = erlang:send_after(Timeout + 1000, self(), {timeout, Id}),
    S#state{next_id = Id + 1, pending = P#{Id => {From, TRef, Kind}}}.

from_port({0, 0, Event}, S) ->
    logger:warning("live_load_protocol port: ~p", [Event]),
    S;
from_port({0, UserId, Events}, S = #state{users = Users, epoch = E}) when is_list(Events) ->
    %% a user's events leave the port in batches; the owner gets them one by one, as they came
    _ = case Users of
            #{UserId := {Owner, _}} ->
                User = #user{conn = self(), epoch = E, id = UserId},
                [Owner ! {live_load_event, User, Event} || Event <- Events];
            _ -> ok
        end,
    S;
from_port({Id, Status, Result}, S = #state{pending = P, late = Late}) ->
    case maps:take(Id, P) of
        {{From, TRef, Kind}, P2} ->
            _ = erlang:cancel_timer(TRef),
            {S2, Reply} = result(Kind, Status, Result, S#state{pending = P2}),
            reply(From, Reply),
            S2;
        error ->
            case {maps:take(Id, Late), Status, Result} of
                {{{new_user, _}, L2}, ok, #{<<"user">> := UserId}} ->
                    send(S#state{late = L2}, {close_user, UserId}, none, close, ?CLOSE_TIMEOUT);
                {{_, L2}, _, _} -> S#state{late = L2};
                {error, _, _} -> S
            end
    end.

result({new_user, Owner}, ok, #{<<"user">> := UserId}, S = #state{users = Users, monitors = Mons, epoch = E}) ->
    Mon = erlang:monitor(process, Owner),
    {S#state{users = Users#{UserId => {Owner, Mon}}, monitors = Mons#{Mon => UserId}},
     {ok, #user{conn = self(), epoch = E, id = UserId}}};
result({new_user, _}, error, Reason, S) ->
    {S, live_load_protocol_action:decode(new_user, {error, Reason})};
result(close, _, _, S) ->
    {S, ok};
result(_, ok, Result, S) ->
    {S, {ok, Result}};
result(_, error, Reason, S) ->
    {S, {error, Reason}}.

reply(none, _Reply) -> ok;
reply(From, Reply) -> gen_server:reply(From, Reply).

port_down(Status, S = #state{pending = P, users = Users, epoch = E, exits = Exits, opts = Opts}) ->
    logger:warning("live_load_protocol: port exited with status ~p, ~b users lost", [Status, map_size(Users)]),
    maps:foreach(fun(_Id, {From, TRef, _Kind}) -> _ = erlang:cancel_timer(TRef), reply(From, {error, browser_down}) end, P),
    maps:foreach(fun(Id, {Owner, Mon}) ->
                         erlang:demonitor(Mon, [flush]),
                         Owner ! {live_load_event, #user{conn = self(), epoch = E, id = Id},
                                  #{<<"type">> => <<"browser_down">>, <<"connection">> => <<"protocol">>}}
                 end, Users),
    Now = erlang:monotonic_time(millisecond),
    Recent = [T || T <- [Now | Exits], Now - T < 60000],
    S2 = S#state{port = undefined, pending = #{}, late = #{}, users = #{}, monitors = #{}, epoch = E + 1,
                 exits = Recent},
    case length(Recent) > maps:get(restart_limit, Opts) of
        true -> {stop, {browser_down, Status}, S2};
        false ->
            case open(Opts) of
                {ok, Port} -> {noreply, S2#state{port = Port}};
                {error, Reason} -> {stop, Reason, S2}
            end
    end.
