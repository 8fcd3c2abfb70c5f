%% `make bench-profile': where one iteration's time goes, one mode at a time, for USERS users
%% (default 1) of the benchmark journey (or SCENARIO).
%%
%% After WARMUP iterations (2) it runs ITERATIONS (5) more and prints, per iteration:
%% - client CPU by process role (Chromium's browser / renderer / GPU / network service / utility,
%%   the port, the BEAM) from /proc, and the BEAM's scheduler time by state (msacc);
%% - CDP messages by method and direction (the port's counters): deterministic, what to compare
%%   driver changes with on a noisy machine;
%% - wall time per context step (`step.duration' by step);
%% - with TRACE=1, Chromium's own trace (startup tracing, JSON) of the same iterations: the window
%%   is marked by navigations to `?live_load_profile=start' / `=end' and summarised by
%%   bench/browser/trace_summary.js (CPU per process role and thread, self time per slice).
%% Environment: MODE (faithful | fast), USERS, WARMUP, ITERATIONS, ARGS (extra Chromium flags,
%% space separated), TRACE, TRACE_CATEGORIES, BASE_URL / SERVER_PID as for bench-browser.
-module(live_load_profile).

-export([main/0]).

-define(CATEGORIES, "toplevel,devtools.timeline,v8,blink,cc,viz,loading,navigation,blink.user_timing,"
                    "disabled-by-default-devtools.timeline").

main() ->
    [Mode] = live_load_bench:modes_from("MODE", "faithful"),
    Users = list_to_integer(os:getenv("USERS", "1")),
    Warmup = list_to_integer(os:getenv("WARMUP", "2")),
    Its = list_to_integer(os:getenv("ITERATIONS", "5")),
    Args = live_load_bench:env_list("ARGS", ""),
    Trace = os:getenv("TRACE", "0") =:= "1",
    TraceFile = filename:absname(filename:join(["_build", "bench", "trace_" ++ atom_to_list(Mode) ++ ".json"])),
    _ = file:delete(TraceFile),
    {ok, _} = application:ensure_all_started(live_load),
    Target = live_load_bench:start_target(),
    #{url := Url} = Target,
    %% startup tracing covers the whole life of the browser: long enough for the run, then written
    TraceArgs = case Trace of
                    true -> ["--trace-startup=" ++ os:getenv("TRACE_CATEGORIES", ?CATEGORIES),
                             "--trace-startup-file=" ++ TraceFile, "--trace-startup-format=json",
                             "--trace-startup-duration=" ++ integer_to_list(trace_seconds(Users, Warmup, Its)),
                             "--trace-startup-record-mode=record-continuously"];
                    false -> []
                end,
    ok = live_load_browser_pool:configure(#{browser => #{args => Args ++ TraceArgs}}),
    Scenario = live_load_bench_journey,
    Config = live_load_bench_journey:config(#{base_url => Url}),
    M0 = live_load_bench_proc:machine(),
    io:format("bench-profile: ~s, ~b user(s), ~b warm-up + ~b iterations, flags ~p~s; load average ~s~n",
              [Mode, Users, Warmup, Its, Args, case Trace of true -> ", traced"; false -> "" end, maps:get(loadavg, M0)]),
    Self = self(),
    Pids = [spawn_link(fun() -> user(Self, I, Mode, Scenario, Config, Url, Warmup, Its) end) || I <- lists:seq(1, Users)],
    [receive {warm, P} -> ok end || P <- Pids],
    Beam = list_to_integer(os:getpid()),
    Ex = [P || P <- [maps:get(os_pid, Target, undefined)], P =/= undefined],
    Browsers = [B || {B, _} <- live_load_browser_pool:browsers()],
    live_load_metrics:reset(),
    Methods0 = methods(Browsers),
    msacc:start(),
    S0 = live_load_bench_proc:snapshot([Beam], Ex),
    [P ! go || P <- Pids],
    Durations = lists:append([receive {done, P, Ds} -> Ds end || P <- Pids]),
    S1 = live_load_bench_proc:snapshot([Beam], Ex),
    Msacc = msacc:stats(),
    msacc:stop(),
    Methods1 = methods(Browsers),
    N = length(Durations),
    #{roles := Roles, client := Client, wall := Wall} = live_load_bench_proc:cpu_delta(S0, S1),
    io:format("~n~b iterations in ~b ms; iteration ~s ms (p50); client CPU ~s ms/it~n",
              [N, Wall, live_load_bench:fmt(live_load_bench_run:quantile(lists:sort(Durations), 0.5)),
               live_load_bench:fmt(Client / max(1, N))]),
    [io:format("  ~-9s ~8s ms/it~n", [R, live_load_bench:fmt(V / max(1, N))]) || R <- live_load_bench_proc:roles(),
                                                                                  V <- [maps:get(R, Roles)], V > 0],
    beam_states(Msacc, N),
    Diff = maps:filter(fun(_, V) -> V > 0 end,
                       maps:map(fun(K, V) -> V - maps:get(K, Methods0, 0) end, Methods1)),
    Total = lists:sum(maps:values(Diff)),
    io:format("~nCDP messages: ~s per iteration~n", [live_load_bench:fmt(Total / max(1, N))]),
    [io:format("  ~8s  ~s~n", [live_load_bench:fmt(V / max(1, N)), K])
     || {K, V} <- lists:reverse(lists:keysort(2, maps:to_list(Diff)))],
    steps(N),
    [P ! stop || P <- Pids],
    [receive {closed, P} -> ok end || P <- Pids],
    case Trace of
        true -> trace_report(TraceFile, N);
        false -> ok
    end,
    ok = live_load_browser_pool:stop_browsers(),
    live_load_bench:stop_target(Target),
    halt(0).

user(Parent, Id, Mode, Mod, Config, Url, Warmup, Its) ->
    {ok, Ctx0} = live_load_context:new(#{mode => Mode, user_id => Id}),
    Ctx1 = repeat(Warmup, fun(C) -> element(1, iteration(Mod, C, Id, Config)) end, Ctx0),
    Ctx2 = mark(Ctx1, Url, Id, <<"start">>),
    Parent ! {warm, self()},
    receive go -> ok end,
    {Ctx3, Ds} = lists:foldl(fun(_, {C, Acc}) -> {C1, Ms} = iteration(Mod, C, Id, Config), {C1, [Ms | Acc]} end,
                             {Ctx2, []}, lists:seq(1, Its)),
    Parent ! {done, self(), Ds},
    Ctx4 = mark(Ctx3, Url, Id, <<"end">>),
    receive stop -> ok end,
    live_load_context:close(Ctx4),
    Parent ! {closed, self()}.

%% A navigation the trace summary finds: the bounds of the measured iterations (user 1's).
mark(Ctx, Url, 1, What) ->
    live_load_context:navigate(live_load_context:reset(Ctx), <<Url/binary, "/counter?live_load_profile=", What/binary>>);
mark(Ctx, _Url, _Id, _What) ->
    Ctx.

iteration(Mod, Ctx, Id, Config) ->
    T0 = erlang:monotonic_time(microsecond),
    C = Mod:run(live_load_context:reset(Ctx), Id, Config),
    case live_load_context:error(C) of
        undefined -> ok;
        E -> io:format("iteration failed: ~ts~n", [live_load_context:format_error(E)])
    end,
    {C, (erlang:monotonic_time(microsecond) - T0) / 1000}.

repeat(0, _F, X) -> X;
repeat(N, F, X) -> repeat(N - 1, F, F(X)).

trace_seconds(Users, Warmup, Its) ->
    15 + 3 * Users + 3 * (Warmup + Its + 2).

methods(Browsers) ->
    lists:foldl(fun(B, Acc) ->
                        case live_load_browser:stats(B) of
                            {ok, #{<<"methods">> := M}} ->
                                maps:fold(fun(K, V, A) -> maps:update_with(K, fun(X) -> X + V end, V, A) end, Acc, M);
                            _ -> Acc
                        end
                end, #{}, Browsers).

%% The BEAM's scheduler threads' time by state, summed over threads, per iteration.
beam_states(Stats, N) ->
    Sum = lists:foldl(fun(#{type := T, counters := C}, Acc) when T =:= scheduler; T =:= dirty_cpu_scheduler;
                                                                T =:= dirty_io_scheduler; T =:= poll; T =:= aux ->
                              maps:fold(fun(K, V, A) -> maps:update_with(K, fun(X) -> X + V end, V, A) end, Acc, C);
                         (_, Acc) -> Acc
                      end, #{}, Stats),
    Busy = [{K, V / 1000 / max(1, N)} || {K, V} <- maps:to_list(Sum), K =/= sleep],
    io:format("  BEAM threads by state (ms/it): ~s~n",
              [lists:join(", ", [io_lib:format("~s ~s", [K, live_load_bench:fmt(V)])
                                 || {K, V} <- lists:reverse(lists:keysort(2, Busy)), V >= 0.1])]).

steps(N) ->
    {ok, Collected} = live_load_collector:collect([node()]),
    Result = live_load_result:build(Collected, #{}),
    case Result of
        #{<<"metrics">> := #{<<"step.duration">> := #{<<"by">> := #{<<"step">> := BySteps}}}} ->
            io:format("~nwall ms per iteration by step (sum / count):~n"),
            [io:format("  ~8s  ~-32s ~b calls, p50 ~s ms~n",
                       [live_load_bench:fmt(Sum / max(1, N)), Step, Count, live_load_bench:fmt(lists:nth(51, Q))])
             || {Step, #{<<"sum">> := Sum, <<"count">> := Count, <<"quantiles">> := Q}}
                    <- lists:reverse(lists:keysort(2, [{K, V} || {K, V} <- maps:to_list(BySteps)]))];
        _ -> ok
    end.

%% The trace is written some seconds after its duration ends: wait until its size holds still.
trace_report(File, N) ->
    io:format("~nwaiting for the trace ~s ...~n", [File]),
    case wait_file(File, -1, 0, 120) of
        ok ->
            Script = filename:join([os:getenv("LIVE_LOAD_ROOT", "."), "bench", "browser", "trace_summary.js"]),
            io:format("~s", [os:cmd("node " ++ Script ++ " " ++ File ++ " " ++ integer_to_list(N) ++
                                     " 30 live_load_profile=start live_load_profile=end")]);
        timeout -> io:format("no trace written (Chromium's startup tracing did not finish in time)~n")
    end.

wait_file(_File, _Size, _Same, 0) -> timeout;
wait_file(File, Size, Same, Left) ->
    timer:sleep(1000),
    case filelib:file_size(File) of
        0 -> wait_file(File, 0, 0, Left - 1);
        Size when Same >= 2 -> ok;
        Size -> wait_file(File, Size, Same + 1, Left - 1);
        Other -> wait_file(File, Other, 0, Left - 1)
    end.
