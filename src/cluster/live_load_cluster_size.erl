%% @doc Sizing: how many worker nodes a run uses and how many users each carries, and why.
%%
%% {@link size/3} is pure: it takes the cluster options, the number of users and the facts of
%% the nodes that can be used (cores and memory, read on each node by {@link facts/1}), and
%% returns a plan:
%% ```
%% #{nodes := [node()], users_per_node := #{node() => non_neg_integer()},
%%   capacity := #{node() => non_neg_integer()}, why := binary()}
%% '''
%% Rules, first match wins:
%% <ol>
%% <li>`users_per_node => K': `ceil(Users / K)' nodes, K users each (the last takes the rest);
%%     `{error, {cluster_too_small, #{needed, available}}}' when fewer nodes are available.</li>
%% <li>`nodes => N' (a count): exactly N nodes. With a `cost' (given, or measured by the
%%     cluster's calibration) the users are split in proportion to the nodes' capacity and `why'
%%     says how many nodes the cost alone would have used; without one, evenly. A count given is
%%     never silently overridden by a cost, nor a cost silently ignored.</li>
%% <li>`cost' given (or calibrated): from the cost of one user:
%%     a machine carries `min(cores * headroom * iteration_ms / cpu_ms_per_iteration,
%%     memory_mb * headroom / pss_mb_per_user)' users, shared by the nodes on that machine;
%%     nodes are used in order until their capacity covers the users, users split in
%%     proportion to capacity. When even all nodes fall short, all are used and `why' says by
%%     how much they are overloaded.</li>
%% <li>otherwise every node the provider gave (a `nodes' list, one per ssh host, one peer),
%%     users split evenly.</li>
%% </ol>
%% `capacity' is always computed from the cost (`cost', or
%% {@link live_load_cluster_opts:default_cost/0}), so every plan says when it overloads a node.
-module(live_load_cluster_size).

-export([size/3]).
-export([facts/1]).
-export([format_plan/1]).

-export_type([plan/0, node_facts/0]).

-type node_facts() :: #{node := node(), cores := pos_integer(), memory_mb := number(),
                        machine => binary()}.
-type plan() :: #{nodes := [node()], users_per_node := #{node() => non_neg_integer()},
                  capacity := #{node() => non_neg_integer()}, why := binary(),
                  formation_ms => non_neg_integer(), calibration => map()}.

%% @doc The plan for `Users' users on (a prefix of) the nodes described by `Facts'.
-spec size(map(), pos_integer(), [node_facts()]) -> {ok, plan()} | {error, term()}.
size(ClusterOpts, Users, Facts) when is_integer(Users), Users > 0, is_list(Facts), Facts =/= [] ->
    case live_load_cluster_opts:normalise(ClusterOpts) of
        {ok, Opts} ->
            case check_facts(Facts) of
                ok -> plan(Opts, Users, Facts, capacity(Opts, Facts));
                error -> {error, {invalid_option, node_facts, Facts}}
            end;
        {error, _} = E -> E
    end;
size(_ClusterOpts, Users, Facts) when is_integer(Users), Users > 0 ->
    {error, {invalid_option, node_facts, Facts}};
size(_ClusterOpts, Users, _Facts) ->
    {error, {invalid_option, users, Users}}.

check_facts(Facts) ->
    Ok = fun(#{node := N, cores := C, memory_mb := M}) ->
                 is_atom(N) andalso is_integer(C) andalso C > 0 andalso is_number(M) andalso M >= 0;
            (_) -> false
         end,
    case lists:all(Ok, Facts) of
        true -> ok;
        false -> error
    end.

plan(#{users_per_node := K}, Users, Facts, Cap) ->
    Needed = (Users + K - 1) div K,
    case Needed > length(Facts) of
        true -> {error, {cluster_too_small, #{needed => Needed, available => length(Facts)}}};
        false ->
            Nodes = [N || #{node := N} <- lists:sublist(Facts, Needed)],
            Split = [{N, min(K, Users - K * (I - 1))} || {I, N} <- enumerate(Nodes)],
            done(Split, Cap, fmt("users_per_node = ~b: ceil(~b / ~b) = ~b node(s)",
                                 [K, Users, K, Needed]))
    end;
plan(#{nodes := N} = Opts, Users, Facts, Cap) when is_integer(N) ->
    case N > length(Facts) of
        true -> {error, {cluster_too_small, #{needed => N, available => length(Facts)}}};
        false ->
            Nodes = [Node || #{node := Node} <- lists:sublist(Facts, N)],
            case Opts of
                #{cost := _} ->
                    Order = [{Node, maps:get(Node, Cap)} || Node <- Nodes],
                    Alone = case lists:sum([C || {_, C} <- Order]) >= Users of
                                true -> fmt("~b", [length(prefix(Order, Users))]);
                                false -> fmt("more than ~b", [N])
                            end,
                    done(split(Users, Order), Cap,
                         fmt("nodes = ~b given: ~b users split in proportion to capacity, from the "
                             "cost of one user (~ts); the cost alone would use ~ts node(s)",
                             [N, Users, cost_text(cost(Opts), maps:get(headroom, Opts)), Alone]));
                _ ->
                    done(split(Users, [{Node, 1} || Node <- Nodes]), Cap,
                         fmt("nodes = ~b given: ~b users split evenly", [N, Users]))
            end
    end;
plan(#{cost := _} = Opts, Users, Facts, Cap) ->
    Cost = cost(Opts),
    Order = [{N, maps:get(N, Cap)} || #{node := N} <- Facts],
    Total = lists:sum([C || {_, C} <- Order]),
    CostText = cost_text(Cost, maps:get(headroom, Opts)),
    case Total >= Users of
        true ->
            Used = prefix(Order, Users),
            done(split(Users, Used), Cap,
                 fmt("sized from the cost of one user (~ts): ~b of ~b node(s) carry ~b users",
                     [CostText, length(Used), length(Order), Users]));
        false ->
            done(split(Users, Order), Cap,
                 fmt("sized from the cost of one user (~ts): all ~b node(s) used, their capacity "
                     "~b is short of ~b users", [CostText, length(Order), Total, Users]))
    end;
plan(_Opts, Users, Facts, Cap) ->
    Nodes = [Node || #{node := Node} <- Facts],
    done(split(Users, [{Node, 1} || Node <- Nodes]), Cap,
         fmt("the ~b node(s) of the provider: ~b users split evenly", [length(Nodes), Users])).

done(Split, Cap, Why) ->
    Over = [{N, U, maps:get(N, Cap)} || {N, U} <- Split, U > maps:get(N, Cap)],
    Warn = case Over of
               [] -> <<>>;
               _ -> fmt("; over capacity: ~ts",
                        [lists:join(", ", [fmt("~ts ~b > ~b", [N, U, C]) || {N, U, C} <- Over])])
           end,
    {ok, #{nodes => [N || {N, _} <- Split], users_per_node => maps:from_list(Split),
           capacity => maps:with([N || {N, _} <- Split], Cap),
           why => <<Why/binary, Warn/binary>>}}.

%% Nodes, in order, until their capacity covers Users.
prefix(Order, Users) ->
    prefix(Order, Users, []).

prefix([], _, Acc) -> lists:reverse(Acc);
prefix(_, Left, Acc) when Left =< 0 -> lists:reverse(Acc);
prefix([{_, 0} | T], Left, Acc) -> prefix(T, Left, Acc);
prefix([{N, C} | T], Left, Acc) -> prefix(T, Left - C, [{N, C} | Acc]).

%% Users split in proportion to the weights (even split when every weight is 0); the
%% remainder goes one each to the nodes with the largest fractional shares.
split(Users, Weighted0) ->
    Weighted = case lists:sum([W || {_, W} <- Weighted0]) of
                   0 -> [{N, 1} || {N, _} <- Weighted0];
                   _ -> Weighted0
               end,
    Sum = lists:sum([W || {_, W} <- Weighted]),
    Base = [{N, Users * W div Sum, (Users * W) rem Sum} || {N, W} <- Weighted],
    Left = Users - lists:sum([B || {_, B, _} <- Base]),
    Ranked = lists:sort(fun({_, _, A}, {_, _, B}) -> A >= B end, Base),
    Extra = maps:from_list([{N, 1} || {N, _, _} <- lists:sublist(Ranked, Left)]),
    [{N, B + maps:get(N, Extra, 0)} || {N, B, _} <- Base].

%% Capacity per node: each machine's capacity shared by the nodes on it.
capacity(Opts, Facts) ->
    #{cpu_ms_per_iteration := CpuMs, iteration_ms := IterMs, pss_mb_per_user := Pss} = cost(Opts),
    Headroom = maps:get(headroom, Opts),
    Machines = lists:foldl(fun(F, Acc) ->
                                   maps:update_with(machine(F), fun(L) -> L ++ [F] end, [F], Acc)
                           end, #{}, Facts),
    maps:fold(
      fun(_, [#{cores := Cores, memory_mb := Mem} | _] = OnIt, Acc) ->
              ByCpu = floor(Cores * Headroom * IterMs / CpuMs),
              ByMem = floor(Mem * Headroom / Pss),
              Shares = split(max(0, min(ByCpu, ByMem)), [{N, 1} || #{node := N} <- OnIt]),
              maps:merge(Acc, maps:from_list(Shares))
      end, #{}, Machines).

machine(#{machine := M}) -> M;
machine(#{node := N}) -> lists:last(binary:split(atom_to_binary(N, utf8), <<"@">>)).

cost(#{cost := C}) -> C;
cost(_) -> live_load_cluster_opts:default_cost().

cost_text(#{cpu_ms_per_iteration := C, iteration_ms := I, pss_mb_per_user := M}, H) ->
    fmt("~ts CPU ms per ~ts ms iteration, ~ts MB PSS, headroom ~ts", [num(C), num(I), num(M), num(H)]).

num(N) when is_integer(N) -> integer_to_binary(N);
num(F) -> float_to_binary(F, [{decimals, 2}, compact]).

enumerate(L) -> lists:zip(lists:seq(1, length(L)), L).

fmt(F, A) -> unicode:characters_to_binary(io_lib:format(F, A)).

%% @doc Cores and memory of `Node', read on that node (`/proc/meminfo' MemAvailable where it
%% exists, else the emulator's total memory; the machine id from `/etc/machine-id', else the
%% host part of the node name). Needs no live_load code on the node.
-spec facts(node()) -> {ok, node_facts()} | {error, term()}.
facts(Node) ->
    try
        Cores = case erpc:call(Node, erlang, system_info, [logical_processors_available], 10000) of
                    N when is_integer(N) -> N;
                    unknown -> erpc:call(Node, erlang, system_info, [logical_processors], 10000)
                end,
        Mem = case erpc:call(Node, file, read_file, ["/proc/meminfo"], 10000) of
                  {ok, Info} -> meminfo(Info);
                  {error, _} -> erpc:call(Node, erlang, memory, [total], 10000) / 1048576
              end,
        Machine = case erpc:call(Node, file, read_file, ["/etc/machine-id"], 10000) of
                      {ok, Id} -> string:trim(Id);
                      {error, _} -> machine(#{node => Node})
                  end,
        {ok, #{node => Node, cores => max(1, Cores), memory_mb => Mem, machine => Machine}}
    catch
        Class:Reason -> {error, {node_facts, {Class, Reason}}}
    end.

meminfo(Info) ->
    Lines = binary:split(Info, <<"\n">>, [global]),
    case [L || <<"MemAvailable:", L/binary>> <- Lines] of
        [L | _] -> binary_to_integer(hd(string:lexemes(L, " kB"))) / 1024;
        [] -> 0
    end.

%% @doc The plan as the lines a run prints before it starts.
-spec format_plan(plan()) -> iodata().
format_plan(#{nodes := Nodes, users_per_node := Users, why := Why} = Plan) ->
    Cap = maps:get(capacity, Plan, #{}),
    Total = lists:sum(maps:values(Users)),
    Formed = case Plan of
                 #{formation_ms := Ms} -> io_lib:format(", formed in ~b ms", [Ms]);
                 _ -> ""
             end,
    [io_lib:format("cluster plan: ~b node(s), ~b users~ts~n  why: ~ts~n",
                   [length(Nodes), Total, Formed, Why]),
     io_lib:format("  ~-40ts ~7ts ~9ts~n", ["node", "users", "capacity"]),
     [io_lib:format("  ~-40ts ~7b ~9ts~n",
                    [atom_to_list(N), maps:get(N, Users),
                     case Cap of #{N := C} -> integer_to_list(C); _ -> "-" end])
      || N <- Nodes]].
