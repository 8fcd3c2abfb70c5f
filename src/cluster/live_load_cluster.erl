%% @doc The cluster a distributed run forms by itself: worker nodes started (or connected)
%% through a provider, live_load's code (and amoc's) put on them, joined to amoc with every
%% worker pointing at this node (the master), and torn down after the run.
%%
%% ```
%% {ok, C} = live_load_cluster:start(#{provider => peer, nodes => 2}, #{users => 16}),
%% io:put_chars(live_load_cluster:format_plan(live_load_cluster:plan(C))),
%% Nodes = live_load_cluster:nodes(C),     % the workers, ready for amoc_dist:do/3
%% ok = live_load_cluster:stop(C).
%% '''
%% Steps of {@link start/2}, each bounded, each failure naming the node:
%% <ol>
%% <li>options checked ({@link live_load_cluster_opts}); this node made distributed when it is
%%     not (epmd started, a `live_load_master_*' short name; undone by {@link stop/1});</li>
%% <li>nodes started or connected by the provider, in parallel, within `boot_timeout' each
%%     ({@link live_load_cluster_provider});</li>
%% <li>code: by code path (the provider passed the master's path) or pushed
%%     ({@link live_load_cluster_code}): `live_load', amoc's applications when the workers join
%%     amoc, and `elixir' when the run's `scenario' is an Elixir module; the `live_load'
%%     application started on each worker;</li>
%% <li>with the option `calibrate': the cost of one user measured on the first worker by the
%%     `calibrate' fun the caller gives (the engine runs the scenario there with a few users,
%%     {@link live_load_cluster_cost:calibrate/2}), and used as the `cost';</li>
%% <li>each node's cores and memory read, the plan made ({@link live_load_cluster_size}); nodes
%%     the plan does not use are stopped (when started here) or left alone (when given);</li>
%% <li>when amoc is on the master (option `amoc => auto', the default) or `amoc => true': amoc
%%     started on the master and on each worker with `AMOC_NODES' naming only the master
%%     ({@link live_load_cluster_amoc}), never several workers in the master's list (amoc
%%     4.1.0's worker-to-worker deadlock), waiting within `join_timeout' until the master and
%%     the worker see each other.</li>
%% </ol>
%% Any failure tears down what was started so far and returns
%% `{error, {cluster_failed, Node, Reason}}'. {@link stop/1} always tears down what
%% {@link start/2} started and never stops a node it was given (`provider => nodes').
-module(live_load_cluster).

-export([validate/1]).
-export([start/2]).
-export([nodes/1]).
-export([plan/1]).
-export([size/3]).
-export([format_plan/1]).
-export([stop/1]).

-export_type([options/0, cluster/0, plan/0]).

-type options() :: map().
-type plan() :: live_load_cluster_size:plan().
-type run() :: #{users := pos_integer(),
                 scenario => module(),
                 calibrate => fun((node(), #{users := pos_integer(), duration := pos_integer()}) ->
                                          {ok, live_load_cluster_cost:cost()} | {error, term()})}.
-opaque cluster() :: #{provider := module(),
                       opts := options(),
                       master := node(),
                       handles := [live_load_cluster_provider:handle()],
                       pushed := #{node() => file:filename()},
                       amoc_started := [node()],
                       started_dist := boolean(),
                       run := run(),
                       calibration := none | {node(), map()},
                       plan := plan()}.

%% @doc Check cluster options (see {@link live_load_cluster_opts} for the keys).
-spec validate(term()) -> ok | {error, {invalid_option, {cluster, term()}, term()}}.
validate(ClusterOpts) ->
    live_load_cluster_opts:validate(ClusterOpts).

%% @doc Form the cluster for `Users' users of `Scenario' (optional). See the module doc for
%% the steps. The option `calibrate' needs the `calibrate' fun: it measures the cost of one
%% user on the node it is given, with the calibration's `#{users, duration}'.
-spec start(options(), run()) ->
          {ok, cluster()} | {error, {cluster_failed, node(), term()}} | {error, term()}.
start(ClusterOpts, #{users := Users} = Run) when is_integer(Users), Users > 0 ->
    case live_load_cluster_opts:normalise(ClusterOpts) of
        {ok, #{calibrate := #{}}} when not is_map_key(calibrate, Run) ->
            {error, {invalid_option, {cluster, calibrate}, no_calibration_run}};
        {ok, Opts} -> form(Opts, Run);
        {error, _} = E -> E
    end;
start(_ClusterOpts, Run) ->
    {error, {invalid_option, users, maps:get(users, Run, undefined)}}.

%% @doc The worker nodes of the plan (the master is not one of them).
-spec nodes(cluster()) -> [node()].
nodes(#{plan := #{nodes := Nodes}}) -> Nodes.

%% @doc The plan: `#{nodes, users_per_node, capacity, why, formation_ms}'.
-spec plan(cluster()) -> plan().
plan(#{plan := Plan}) -> Plan.

%% @doc The pure sizing rule ({@link live_load_cluster_size:size/3}).
-spec size(options(), pos_integer(), [live_load_cluster_size:node_facts()]) ->
          {ok, plan()} | {error, term()}.
size(ClusterOpts, Users, NodeFacts) ->
    live_load_cluster_size:size(ClusterOpts, Users, NodeFacts).

%% @doc The plan as the lines a run prints before it starts.
-spec format_plan(plan()) -> iodata().
format_plan(Plan) ->
    live_load_cluster_size:format_plan(Plan).

%% @doc Tear down what {@link start/2} started: pushed code removed, amoc stopped where it
%% was started here, started nodes stopped (and waited for), distribution stopped if it was
%% started here. Nodes given by name stay up.
-spec stop(cluster()) -> ok.
stop(#{provider := Mod, handles := Handles, pushed := Pushed, amoc_started := AmocOn,
       started_dist := StartedDist}) ->
    Owned = [N || #{node := N, owned := true} <- Handles],
    _ = live_load_cluster_amoc:stop([N || N <- AmocOn, not lists:member(N, Owned)]),
    _ = [live_load_cluster_code:remove(N, Dir) || {N, Dir} <- maps:to_list(Pushed)],
    _ = pmap(fun(#{owned := true} = H) -> stop_node(Mod, H);
                (_) -> ok
             end, Handles, 30000),
    case StartedDist of
        true -> _ = net_kernel:stop(), ok;
        false -> ok
    end.

%%% Formation

form(Opts, #{users := Users} = Run) ->
    T0 = erlang:monotonic_time(millisecond),
    Mod = provider(maps:get(provider, Opts)),
    case distributed() of
        {ok, StartedDist} ->
            C0 = #{provider => Mod, opts => Opts, master => node(), handles => [], pushed => #{},
                   amoc_started => [], started_dist => StartedDist, run => Run, calibration => none,
                   plan => #{nodes => [], users_per_node => #{}, capacity => #{}, why => <<>>}},
            try steps(C0, Users) of
                {ok, C} ->
                    #{plan := Plan} = C,
                    Ms = erlang:monotonic_time(millisecond) - T0,
                    {ok, C#{plan := Plan#{formation_ms => Ms}}}
            catch
                throw:{cluster_failed, C, Node, Reason} ->
                    ok = stop(C),
                    {error, {cluster_failed, Node, Reason}}
            end;
        {error, Reason} ->
            {error, {cluster_failed, node(), {not_distributed, Reason}}}
    end.

steps(#{provider := Mod, opts := Opts} = C0, Users) ->
    {ok, Specs} = case Mod:specs(Opts, count(Opts, Users)) of
                      {ok, _} = Ok -> Ok;
                      {error, R} -> throw({cluster_failed, C0, node(), R})
                  end,
    C1 = guard(fun start_nodes/2, [C0, Specs], C0),
    C2 = guard(fun load_code/1, [C1], C1),
    C2b = guard(fun calibrate/1, [C2], C2),
    {Plan, C3} = guard(fun size_and_trim/2, [C2b, Users], C2b),
    C4 = guard(fun join_amoc/1, [C3#{plan := Plan}], C3),
    {ok, C4}.

%% A step that crashes still tears down what the steps before it started.
guard(Fun, Args, C) ->
    try apply(Fun, Args)
    catch
        throw:{cluster_failed, _, _, _} = Failed -> throw(Failed);
        Class:Reason -> throw({cluster_failed, C, node(), {crashed, Class, Reason}})
    end.

count(#{users_per_node := K}, Users) -> (Users + K - 1) div K;
count(#{nodes := N}, _) when is_integer(N) -> N;
count(_, _) -> undefined.

start_nodes(#{provider := Mod, opts := Opts} = C, Specs) ->
    Results = pmap(fun(Spec) -> Mod:start_node(Spec, Opts) end, Specs,
                   maps:get(boot_timeout, Opts) + 5000),
    Handles = [H || {ok, H} <- Results],
    C1 = C#{handles := Handles},
    case [{N, R} || {#{node := N}, {error, R}} <- lists:zip(Specs, Results)] of
        [] -> C1;
        [{Node, Reason} | _] -> throw({cluster_failed, C1, Node, Reason})
    end.

load_code(#{provider := Mod, opts := Opts, handles := Handles, run := Run} = C) ->
    Nodes = [N || #{node := N} <- Handles],
    Apps = apps(Opts, maps:get(scenario, Run, undefined)),
    How = maps:get(code, Opts, Mod:default_code()),
    Timeout = maps:get(join_timeout, Opts),
    Pushed = case How of
                 push ->
                     Rs = pmap(fun(N) -> live_load_cluster_code:push(N, Apps) end, Nodes, Timeout),
                     Ok = maps:from_list([{N, D} || {N, {ok, D}} <- lists:zip(Nodes, Rs)]),
                     case [{N, R} || {N, {error, R}} <- lists:zip(Nodes, Rs)] of
                         [] -> Ok;
                         [{Failed, Why} | _] -> throw({cluster_failed, C#{pushed := Ok}, Failed, Why})
                     end;
                 path -> #{}
             end,
    C1 = C#{pushed := Pushed},
    Started = pmap(fun(N) -> live_load_cluster_code:start_app(N) end, Nodes, Timeout),
    case [{N, R} || {N, {error, R}} <- lists:zip(Nodes, Started)] of
        [] -> C1;
        [{Node, R} | _] -> throw({cluster_failed, C1, Node, R})
    end.

%% The applications a worker needs: live_load, amoc with its dependencies when the workers
%% join amoc, and elixir when the scenario is an Elixir module (its code calls Elixir's
%% standard library, which no Erlang/OTP install has).
apps(Opts, Scenario) ->
    Amoc = case amoc(Opts) of
               true -> live_load_cluster_amoc:apps();
               false -> []
           end,
    [live_load | Amoc] ++ elixir(Scenario).

elixir(Scenario) when is_atom(Scenario), Scenario =/= undefined ->
    case lists:prefix("Elixir.", atom_to_list(Scenario)) of
        true -> [elixir];
        false -> []
    end;
elixir(_) -> [].

%% The `calibrate' option: the cost of one user measured on the first worker.
calibrate(#{opts := #{calibrate := #{} = Cal} = Opts, handles := [#{node := Node} | _],
            run := #{calibrate := Fun}} = C) ->
    case Fun(Node, Cal) of
        {ok, Cost} -> C#{opts := Opts#{cost => Cost}, calibration := {Node, Cost}};
        {error, Reason} -> throw({cluster_failed, C, Node, {calibration_failed, Reason}})
    end;
calibrate(C) ->
    C.

amoc(Opts) ->
    case maps:get(amoc, Opts) of
        auto -> live_load_cluster_amoc:available();
        Bool -> Bool
    end.

size_and_trim(#{provider := Mod, opts := Opts, handles := Handles} = C, Users) ->
    Nodes = [N || #{node := N} <- Handles],
    Facts = pmap(fun live_load_cluster_size:facts/1, Nodes, 30000),
    case [{N, R} || {N, {error, R}} <- lists:zip(Nodes, Facts)] of
        [] -> ok;
        [{Failed, Why} | _] -> throw({cluster_failed, C, Failed, Why})
    end,
    case live_load_cluster_size:size(maps:remove(calibrate, Opts), Users, [F || {ok, F} <- Facts]) of
        {ok, #{nodes := Used} = Plan0} ->
            Plan = explained(Plan0, C),
            {Keep, Drop} = lists:partition(fun(#{node := N}) -> lists:member(N, Used) end, Handles),
            _ = [stop_node(Mod, H) || #{owned := true} = H <- Drop],
            {Plan, C#{handles := Keep}};
        {error, R} ->
            throw({cluster_failed, C, node(), R})
    end.

%% What the pure rule cannot know: where a calibrated cost was measured, and that peer nodes
%% share one machine.
explained(#{why := Why} = Plan, #{calibration := {Node, Cost}, opts := #{calibrate := Cal}}) ->
    Text = io_lib:format("cost calibrated on ~ts (~b users for ~b ms: ~b iterations); ",
                         [Node, maps:get(users, Cal), maps:get(duration, Cal),
                          maps:get(iterations, Cost, 0)]),
    Plan#{why := iolist_to_binary([Text, Why]),
          calibration => maps:put(node, Node, maps:with([cpu_ms_per_iteration, iteration_ms,
                                                         pss_mb_per_user, iterations], Cost))};
explained(#{why := Why, nodes := [_]} = Plan, #{provider := live_load_cluster_peer, opts := Opts})
  when not is_map_key(nodes, Opts), not is_map_key(users_per_node, Opts) ->
    Plan#{why := <<Why/binary, "; peer nodes share this machine, so more of them would add no "
                   "capacity (give nodes => N for more BEAMs, or use ssh hosts)">>};
explained(Plan, _C) ->
    Plan.

join_amoc(#{opts := Opts, plan := #{nodes := Nodes}} = C) ->
    case amoc(Opts) of
        false -> C;
        true ->
            case live_load_cluster_amoc:join(Nodes, maps:get(join_timeout, Opts)) of
                {ok, StartedOn} -> C#{amoc_started := StartedOn};
                {error, StartedOn, Node, Reason} ->
                    throw({cluster_failed, C#{amoc_started := StartedOn}, Node, Reason})
            end
    end.

stop_node(Mod, #{node := Node} = H) ->
    erlang:monitor_node(Node, true),
    _ = (catch Mod:stop_node(H)),
    receive
        {nodedown, Node} -> ok
    after 15000 ->
            erlang:monitor_node(Node, false),
            ok
    end.

provider(peer) -> live_load_cluster_peer;
provider(ssh) -> live_load_cluster_ssh;
provider(nodes) -> live_load_cluster_nodes;
provider(Module) when is_atom(Module) -> Module.   %% checked by live_load_cluster_opts

%% A master must be distributed; start distribution (short names) when it is not.
distributed() ->
    case node() of
        nonode@nohost ->
            _ = os:cmd("epmd -daemon"),
            Name = list_to_atom("live_load_master_" ++ os:getpid()),
            start_distribution(Name, 20);
        _ -> {ok, false}
    end.

start_distribution(Name, Tries) ->
    case net_kernel:start([Name, shortnames]) of
        {ok, _} -> {ok, true};
        {error, _} when Tries > 1 -> timer:sleep(250), start_distribution(Name, Tries - 1);
        {error, Reason} -> {error, Reason}
    end.

%% Fun applied to every element in its own process; an element that does not finish within
%% Timeout gets {error, timeout}. Results in input order.
pmap(Fun, List, Timeout) ->
    Deadline = erlang:monotonic_time(millisecond) + Timeout,
    Self = self(),
    Refs = [spawn_monitor(fun() -> Self ! {pmap, self(), Fun(X)} end) || X <- List],
    [await(P, R, Deadline) || {P, R} <- Refs].

await(Pid, Ref, Deadline) ->
    Left = max(0, Deadline - erlang:monotonic_time(millisecond)),
    receive
        {pmap, Pid, Result} ->
            erlang:demonitor(Ref, [flush]),
            Result;
        {'DOWN', Ref, process, Pid, Crash} ->
            {error, {crashed, Crash}}
    after Left ->
            exit(Pid, kill),
            receive {'DOWN', Ref, process, Pid, _} -> ok end,
            %% it may have answered just before the kill
            receive {pmap, Pid, _} -> ok after 0 -> ok end,
            {error, timeout}
    end.
