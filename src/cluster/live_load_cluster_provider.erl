%% @doc The behaviour of a cluster provider: how worker nodes come to exist (and go away).
%%
%% {@link live_load_cluster} asks a provider for the nodes a run needs ({@link specs/2}
%% callback), starts each of them ({@link start_node/2} callback, called in parallel, one
%% process per node) and, at teardown, stops every node whose handle says `owned => true'.
%% A provider never joins amoc and never loads code: {@link live_load_cluster} does both the
%% same way for every provider.
%%
%% Providers shipped with live_load:
%% <ul>
%% <li>`peer' ({@link live_load_cluster_peer}): local nodes through OTP `peer'; code by code
%%     path (the master's own path, same machine) unless `code => push'.</li>
%% <li>`ssh' ({@link live_load_cluster_ssh}): OTP `peer' started over `ssh' on the given hosts;
%%     code pushed from the master (a host needs only Erlang/OTP, not live_load).</li>
%% <li>`nodes' ({@link live_load_cluster_nodes}): already-running nodes given by name;
%%     connected, never started or stopped; code pushed unless `code => path'.</li>
%% </ul>
-module(live_load_cluster_provider).

-export_type([spec/0, handle/0]).

%% What to start: the node's full name and, for remote providers, the host to reach.
-type spec() :: #{node := node(), index := pos_integer(), host => string()}.
%% A started (or connected) node; `owned' nodes are stopped by the cluster's teardown.
-type handle() :: #{node := node(), owned := boolean(), peer => pid(), spec => spec()}.

%% The nodes to start for `Count' workers (`Count' is `undefined' when the options say it,
%% e.g. a `nodes' list or one node per ssh host).
-callback specs(Opts :: live_load_cluster:options(), Count :: pos_integer() | undefined) ->
    {ok, [spec()]} | {error, term()}.

%% Start (or connect to) one node; must return within the options' `boot_timeout'.
-callback start_node(spec(), Opts :: live_load_cluster:options()) ->
    {ok, handle()} | {error, term()}.

%% Stop a node this provider started (only called for `owned => true' handles).
-callback stop_node(handle()) -> ok.

%% How live_load's code reaches this provider's nodes unless the options say `code'.
-callback default_code() -> path | push.
