%% /proc readings for the browser benchmark: CPU (utime + stime, plus reaped children's cutime +
%% cstime) and PSS summed over a process tree, in ms and KiB.
-module(live_load_bench_proc).

-export([cpu_tree/2]).
-export([cpu_self/1]).
-export([pss_tree/2]).
-export([tree/2]).

-spec cpu_tree([integer()], [integer()]) -> float().
cpu_tree(Roots, Exclude) ->
    lists:sum([cpu_self(P) || P <- tree(Roots, Exclude)]).

%% @doc CPU ms of one process including its reaped children.
-spec cpu_self(integer()) -> float().
cpu_self(Pid) ->
    case stat(Pid) of
        {_PPid, Ticks} -> Ticks * 1000 / 100;
        undefined -> 0.0
    end.

-spec pss_tree([integer()], [integer()]) -> integer().
pss_tree(Roots, Exclude) ->
    lists:sum([pss(P) || P <- tree(Roots, Exclude)]).

%% @doc The roots and all their descendants, without the excluded subtrees.
-spec tree([integer()], [integer()]) -> [integer()].
tree(Roots, Exclude) ->
    Parents = [{P, PP} || P <- pids(), {PP, _} <- [stat(P)]],
    grow(Roots -- Exclude, Parents, Exclude, []).

grow([], _Parents, _Ex, Acc) -> Acc;
grow([P | Rest], Parents, Ex, Acc) ->
    Kids = [C || {C, PP} <- Parents, PP =:= P, not lists:member(C, Ex)],
    grow(Kids ++ Rest, Parents, Ex, [P | Acc]).

pids() ->
    {ok, Names} = file:list_dir("/proc"),
    [list_to_integer(N) || N <- Names, lists:all(fun(C) -> C >= $0 andalso C =< $9 end, N)].

stat(Pid) ->
    case file:read_file("/proc/" ++ integer_to_list(Pid) ++ "/stat") of
        {ok, Bin} ->
            %% the command name may hold spaces: fields start after the last ')'
            [_, After] = string:split(Bin, <<")">>, trailing),
            F = string:lexemes(After, " "),
            Int = fun(I) -> binary_to_integer(lists:nth(I, F)) end,
            %% After ") ": state(1) ppid(2) ... utime(12) stime(13) cutime(14) cstime(15)
            {Int(2), Int(12) + Int(13) + Int(14) + Int(15)};
        _ -> undefined
    end.

pss(Pid) ->
    case file:read_file("/proc/" ++ integer_to_list(Pid) ++ "/smaps_rollup") of
        {ok, Bin} ->
            case re:run(Bin, <<"\nPss:\\s+(\\d+) kB">>, [{capture, [1], binary}]) of
                {match, [K]} -> binary_to_integer(K);
                nomatch -> 0
            end;
        _ -> 0
    end.
