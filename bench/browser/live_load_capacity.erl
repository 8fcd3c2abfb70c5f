%% `make bench-capacity': how many browser users this machine carries for a scenario, per mode.
%%
%% Capacity = the highest N at which the iteration time's p95 stays within 20 % of its value at
%% N = 1 (and fewer than 1 % of the iterations fail). Per mode: N = 1, then N doubles until the
%% criterion breaks (or MAX_N), then the gap between the last good and the first bad N is halved
%% until it is at most a quarter of the good N. Every run is a live_load_bench_run:live_load/1
%% (idle and active memory, CPU by process role, other load), DURATION s long.
%%
%% Environment: SCENARIO (an .erl file or a module on the code path; default the benchmark journey,
%% live_load_bench_journey), MODES ("faithful fast"), DURATION (30), MAX_N (64), BASE_URL /
%% SERVER_PID (as bench-browser; default the demo target in its own OS process), OUT (default
%% _build/bench/capacity.json). Besides the JSON it writes OUT with the extension .config: one
%% Erlang term `#{Mode => Cost}' where Cost is `#{cpu_ms_per_iteration, iteration_ms,
%% pss_mb_per_user, ...}' measured at the capacity N, the shape `cluster => #{cost => Cost}' takes
%% (src/cluster/live_load_cluster_cost.erl):
%%   {ok, [#{faithful := Cost}]} = file:consult("_build/bench/capacity.config").
-module(live_load_capacity).

-export([main/0]).

-define(P95_SLACK, 1.2).
-define(MAX_FAILED, 0.01).

main() ->
    Modes = live_load_bench:modes(),
    Duration = list_to_integer(os:getenv("DURATION", "30")),
    MaxN = list_to_integer(os:getenv("MAX_N", "64")),
    Out = os:getenv("OUT", "_build/bench/capacity.json"),
    {ok, _} = application:ensure_all_started(live_load),
    ok = live_load_bench:pool_env(),
    Scenario = scenario(os:getenv("SCENARIO", "")),
    Target = live_load_bench:start_target(),
    #{url := Url} = Target,
    Config = case erlang:function_exported(Scenario, config, 1) of
                 true -> Scenario:config(#{base_url => Url});
                 false -> #{base_url => Url}
             end,
    M0 = live_load_bench_proc:machine(),
    io:format("bench-capacity: ~s on ~s, modes ~w, ~b s per run, criterion: iteration p95 <= ~.1fx N=1's~n"
              "machine: ~b cores, ~b MB, ~s; load average ~s~n",
              [Scenario, Url, Modes, Duration, ?P95_SLACK, maps:get(cores, M0), maps:get(memory_mb, M0),
               maps:get(cpu, M0), maps:get(loadavg, M0)]),
    Run = fun(Mode, N) ->
                  R = live_load_bench_run:live_load(#{scenario => Scenario, config => Config, users => N, mode => Mode,
                                                      duration_s => Duration, url => Url,
                                                      server_pid => maps:get(os_pid, Target, undefined)}),
                  io:format("  ~s N=~-3b ~s it/s, iteration p95 ~s ms, ~b failed, CPU ~s ms/it, PSS ~s MB/user active, other load ~s%~n",
                            [Mode, N, live_load_bench:fmt(maps:get(its, R)), live_load_bench:fmt(element(2, maps:get(iteration_ms, R))),
                             maps:get(failed, R), live_load_bench:fmt(maps:get(cpu_ms_per_it, R)),
                             live_load_bench:fmt(maps:get(active_per_user_mb, R)), live_load_bench:fmt(maps:get(other_pct, R))]),
                  R
          end,
    PerMode = maps:from_list([{Mode, capacity(fun(N) -> Run(Mode, N) end, MaxN)} || Mode <- Modes]),
    live_load_bench:stop_target(Target),
    M1 = live_load_bench_proc:machine(),
    maps:foreach(fun(Mode, #{capacity := C, cost := Cost, p95_n1_ms := P}) ->
                         io:format("~s: capacity ~b users (N=1 p95 ~s ms); at that N: ~s CPU ms/iteration, ~s ms/iteration, ~s MB PSS/user~n",
                                   [Mode, C, live_load_bench:fmt(P), live_load_bench:fmt(maps:get(cpu_ms_per_iteration, Cost)),
                                    live_load_bench:fmt(maps:get(iteration_ms, Cost)), live_load_bench:fmt(maps:get(pss_mb_per_user, Cost))])
                 end, PerMode),
    io:format("load average at the end: ~s~n", [maps:get(loadavg, M1)]),
    ok = filelib:ensure_dir(Out),
    Json = #{format => <<"live_load.capacity/1">>, scenario => atom_to_binary(Scenario), url => Url,
             duration_s => Duration, machine => M0#{loadavg_end => maps:get(loadavg, M1)},
             criterion => #{p95_within => ?P95_SLACK, max_failed => ?MAX_FAILED},
             modes => maps:map(fun(_, V) -> maps:remove(runs, V) end, PerMode),
             runs => [json_run(Mode, R) || {Mode, #{runs := Rs}} <- maps:to_list(PerMode), R <- Rs]},
    ok = file:write_file(Out, live_load_json:encode(Json)),
    Config1 = filename:rootname(Out) ++ ".config",
    ok = file:write_file(Config1, io_lib:format("%% make bench-capacity, ~s, ~s: cost of one user per mode, at the capacity N~n~p.~n",
                                                [Scenario, Url, maps:map(fun(_, #{cost := C}) -> C end, PerMode)])),
    io:format("written: ~s, ~s~n", [Out, Config1]),
    halt(0).

scenario("") -> live_load_bench_journey;
scenario(S) ->
    case filename:extension(S) of
        ".erl" ->
            Include = filename:join(code:lib_dir(live_load), "include"),
            case compile:file(S, [binary, return_errors, {i, Include}]) of
                {ok, M, Bin} -> {module, M} = code:load_binary(M, S, Bin), M;
                {ok, M, Bin, _} -> {module, M} = code:load_binary(M, S, Bin), M;
                Err -> io:format("SCENARIO ~s does not compile: ~p~n", [S, Err]), halt(2)
            end;
        _ ->
            M = list_to_atom(S),
            case code:ensure_loaded(M) of
                {module, M} -> M;
                _ -> io:format("SCENARIO ~s: no such file or module~n", [S]), halt(2)
            end
    end.

%% Doubling, then halving the gap between the last good and the first bad N.
capacity(Run, MaxN) ->
    R1 = Run(1),
    P1 = element(2, maps:get(iteration_ms, R1)),
    Good = fun(R) -> good(R, P1) end,
    {Best, Runs} = case Good(R1) of
                       true ->
                           {B, Bad, Rs} = double(Run, Good, 1, MaxN, [R1]),
                           narrow(Run, Good, B, Bad, Rs);
                       false -> {0, [R1]}
                   end,
    BestRun = case [R || R = #{n := N} <- Runs, N =:= max(1, Best)] of [R | _] -> R; [] -> R1 end,
    #{capacity => Best, p95_n1_ms => P1,
      cost => cost(BestRun, R1, lists:last(lists:sort(fun(A, B) -> maps:get(n, A) =< maps:get(n, B) end, Runs))),
      pss_mb_per_idle_user => lists:max([0 | [V || #{idle_added_mb := V} <- Runs, is_number(V)]]),
      pss_mb_per_active_user => maps:get(active_per_user_mb, BestRun),
      runs => lists:sort(fun(A, B) -> maps:get(n, A) =< maps:get(n, B) end, Runs)}.

good(#{iterations := I, failed := F, iteration_ms := {_, P}}, P1) ->
    I > 0 andalso F =< ?MAX_FAILED * (I + F) andalso is_number(P) andalso is_number(P1) andalso P =< ?P95_SLACK * P1.

%% N was good: try 2N.
double(_Run, _Good, N, MaxN, Runs) when N * 2 > MaxN -> {N, none, Runs};
double(Run, Good, N, MaxN, Runs) ->
    R = Run(N * 2),
    case Good(R) of
        true -> double(Run, Good, N * 2, MaxN, [R | Runs]);
        false -> {N, N * 2, [R | Runs]}
    end.

narrow(_Run, _Good, Best, none, Runs) -> {Best, Runs};
narrow(_Run, _Good, Best, Bad, Runs) when Bad - Best =< 1; Bad - Best =< Best div 4 -> {Best, Runs};
narrow(Run, Good, Best, Bad, Runs) ->
    Mid = (Best + Bad) div 2,
    R = Run(Mid),
    case Good(R) of
        true -> narrow(Run, Good, Mid, Bad, [R | Runs]);
        false -> narrow(Run, Good, Best, Mid, [R | Runs])
    end.

%% The shape of live_load_cluster_cost:measure/2 (cluster sizing): CPU ms per iteration and wall ms
%% of one user's iteration at the capacity N; PSS per user = what the whole tree (browser processes,
%% port, BEAM) grew by per added active user between N = 1 and the largest N measured — a worker
%% node runs many users, so the fixed cost of a browser and a BEAM is not multiplied by them — or,
%% with a single run, the tree's PSS / N.
cost(#{n := N, iterations := I, wall_ms := W, cpu_ms_per_it := C, active_per_user_mb := M},
     #{n := 1, active_mb := A1}, #{n := Nmax, active_mb := Amax}) ->
    Pss = case Nmax > 1 andalso Amax > A1 of
              true -> (Amax - A1) / (Nmax - 1);
              false -> M
          end,
    #{cpu_ms_per_iteration => C, iteration_ms => W * N / max(1, I), pss_mb_per_user => Pss,
      iterations => I, cpu_ms => C * I, wall_ms => W}.

json_run(Mode, R) ->
    live_load_bench:json_row(R#{mode => Mode}).
