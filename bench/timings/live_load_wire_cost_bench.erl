%% `make bench-wire-cost': what the network-side wire timing costs (guides/events.md, "Three
%% timings per event"). One browser with the port's tracing windows on and one with them off
%% (`wire_trace => false'), in alternation (ROUNDS, default 2), per mode (MODES, default
%% "faithful fast"): a user clicks #inc on the demo target's /counter (waiting for each patch) for
%% DURATION s (default 8). Per run it prints the clicks, the CPU per click of the port program and
%% of Chromium (all its processes; /proc), the port's CDP messages in and out per click and the
%% trace bytes per click (the port's stats: deterministic, unlike CPU on a shared machine), the
%% tracing windows, the port's max RSS and the Chromium processes' summed PSS at the end (tracing
%% adds Chromium's TracingService utility process: a cost per browser, not per user), and the load
%% average. TRACE_WINDOW_MS sets the window.
-module(live_load_wire_cost_bench).

-export([main/0]).

main() ->
    Modes = [list_to_atom(M) || M <- string:lexemes(os:getenv("MODES", "faithful fast"), " ")],
    Rounds = list_to_integer(os:getenv("ROUNDS", "2")),
    Duration = list_to_integer(os:getenv("DURATION", "8")),
    {ok, _} = application:ensure_all_started(live_load),
    _ = live_load_metrics_store:start(),
    {ok, #{url := Url}} = live_load_demo_target:start(#{port => 0}),
    io:format("bench-wire-cost: ~s, modes ~w, ~b rounds, ~b s per run, ~b cores; CPU in ms per click "
              "(clock ticks of /proc), msgs and bytes per click from the port's stats~n",
              [Url, Modes, Rounds, Duration, erlang:system_info(logical_processors_available)]),
    line(["mode", "trace", "clicks", "port cpu", "chromium cpu", "cdp in", "cdp out", "trace B", "windows",
          "port rss MB", "chromium pss MB", "load 1m"]),
    _ = [run(Mode, Trace, Duration, Url) || _ <- lists:seq(1, Rounds), Mode <- Modes, Trace <- [true, false]],
    halt(0).

run(Mode, Trace, Duration, Url) ->
    Opts = case os:getenv("TRACE_WINDOW_MS", "") of
               "" -> #{wire_trace => Trace};
               W -> #{wire_trace => Trace, trace_window_ms => list_to_integer(W)}
           end,
    {ok, B} = live_load_browser:start(Opts),
    {ok, Port} = live_load_browser:os_pid(B),
    L = live_load_context,
    {ok, C0} = L:new(#{browser => B, mode => Mode, timeout => 30000}),
    C1 = L:wait_for_liveview(L:navigate(C0, <<Url/binary, "/counter">>)),
    undefined = L:error(C1),
    C2 = click(C1, 3), % warm up
    {ok, S0} = live_load_browser:stats(B),
    Cpu0 = cpu(Port),
    Deadline = erlang:monotonic_time(millisecond) + Duration * 1000,
    {C3, K} = clicks(C2, Deadline, 0),
    {ok, S1} = live_load_browser:stats(B), % reads the last window out: its cost is counted
    Cpu1 = cpu(Port),
    Pss = chromium_pss(Port),
    L:close(C3),
    live_load_browser:stop(B),
    Per = fun(X) -> fmt(X / max(K, 1)) end,
    D = fun(Key) -> maps:get(Key, S1) - maps:get(Key, S0) end,
    Tick = 1000 / tick_hz(),
    line([atom_to_list(Mode), atom_to_list(Trace), integer_to_list(K),
          Per((element(1, Cpu1) - element(1, Cpu0)) * Tick), Per((element(2, Cpu1) - element(2, Cpu0)) * Tick),
          Per(D(<<"cdp_in">>)), Per(D(<<"cdp_out">>)), Per(D(<<"trace_bytes">>)),
          integer_to_list(D(<<"trace_windows">>)), fmt(maps:get(<<"max_rss_kb">>, S1) / 1024), fmt(Pss / 1024),
          fmt(load())]).

click(C, 0) -> C;
click(C, N) ->
    L = live_load_context,
    C1 = L:wait_for_phx_loading_completion(L:click(C, <<"#inc">>), click, <<"#inc">>),
    undefined = L:error(C1),
    click(C1, N - 1).

clicks(C, Deadline, K) ->
    case erlang:monotonic_time(millisecond) >= Deadline of
        true -> {C, K};
        false -> clicks(click(C, 1), Deadline, K + 1)
    end.

%% {port ticks, Chromium ticks}: the port program, and every process below it.
cpu(Port) ->
    Procs = procs(),
    {ticks(Port, Procs), lists:sum([ticks(P, Procs) || P <- descendants(Port, Procs)])}.

chromium_pss(Port) ->
    Procs = procs(),
    lists:sum([pss_kb(P) || P <- descendants(Port, Procs)]).

procs() ->
    {ok, Names} = file:list_dir("/proc"),
    lists:foldl(fun(N, Acc) ->
                        case string:to_integer(N) of
                            {Pid, ""} ->
                                case file:read_file("/proc/" ++ N ++ "/stat") of
                                    {ok, Bin} ->
                                        [_, After] = binary:split(Bin, <<") ">>),
                                        F = binary:split(After, <<" ">>, [global]),
                                        Acc#{Pid => {binary_to_integer(lists:nth(2, F)),
                                                     binary_to_integer(lists:nth(12, F)) +
                                                         binary_to_integer(lists:nth(13, F))}};
                                    _ -> Acc
                                end;
                            _ -> Acc
                        end
                end, #{}, Names).

ticks(Pid, Procs) ->
    case Procs of
        #{Pid := {_, T}} -> T;
        _ -> 0
    end.

descendants(Root, Procs) ->
    Kids = [P || {P, {Parent, _}} <- maps:to_list(Procs), Parent =:= Root],
    Kids ++ lists:append([descendants(K, Procs) || K <- Kids]).

pss_kb(Pid) ->
    case file:read_file("/proc/" ++ integer_to_list(Pid) ++ "/smaps_rollup") of
        {ok, B} ->
            case re:run(B, "^Pss:\\s+([0-9]+)", [multiline, {capture, [1], binary}]) of
                {match, [V]} -> binary_to_integer(V);
                nomatch -> 0
            end;
        _ -> 0
    end.

tick_hz() ->
    case string:to_integer(string:trim(os:cmd("getconf CLK_TCK"))) of
        {Hz, _} when is_integer(Hz), Hz > 0 -> Hz;
        _ -> 100
    end.

load() ->
    {ok, B} = file:read_file("/proc/loadavg"),
    binary_to_float(hd(binary:split(B, <<" ">>))).

line(Cols) ->
    Widths = [8, 5, 6, 8, 12, 6, 7, 7, 7, 11, 15, 0],
    io:format("~ts~n", [lists:join(" | ", [string:pad(C, W) || {C, W} <- lists:zip(Cols, Widths)])]).

fmt(X) -> io_lib:format("~.2f", [float(X)]).
