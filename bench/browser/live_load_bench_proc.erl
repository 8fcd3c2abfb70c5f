%% /proc readings for the browser benchmarks: CPU (utime + stime, plus reaped children's cutime +
%% cstime) of a process tree split by the role of each process (BEAM, port, node, Chromium's
%% browser / renderer / GPU / network service / other utility / zygote), PSS of the same tree, and
%% the whole machine's busy time so that what other processes took during a run is visible.
%% CPU in ms, memory in KiB.
-module(live_load_bench_proc).

-export([snapshot/2]).
-export([cpu_delta/2]).
-export([pss_tree/2]).
-export([pss_roles/2]).
-export([tree/2]).
-export([machine/0]).
-export([cpu_self/1]).
-export([roles/0]).

-define(HZ, 100).  % USER_HZ of /proc/<pid>/stat and /proc/stat

-type snapshot() :: #{at := integer(), cpu := #{atom() => float()}, busy := float(), total := float()}.
-export_type([snapshot/0]).

%% @doc The roles a process of the tree is counted under, in print order.
-spec roles() -> [atom()].
roles() -> [browser, renderer, gpu, network, utility, zygote, port, beam, node, other].

%% @doc CPU ms per role of the tree below `Roots' (without the `Exclude' subtrees), and the
%% machine's busy and total CPU ms (all cores) from /proc/stat.
-spec snapshot([integer()], [integer()]) -> snapshot().
snapshot(Roots, Exclude) ->
    Cpu = lists:foldl(fun(P, Acc) -> maps:update_with(role(P), fun(V) -> V + cpu_self(P) end, cpu_self(P), Acc) end,
                      #{}, tree(Roots, Exclude)),
    {Busy, Total} = machine_ms(),
    #{at => erlang:monotonic_time(millisecond), cpu => Cpu, busy => Busy, total => Total}.

%% @doc What happened between two snapshots: CPU ms per role and in all (`client'), wall ms, and
%% `other_pct': CPU taken by processes outside the tree (and outside `ExcludedMs', e.g. the demo
%% target's own CPU) as a share of the machine's capacity over the interval.
-spec cpu_delta(snapshot(), snapshot()) -> #{atom() => term()}.
cpu_delta(#{at := T0, cpu := C0, busy := B0, total := Tot0}, #{at := T1, cpu := C1, busy := B1, total := Tot1}) ->
    Roles = maps:from_list([{R, max(0.0, maps:get(R, C1, 0.0) - maps:get(R, C0, 0.0))} || R <- roles()]),
    Client = lists:sum(maps:values(Roles)),
    #{roles => Roles, client => Client, wall => T1 - T0, busy => B1 - B0, capacity => Tot1 - Tot0}.

%% @doc CPU ms of one process including its reaped children.
-spec cpu_self(integer()) -> float().
cpu_self(Pid) ->
    case stat(Pid) of
        {_PPid, Ticks} -> Ticks * 1000 / ?HZ;
        undefined -> 0.0
    end.

-spec pss_tree([integer()], [integer()]) -> integer().
pss_tree(Roots, Exclude) ->
    lists:sum([pss(P) || P <- tree(Roots, Exclude)]).

%% @doc PSS (KiB) of the tree by process role, and the number of renderer processes.
-spec pss_roles([integer()], [integer()]) -> #{atom() => integer()}.
pss_roles(Roots, Exclude) ->
    lists:foldl(fun(P, Acc) ->
                        R = role(P),
                        A1 = maps:update_with(R, fun(V) -> V + pss(P) end, pss(P), Acc),
                        case R of renderer -> maps:update_with(renderers, fun(V) -> V + 1 end, 1, A1); _ -> A1 end
                end, #{}, tree(Roots, Exclude)).

%% @doc The roots and all their descendants, without the excluded subtrees.
-spec tree([integer()], [integer()]) -> [integer()].
tree(Roots, Exclude) ->
    Parents = [{P, PP} || P <- pids(), {PP, _} <- [stat(P)]],
    grow(Roots -- Exclude, Parents, Exclude, []).

grow([], _Parents, _Ex, Acc) -> Acc;
grow([P | Rest], Parents, Ex, Acc) ->
    Kids = [C || {C, PP} <- Parents, PP =:= P, not lists:member(C, Ex)],
    grow(Kids ++ Rest, Parents, Ex, [P | Acc]).

%% @doc Cores, memory, CPU model and the load average: printed with every table.
-spec machine() -> map().
machine() ->
    {ok, Load} = file:read_file("/proc/loadavg"),
    [L1, L5, L15 | _] = string:lexemes(Load, " "),
    Model = case file:read_file("/proc/cpuinfo") of
                {ok, Info} ->
                    case re:run(Info, <<"model name\\s*:\\s*([^\\n]+)">>, [{capture, [1], binary}]) of
                        {match, [M]} -> M;
                        nomatch -> <<"unknown">>
                    end;
                _ -> <<"unknown">>
            end,
    Mem = case file:read_file("/proc/meminfo") of
              {ok, MI} ->
                  case re:run(MI, <<"MemTotal:\\s+(\\d+) kB">>, [{capture, [1], binary}]) of
                      {match, [K]} -> binary_to_integer(K) div 1024;
                      nomatch -> 0
                  end;
              _ -> 0
          end,
    #{cores => erlang:system_info(logical_processors_available), memory_mb => Mem, cpu => Model,
      loadavg => iolist_to_binary([L1, " ", L5, " ", L15])}.

%% ---------------------------------------------------------------- internals

pids() ->
    {ok, Names} = file:list_dir("/proc"),
    [list_to_integer(N) || N <- Names, N =/= [], lists:all(fun(C) -> C >= $0 andalso C =< $9 end, N)].

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

%% Chromium names its processes' roles on their command line (--type=...); the utility process
%% that runs the network service says so in --utility-sub-type.
role(Pid) ->
    case file:read_file("/proc/" ++ integer_to_list(Pid) ++ "/cmdline") of
        {ok, Cmd} ->
            Has = fun(S) -> binary:match(Cmd, S) =/= nomatch end,
            Exe = filename:basename(hd(binary:split(Cmd, <<0>>) ++ [<<>>])),
            if
                Exe =:= <<"live_load_browser">> -> port;
                Exe =:= <<"beam.smp">> -> beam;
                Exe =:= <<"node">> -> node;
                true ->
                    case Has(<<"--type=">>) of
                        false when Exe =:= <<"chromium">>; Exe =:= <<"chrome">>;
                                   Exe =:= <<"chromium-headless-shell">>; Exe =:= <<"chrome-headless-shell">> -> browser;
                        false -> other;
                        true ->
                            case {Has(<<"--type=renderer">>), Has(<<"--type=gpu-process">>),
                                  Has(<<"network.mojom.NetworkService">>), Has(<<"--type=utility">>),
                                  Has(<<"--type=zygote">>)} of
                                {true, _, _, _, _} -> renderer;
                                {_, true, _, _, _} -> gpu;
                                {_, _, true, _, _} -> network;
                                {_, _, _, true, _} -> utility;
                                {_, _, _, _, true} -> zygote;
                                _ -> other
                            end
                    end
            end;
        _ -> other
    end.

machine_ms() ->
    {ok, Bin} = file:read_file("/proc/stat"),
    [Cpu | _] = binary:split(Bin, <<"\n">>),
    [_ | Fields] = string:lexemes(Cpu, " "),
    Ns = [binary_to_integer(F) || F <- lists:sublist(Fields, 8)],
    [_User, _Nice, _Sys, Idle, IoWait | _] = Ns,
    Total = lists:sum(Ns),
    {(Total - Idle - IoWait) * 1000 / ?HZ, Total * 1000 / ?HZ}.

pss(Pid) ->
    case file:read_file("/proc/" ++ integer_to_list(Pid) ++ "/smaps_rollup") of
        {ok, Bin} ->
            case re:run(Bin, <<"\nPss:\\s+(\\d+) kB">>, [{capture, [1], binary}]) of
                {match, [K]} -> binary_to_integer(K);
                nomatch -> 0
            end;
        _ -> 0
    end.
