%% @doc Cluster provider `nodes': already-running nodes given by name
%% (`#{provider => nodes, nodes => [''w1@host'', ...]}').
%%
%% The nodes are connected (same cookie as the master), never started nor stopped; their
%% handles say `owned => false'. Code is pushed by default (the nodes need only Erlang/OTP);
%% `code => path' trusts the nodes to have live_load (and amoc) on their own code path.
-module(live_load_cluster_nodes).
-behaviour(live_load_cluster_provider).

-export([specs/2]).
-export([start_node/2]).
-export([stop_node/1]).
-export([default_code/0]).

%% @doc The given nodes, in order.
-spec specs(live_load_cluster:options(), pos_integer() | undefined) ->
          {ok, [live_load_cluster_provider:spec()]}.
specs(#{nodes := Nodes}, _Count) ->
    {ok, [#{node => N, index => I} || {I, N} <- lists:zip(lists:seq(1, length(Nodes)), Nodes)]}.

%% @doc Connect to the node; `{error, not_reachable}' when it does not answer.
-spec start_node(live_load_cluster_provider:spec(), live_load_cluster:options()) ->
          {ok, live_load_cluster_provider:handle()} | {error, not_reachable}.
start_node(#{node := Node} = Spec, _Opts) ->
    case net_kernel:connect_node(Node) of
        true -> {ok, #{node => Node, owned => false, spec => Spec}};
        _ -> {error, not_reachable}
    end.

%% @doc Never called for these nodes (not owned); does nothing.
-spec stop_node(live_load_cluster_provider:handle()) -> ok.
stop_node(_Handle) -> ok.

%% @doc `push': the nodes may not have live_load installed.
-spec default_code() -> push.
default_code() -> push.
