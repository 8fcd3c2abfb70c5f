%% @doc Pulls every node's metrics (on the primary node), validates and merges them.
%%
%% `collect(Nodes)' asks all nodes at once for {@link live_load_metrics:snapshot/0} over
%% `erpc', checks each answer with {@link live_load_snapshot:decode/1} and merges the valid
%% ones in the DDSketch NIF. Each node's own data is kept for the per-node breakdown. A node
%% that is down, times out, crashes, answers garbage or another run's data (`run_id') is
%% reported with its reason and left out of the merge; the other nodes' data is still merged.
%%
%% During a run, {@link start_pulling/2} pulls every node periodically (each time bucket) and
%% {@link stop_pulling/1} makes the final pull: a node lost mid-run keeps everything up to
%% its last pull and is reported `down' with `down_at' (see {@link live_load_collector_pull}).
%%
%% Single node: `live_load_collector:collect([node()])'.
-module(live_load_collector).

-export([collect/1]).
-export([collect/2]).
-export([start_pulling/2]).
-export([stop_pulling/1]).
-export([node_result/3]).

-export_type([collected/0, node_result/0]).

%% `data' is the node's last valid snapshot (also for a node that went `down' or answered
%% badly later); `down_at' (ms since the epoch) when the node was lost; `pulls' the valid
%% snapshots taken from it.
-type node_result() :: #{node := node(),
                         status := ok | down | invalid,
                         data => live_load_snapshot:data(),
                         reason => term(),
                         down_at => integer(),
                         pulls => non_neg_integer()}.
-type collected() :: #{nodes := [node_result()], merged := live_load_snapshot:data()}.

-define(DEFAULT_TIMEOUT, 30000).

%% @doc Collect from `Nodes' with the default timeout (30 s per node, in parallel).
-spec collect([node()]) -> {ok, collected()} | {error, {invalid_option, atom(), term()}}.
collect(Nodes) ->
    collect(Nodes, #{}).

%% @doc Collect from `Nodes'. Options: `timeout' (ms, default 30000), `run_id' (only this
%% run's snapshots are taken; another run's are `invalid' with `{wrong_run, Id}').
-spec collect([node()], #{timeout => pos_integer(), run_id => live_load_metrics:run_id()}) ->
          {ok, collected()} | {error, {invalid_option, atom(), term()}}.
collect(Nodes, Opts) when is_map(Opts) ->
    case check(Nodes, Opts, [timeout, run_id]) of
        ok ->
            Unique = lists:usort(Nodes),
            Timeout = maps:get(timeout, Opts, ?DEFAULT_TIMEOUT),
            RunId = maps:get(run_id, Opts, any),
            Answers = erpc:multicall(Unique, live_load_metrics, snapshot, [], Timeout),
            Results = [node_result(N, A, RunId) || {N, A} <- lists:zip(Unique, Answers)],
            {ok, #{nodes => Results, merged => merge(Results)}};
        Error ->
            Error
    end;
collect(_Nodes, Opts) ->
    {error, {invalid_option, options, Opts}}.

%% @doc Pull `Nodes' every `interval_ms' (default 5000, a time bucket) until
%% {@link stop_pulling/1}. Options: `run_id' (only this run's snapshots), `interval_ms',
%% `timeout' (ms per pull, default 30000). The puller stops when the calling process exits.
-spec start_pulling([node()], #{run_id => live_load_metrics:run_id(), interval_ms => pos_integer(),
                                timeout => pos_integer()}) ->
          {ok, pid()} | {error, {invalid_option, atom(), term()}}.
start_pulling(Nodes, Opts) when is_map(Opts) ->
    case check(Nodes, Opts, [run_id, interval_ms, timeout]) of
        ok -> live_load_collector_pull:start(lists:usort(Nodes), Opts, self());
        Error -> Error
    end;
start_pulling(_Nodes, Opts) ->
    {error, {invalid_option, options, Opts}}.

%% @doc Final pull of every node still up, then everything collected, in the shape
%% {@link live_load_result:build/2} takes.
-spec stop_pulling(pid()) -> {ok, collected()}.
stop_pulling(Pid) ->
    live_load_collector_pull:stop(Pid).

check(Nodes, Opts, Allowed) ->
    case is_list(Nodes) andalso lists:all(fun is_atom/1, Nodes) of
        false -> {error, {invalid_option, nodes, Nodes}};
        true -> check_opts(maps:to_list(Opts), Allowed)
    end.

check_opts([], _) -> ok;
check_opts([{K, V} | T], Allowed) ->
    case lists:member(K, Allowed) andalso valid(K, V) of
        true -> check_opts(T, Allowed);
        false -> {error, {invalid_option, K, V}}
    end.

valid(run_id, V) -> is_binary(V) orelse is_integer(V);
valid(_, V) -> is_integer(V) andalso V > 0.

%% @doc One node's answer to a snapshot call as a node result (`RunId' = `any' takes any run).
%% @private
-spec node_result(node(), term(), live_load_metrics:run_id() | any) -> node_result().
node_result(Node, {ok, Snapshot}, RunId) ->
    case live_load_snapshot:decode(Snapshot) of
        {ok, #{node := Node} = Data} ->
            case RunId =:= any orelse maps:get(run_id, Data, undefined) =:= RunId of
                true -> #{node => Node, status => ok, data => Data};
                false -> #{node => Node, status => invalid,
                           reason => {wrong_run, maps:get(run_id, Data, undefined)}}
            end;
        {ok, #{node := Other}} -> #{node => Node, status => invalid, reason => {wrong_node, Other}};
        {error, Reason} -> #{node => Node, status => invalid, reason => Reason}
    end;
node_result(Node, {error, {erpc, Reason}}, _) when Reason =:= noconnection; Reason =:= timeout ->
    #{node => Node, status => down, reason => Reason};
node_result(Node, {Class, Reason}, _) ->
    %% The node answered, but snapshot/0 raised (e.g. metrics not started there).
    #{node => Node, status => invalid, reason => {Class, Reason}}.

merge(Results) ->
    live_load_snapshot:merge([D || #{data := D} <- Results]).
