%% @doc Pulls every node's metrics (on the primary node), validates and merges them.
%%
%% `collect(Nodes)' asks all nodes at once for {@link live_load_metrics:snapshot/0} over
%% `erpc', checks each answer with {@link live_load_snapshot:decode/1} and merges the valid
%% ones in the DDSketch NIF. Each node's own data is kept for the per-node breakdown. A node
%% that is down, times out, crashes or answers garbage is reported with its reason and left
%% out of the merge; the other nodes' data is still merged.
%%
%% Single node: `live_load_collector:collect([node()])'.
-module(live_load_collector).

-export([collect/1]).
-export([collect/2]).

-export_type([collected/0, node_result/0]).

-type node_result() :: #{node := node(),
                         status := ok | down | invalid,
                         data => live_load_snapshot:data(),
                         reason => term()}.
-type collected() :: #{nodes := [node_result()], merged := live_load_snapshot:data()}.

-define(DEFAULT_TIMEOUT, 30000).

%% @doc Collect from `Nodes' with the default timeout (30 s per node, in parallel).
-spec collect([node()]) -> {ok, collected()} | {error, {invalid_option, atom(), term()}}.
collect(Nodes) ->
    collect(Nodes, #{}).

%% @doc Collect from `Nodes'. Options: `timeout' (ms, default 30000).
-spec collect([node()], #{timeout => pos_integer()}) ->
          {ok, collected()} | {error, {invalid_option, atom(), term()}}.
collect(Nodes, Opts) when is_map(Opts) ->
    case check(Nodes, Opts) of
        {ok, Timeout} ->
            Unique = lists:usort(Nodes),
            Answers = erpc:multicall(Unique, live_load_metrics, snapshot, [], Timeout),
            Results = lists:zipwith(fun node_result/2, Unique, Answers),
            Merged = live_load_snapshot:merge([D || #{status := ok, data := D} <- Results]),
            {ok, #{nodes => Results, merged => Merged}};
        Error ->
            Error
    end;
collect(_Nodes, Opts) ->
    {error, {invalid_option, options, Opts}}.

check(Nodes, Opts) ->
    case {is_list(Nodes) andalso lists:all(fun is_atom/1, Nodes), maps:to_list(Opts)} of
        {false, _} -> {error, {invalid_option, nodes, Nodes}};
        {true, []} -> {ok, ?DEFAULT_TIMEOUT};
        {true, [{timeout, T}]} when is_integer(T), T > 0 -> {ok, T};
        {true, [{K, V} | _]} -> {error, {invalid_option, K, V}}
    end.

node_result(Node, {ok, Snapshot}) ->
    case live_load_snapshot:decode(Snapshot) of
        {ok, #{node := Node} = Data} -> #{node => Node, status => ok, data => Data};
        {ok, #{node := Other}} -> #{node => Node, status => invalid, reason => {wrong_node, Other}};
        {error, Reason} -> #{node => Node, status => invalid, reason => Reason}
    end;
node_result(Node, {error, {erpc, Reason}}) when Reason =:= noconnection; Reason =:= timeout ->
    #{node => Node, status => down, reason => Reason};
node_result(Node, {Class, Reason}) ->
    %% The node answered, but snapshot/0 raised (e.g. metrics not started there).
    #{node => Node, status => invalid, reason => {Class, Reason}}.
