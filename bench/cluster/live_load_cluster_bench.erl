%% make bench-cluster: formation and teardown time of local `peer' clusters (default 1, 4, 16
%% and 32 worker nodes), with the code by path and pushed, joined to amoc when amoc is on the
%% code path (ERL_LIBS) of this node. Prints one Markdown table (figures for
%% guides/distributed.md) with the load average before and after: the machine is shared.
-module(live_load_cluster_bench).
-export([main/1]).

main(Sizes) ->
    {ok, _} = application:ensure_all_started(live_load),
    Amoc = live_load_cluster_amoc:available(),
    Load0 = load(),
    Rows = [row(N, Code, Amoc) || Code <- [path, push], N <- Sizes],
    io:format("~n| nodes | code | amoc | formation ms | teardown ms |~n|---:|---|---|---:|---:|~n"),
    [io:format("| ~b | ~s | ~s | ~b | ~b |~n", [N, Code, yes_no(A), F, T]) || {N, Code, A, F, T} <- Rows],
    io:format("~nmachine: ~b logical processors, load average ~ts before, ~ts after~n",
              [erlang:system_info(logical_processors_available), Load0, load()]),
    halt(0).

row(N, Code, Amoc) ->
    T0 = erlang:monotonic_time(millisecond),
    {ok, C} = live_load_cluster:start(#{provider => peer, nodes => N, code => Code, amoc => Amoc,
                                        boot_timeout => 120000, join_timeout => 120000},
                                      #{users => N}),
    T1 = erlang:monotonic_time(millisecond),
    N = length(live_load_cluster:nodes(C)),
    ok = live_load_cluster:stop(C),
    T2 = erlang:monotonic_time(millisecond),
    [] = nodes(),
    io:format("~b nodes, code ~s, amoc ~s: formed in ~b ms, torn down in ~b ms (load ~ts)~n",
              [N, Code, yes_no(Amoc), T1 - T0, T2 - T1, load()]),
    {N, Code, Amoc, T1 - T0, T2 - T1}.

load() ->
    string:trim(os:cmd("cut -d' ' -f1-3 /proc/loadavg")).

yes_no(true) -> "yes";
yes_no(false) -> "no".
