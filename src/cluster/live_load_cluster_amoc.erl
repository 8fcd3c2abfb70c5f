%% @doc Joining the workers to amoc without amoc 4.1.0's worker-to-worker deadlock.
%%
%% amoc 4.1.0's `amoc_cluster' pings every node it is told about with a blocking call; when two
%% workers learn of each other at the same moment they call each other and stall 5 s at a
%% time (`reference/amoc-4.1.md'). So the master's `AMOC_NODES' never lists workers, and the
%% workers join one at a time:
%% <ol>
%% <li>amoc started on the master, and on every worker in parallel with `AMOC_NODES' set to
%%     `[]' in the worker's environment (its amoc pings no one);</li>
%% <li>then for each worker in turn: on the worker, `amoc_cluster:ping(Master)' (the master
%%     lists the worker and tells it about the earlier workers) and
%%     `amoc_cluster:connect_nodes([Master])' (the worker lists the master); the worker pings
%%     the master and the earlier workers, none of which ever calls it; wait until the master
%%     lists the worker as connected, the worker lists the master, and the worker has no ping
%%     left to do.</li>
%% </ol>
%% A worker that does not get there within `join_timeout' fails the formation with
%% `{amoc_join_timeout, Ms, Status}' naming it. All amoc calls go through `erpc', so this
%% module compiles and loads without amoc.
-module(live_load_cluster_amoc).

-export([available/0]).
-export([apps/0]).
-export([join/2]).
-export([stop/1]).

-define(CALL_TIMEOUT, 30000).

%% @doc Whether amoc is on this node's code path.
-spec available() -> boolean().
available() ->
    code:which(amoc) =/= non_existing.

%% @doc amoc and the applications it needs that are not part of OTP (telemetry).
-spec apps() -> [atom()].
apps() ->
    _ = application:load(amoc),
    {ok, Deps} = application:get_key(amoc, applications),
    Otp = code:lib_dir(),
    [amoc | [A || A <- Deps, not lists:prefix(Otp, lib_dir(A))]].

lib_dir(App) ->
    case code:lib_dir(App) of
        {error, bad_name} -> "";
        Dir -> Dir
    end.

%% @doc Start amoc on the master and join `Workers' one at a time. Returns the nodes where
%% amoc was started here (to be stopped by {@link stop/1}).
-spec join([node()], pos_integer()) -> {ok, [node()]} | {error, [node()], node(), term()}.
join(Workers, Timeout) ->
    Master = node(),
    case start_amoc(Master, Timeout) of
        {ok, OnMaster} ->
            Started = [{W, start_amoc(W, Timeout)} || W <- Workers],
            On = OnMaster ++ [W || {W, {ok, [_]}} <- Started],
            case [{W, R} || {W, {error, R}} <- Started] of
                [{W, R} | _] -> {error, On, W, R};
                [] -> connect(Workers, Master, Timeout, On)
            end;
        {error, R} ->
            {error, [], Master, R}
    end.

%% {ok, [Node]} when amoc was started here, {ok, []} when it was already running.
start_amoc(Node, Timeout) ->
    try
        case Node =:= node() of
            true -> ok;
            false -> true = erpc:call(Node, os, putenv, ["AMOC_NODES", "[]"], Timeout)
        end,
        case erpc:call(Node, application, ensure_all_started, [amoc], Timeout) of
            {ok, Apps} ->
                {ok, [Node || lists:member(amoc, Apps)]};
            {error, Reason} ->
                {error, {amoc_start, Reason}}
        end
    catch
        error:{erpc, R} -> {error, {amoc_start, R}}
    end.

connect([], _Master, _Timeout, On) ->
    {ok, On};
connect([W | Rest], Master, Timeout, On) ->
    Deadline = erlang:monotonic_time(millisecond) + Timeout,
    try
        %% The ping makes the master list W now (instead of after W's 1 s retry timer) and
        %% tell W about the earlier workers; connect_nodes makes W list the master. W then
        %% pings the master and the earlier workers in one round, 1 s later.
        case erpc:call(W, amoc_cluster, ping, [Master], Timeout) of
            pong -> ok;
            pang -> throw({amoc_join, {master_not_answering, Master}})
        end,
        ok = erpc:call(W, amoc_cluster, connect_nodes, [[Master]], Timeout),
        case wait_joined(W, Master, Deadline) of
            ok -> connect(Rest, Master, Timeout, On);
            {timeout, Status} -> {error, On, W, {amoc_join_timeout, Timeout, Status}}
        end
    catch
        error:{erpc, R} -> {error, On, W, {amoc_join, R}};
        throw:Reason -> {error, On, W, Reason}
    end.

wait_joined(W, Master, Deadline) ->
    MasterStatus = status(Master, Deadline),
    WorkerStatus = status(W, Deadline),
    Joined = lists:member(W, maps:get(connected, MasterStatus, []))
        andalso lists:member(Master, maps:get(connected, WorkerStatus, []))
        andalso maps:get(to_ack, WorkerStatus, []) =:= [],
    case Joined of
        true -> ok;
        false ->
            case erlang:monotonic_time(millisecond) >= Deadline of
                true -> {timeout, #{master => summary(MasterStatus), worker => summary(WorkerStatus)}};
                false -> timer:sleep(50), wait_joined(W, Master, Deadline)
            end
    end.

%% A node's amoc_cluster status, #{} when it does not answer before the deadline (a busy or
%% stuck amoc_cluster is a worker that has not joined yet, not a crash of the formation).
status(Node, Deadline) ->
    Left = max(1, Deadline - erlang:monotonic_time(millisecond)),
    try erpc:call(Node, amoc_cluster, get_status, [], min(Left, ?CALL_TIMEOUT)) of
        #{} = Status -> Status;
        _ -> #{}
    catch
        _:_ -> #{unreachable => true}
    end.

summary(Status) ->
    maps:with([connected, to_ack, failed_to_connect, connection_lost, unreachable], Status).

%% @doc Stop the amoc application on `Nodes' (those {@link join/2} started it on).
-spec stop([node()]) -> ok.
stop(Nodes) ->
    _ = [catch erpc:call(N, application, stop, [amoc], ?CALL_TIMEOUT) || N <- Nodes],
    ok.
