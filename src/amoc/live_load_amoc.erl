%% @doc The result of a live_load scenario run by amoc, on the amoc master:
%% ```
%% {ok, _} = amoc_dist:do(my_scenario, 1000, [{base_url, <<"http://10.0.0.5:4000">>}]),
%% {ok, Result} = live_load_amoc:await_result(my_scenario, timer:minutes(15)),
%% file:write_file("result.json", live_load_result:to_json(Result)).
%% '''
%% {@link await_result/2} pulls every worker's metrics each time bucket (5 s) while the users run
%% (`live_load_collector:start_pulling/2'), so a worker lost mid-run is reported `down' in
%% `nodes' with its data up to its last pull; it returns when no worker has a user running
%% (or is reachable), with the same `live_load.result/1' map the local engine returns: every
%% node's data merged, `nodes' listing each worker, `run.engine' = `amoc'. After `amoc:do/3'
%% on a single node it reads that node. `run.interrupted' is true when the run was stopped
%% (`amoc_dist:stop/0', or {@link await/2}'s stop).
-module(live_load_amoc).

-export([await_result/2]).
-export([await/2]).
-export([user_nodes/0]).

-define(POLL_MS, 250).
-define(CALL_MS, 5000).
-define(PULL_MS, 5000).   % live_load_metrics' default bucket_ms

%% @doc Waits up to `Timeout' ms for the users of `Scenario' to end and returns the result.
-spec await_result(module(), timeout()) -> {ok, live_load_result:result()} | {error, term()}.
await_result(Scenario, Timeout) ->
    await(Scenario, #{timeout => Timeout}).

%% @doc {@link await_result/2} with options: `timeout' (ms or `infinity'), `nodes' (default
%% {@link user_nodes/0}), `target' (users asked for; default the users that ran), `started'
%% (monotonic ms the run started; default now), `stop' (a fun the engine's interrupt calls:
%% `amoc:stop/0' or `amoc_dist:stop/0'), `interval_ms' (pull period, default 5000 ms: the
%% default time bucket of `live_load_metrics', which the nodes' runs use),
%% `progress' (a `live_load_progress' args map, or `undefined'), `thresholds' (parsed
%% `live_load_threshold' thresholds checked on the result).
%% While waiting, the calling process takes `{live_load_amoc, stop}' as an interrupt.
-spec await(module(), map()) -> {ok, live_load_result:result()} | {error, term()}.
await(Scenario, Opts) ->
    Nodes = maps:get(nodes, Opts, user_nodes()),
    Started = maps:get(started, Opts, erlang:monotonic_time(millisecond)),
    Info0 = node_info(Scenario, Nodes),
    RunId = maps:get(run_id, Info0, undefined),
    PullOpts = maps:merge(#{interval_ms => maps:get(interval_ms, Opts, ?PULL_MS)},
                          case RunId of undefined -> #{}; _ -> #{run_id => RunId} end),
    {ok, Puller} = live_load_collector:start_pulling(Nodes, PullOpts),
    Deadline = case maps:get(timeout, Opts, infinity) of
                   infinity -> infinity;
                   T -> erlang:monotonic_time(millisecond) + T
               end,
    Expected = maps:get(target, Opts, expected_users(Nodes)),
    Waited = wait(#{nodes => Nodes, deadline => Deadline, stop => maps:get(stop, Opts, undefined),
                    expected => Expected, zero_since => undefined}, false),
    {ok, Collected} = live_load_collector:stop_pulling(Puller),
    case Waited of
        timeout ->
            {error, timeout};
        {done, Interrupted} ->
            Counters = maps:get(counters, maps:get(merged, Collected)),
            Ran = lists:sum([N || {{C, _}, N} <- maps:to_list(Counters),
                                  C =:= <<"users.started">> orelse C =:= <<"users.start_failed">>]),
            live_load_run_result:build(
              Collected,
              #{scenario => Scenario, target => maps:get(target, Opts, Ran),
                duration_ms => erlang:monotonic_time(millisecond) - Started,
                mode => maps:get(mode, Info0, faithful), engine => amoc,
                interrupted => Interrupted orelse (Nodes =/= [node()] andalso stopped()),
                options => maps:get(options, Opts, maps:get(options, Info0, #{})),
                thresholds => maps:get(thresholds, Opts, [])})
    end.

%% @doc The nodes that run amoc users: the workers when this node is an amoc master with
%% workers, else this node.
-spec user_nodes() -> [node()].
user_nodes() ->
    Cluster = amoc_cluster,
    case catch Cluster:slave_nodes() of
        [_ | _] = Workers -> Workers;
        _ -> [node()]
    end.

%% Done when every user asked for has ended (amoc starts users after do/3 returns, and a user
%% waits for amoc's user_rate before it counts as running, so "no user running" alone comes too
%% early). A lost node's users never end: with a node down, the reachable ones being idle for
%% 5 s is enough; and users that vanished without ending (killed) end the wait after 60 s idle.
wait(#{nodes := Nodes, deadline := Deadline, stop := Stop} = W, Interrupted) ->
    Now = erlang:monotonic_time(millisecond),
    Statuses = [status(N) || N <- Nodes],
    Idle = lists:all(fun(S) -> S =/= running end, Statuses),
    ZeroSince = case Idle of
                    true when map_get(zero_since, W) =:= undefined -> Now;
                    true -> map_get(zero_since, W);
                    false -> undefined
                end,
    IdleFor = case Idle of true -> Now - ZeroSince; false -> 0 end,
    Done = Idle andalso (ended(Nodes) >= map_get(expected, W)
                         orelse (lists:member(down, Statuses) andalso IdleFor >= 5000)
                         orelse IdleFor >= 60000),
    if
        Done -> {done, Interrupted};
        Deadline =/= infinity, Now >= Deadline -> timeout;
        true ->
            receive
                {?MODULE, stop} when is_function(Stop, 0) ->
                    _ = Stop(),
                    %% stopped users end (counted `stopped'); those still waiting for their
                    %% start are removed by amoc and never count: expect only what started
                    wait(W#{zero_since => ZeroSince, expected => 0}, true)
            after ?POLL_MS ->
                    wait(W#{zero_since => ZeroSince}, Interrupted)
            end
    end.

ended(Nodes) ->
    lists:sum([N || {ok, L} <- erpc:multicall(Nodes, live_load_metrics, counter_values, [<<"users.done">>], ?CALL_MS),
                    {_, N} <- L]).

%% The users amoc was asked for: amoc_dist's last user id on a master, else this node's.
expected_users([Node]) when Node =:= node() ->
    Controller = amoc_controller,
    case catch Controller:get_status() of
        {running, #{highest_user_id := H}} -> H;
        _ -> 0
    end;
expected_users(_Workers) ->
    persistent_term:get({amoc_dist, last_id}, 0).

%% running | idle | down
status(Node) ->
    try erpc:call(Node, amoc_controller, get_status, [], ?CALL_MS) of
        {running, #{currently_running_users := 0}} -> idle;
        {running, _} -> running;
        {terminating, _} -> running;
        _ -> idle
    catch _:_ -> down
    end.

node_info(Scenario, Nodes) ->
    Infos = [I || {ok, I} <- erpc:multicall(Nodes, live_load_amoc_scenario, node_info, [Scenario], ?CALL_MS),
                  is_map(I)],
    case Infos of
        [I | _] -> I;
        [] -> #{}
    end.

stopped() ->
    Dist = amoc_dist,
    (catch Dist:get_state()) =:= stopped.
