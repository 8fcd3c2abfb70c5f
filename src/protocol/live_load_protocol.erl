%% @doc The browserless LiveView connection backend (`connection => protocol').
%%
%% Implements the action-level connection seam (`live_load_connection', see guides/interfaces.md):
%% one backend process is one port program `priv/live_load_protocol' (owner
%% {@link live_load_protocol_port}) that serves thousands of simulated users in one event loop.
%% Each user GETs pages over HTTP, joins the LiveView over the Phoenix V2 WebSocket protocol, keeps
%% the rendered tree as the `phoenix_live_view' JS client does and runs the context's actions on the
%% HTML rendered from it. What only a browser can do answers
%% `{error, {unsupported_by_connection, protocol, Function}}' (table in guides/protocol.md).
%%
%% Events go to the user's owner as `{live_load_event, User, Event}' in the shapes the browser
%% backend uses (observer batches with `connect' / `event' / `navigation', `http', `ws'), each
%% carrying `<<"connection">> => <<"protocol">>'.
-module(live_load_protocol).
-behaviour(live_load_connection).

-export([start_link/1]).
-export([new_user/2]).
-export([new_user/1]).
-export([kind/0]).
-export([shared/0]).
-export([close_user/1]).
-export([user_count/1]).
-export([action/3]).
-export([stats/1]).
-export([os_pid/1]).

-export_type([user/0, action/0]).

-type user() :: live_load_protocol_port:user().
-type action() :: tuple() | atom().

%% @doc Starts one port program and its owner. Options: `max_users' (default 10000),
%% `port_program' (path, default priv/live_load_protocol), `restart_limit' (port exits per minute
%% before the owner stops, default 5), `max_diff' (largest WebSocket/HTTP message in bytes,
%% default 8 MiB), `max_depth' (rendered tree nesting, default 64), `heartbeat_ms' (how often each
%% open socket sends a Phoenix heartbeat, default 30000 as the JS client).
-spec start_link(map()) -> {ok, pid()} | {error, term()}.
start_link(Opts) ->
    live_load_protocol_port:start_link(Opts).

%% @doc Creates a user (no network traffic until its first `navigate'). `UserOpts': `owner'
%% (events go there, default the caller; the user is closed when it dies), `user_id', `mode'
%% (ignored: protocol users have one mode), `timeout' (ms for the creation, default 30000),
%% `base_url' (relative URLs of `navigate' resolve against it).
-spec new_user(pid(), map()) -> {ok, user()} | {error, term()}.
new_user(Conn, UserOpts) ->
    live_load_protocol_port:new_user(Conn, UserOpts).

%% @doc Creates a user on the node's shared port program (registered as `live_load_protocol',
%% started unlinked on first use): one port per node serves every protocol user of the node.
-spec new_user(map()) -> {ok, user()} | {error, term()}.
new_user(UserOpts) ->
    case shared() of
        {ok, Conn} -> new_user(Conn, UserOpts);
        {error, _} = E -> E
    end.

%% @doc The node's shared port owner, started on first use.
-spec shared() -> {ok, pid()} | {error, term()}.
shared() ->
    case whereis(?MODULE) of
        Pid when is_pid(Pid) -> {ok, Pid};
        undefined ->
            case live_load_protocol_port:start_shared(?MODULE, #{}) of
                {ok, Pid} -> {ok, Pid};
                {error, {already_started, Pid}} -> {ok, Pid};
                {error, _} = E -> E
            end
    end.

%% @doc This backend's connection kind (the `connection' dimension of its metrics).
-spec kind() -> protocol.
kind() -> protocol.

%% @doc Closes the user's socket and forgets its page. Always `ok'.
-spec close_user(user()) -> ok.
close_user(User) ->
    live_load_protocol_port:close_user(User).

%% @doc Number of live users on this port program.
-spec user_count(pid()) -> non_neg_integer().
user_count(Conn) ->
    live_load_protocol_port:user_count(Conn).

%% @doc Runs one context action for the user, answering by `Deadline'
%% (`erlang:monotonic_time(millisecond)'); `{error, timeout}' after it.
-spec action(user(), action(), integer()) -> {ok, term()} | ok | {error, term()}.
action(User, Action, Deadline) ->
    case live_load_protocol_action:encode(Action) of
        {ok, Cmd} ->
            Timeout = max(0, Deadline - erlang:monotonic_time(millisecond)),
            Reply = live_load_protocol_port:call(User, Cmd#{<<"timeout">> => Timeout}, Timeout),
            live_load_protocol_action:decode(Action, Reply);
        {error, _} = E ->
            E
    end.

%% @doc Counters of the port program (users, frames, bytes, dropped events, max RSS).
-spec stats(pid()) -> {ok, map()} | {error, term()}.
stats(Conn) ->
    live_load_protocol_port:stats(Conn).

%% @doc OS pid of the port program (benchmarks read its CPU and memory from /proc).
-spec os_pid(pid()) -> {ok, non_neg_integer()} | {error, browser_down}.
os_pid(Conn) ->
    live_load_protocol_port:os_pid(Conn).
