%% @doc The live status line of a run, on stderr.
%%
%% Refreshed about once per second when stderr is a terminal (rewriting one line) and once every
%% 10 s otherwise (one line each time). live_load cannot see whether stderr is a terminal from
%% inside the VM on OTP 25, so `bin/live_load' tells it with `LIVE_LOAD_STDERR_TTY=1'. The
%% `quiet' run option turns the line off; `progress_interval' (ms) overrides the period.
%%
%% `live_load_counter  0:12/1:00  users 8/8  iterations 40 ok, 1 failed  event p50 12.3 ms p95 30.1 ms  errors: navigation_error 1'
-module(live_load_progress).

-export([start/1]).
-export([stop/1]).
-export([line/2]).

-spec start(#{scenario := module(), stats := live_load_run_stats:stats(), started := integer(),
              duration := pos_integer(), interval := pos_integer() | undefined}) -> pid().
start(#{interval := Interval0} = Args) ->
    Tty = os:getenv("LIVE_LOAD_STDERR_TTY") =:= "1",
    Interval = case Interval0 of
                   undefined when Tty -> 1000;
                   undefined -> 10000;
                   I -> I
               end,
    spawn_link(fun() -> loop(Args, Tty, Interval) end).

%% @doc Prints the final line and stops the printer.
-spec stop(pid()) -> ok.
stop(Pid) ->
    Ref = monitor(process, Pid),
    Pid ! stop,
    receive {'DOWN', Ref, process, Pid, _} -> ok after 5000 -> exit(Pid, kill), ok end.

loop(Args, Tty, Interval) ->
    receive
        stop ->
            print(Args, Tty, true)
    after Interval ->
            print(Args, Tty, false),
            loop(Args, Tty, Interval)
    end.

print(Args, true, Final) ->
    io:put_chars(standard_error, ["\r\e[K", line(Args, now_ms()), [$\n || Final]]);
print(Args, false, _Final) ->
    io:put_chars(standard_error, [line(Args, now_ms()), $\n]).

%% @doc The status line at monotonic time `Now' (ms).
-spec line(map(), integer()) -> iodata().
line(#{scenario := Scenario, stats := Stats, started := Started, duration := Duration}, Now) ->
    S = live_load_run_stats:read(Stats),
    Event = case catch live_load_metrics:quick_stats(<<"liveview.event">>) of
                #{count := N, p50 := P50, p95 := P95} when N > 0 ->
                    io_lib:format("  event p50 ~s p95 ~s", [ms(P50), ms(P95)]);
                _ -> ""
            end,
    Errors = case lists:reverse(lists:keysort(2, maps:to_list(maps:get(errors, S)))) of
                 [] -> "";
                 Kinds -> ["  errors:" | [io_lib:format(" ~s ~b", [K, C]) || {K, C} <- lists:sublist(Kinds, 4)]]
             end,
    [atom_to_list(Scenario), "  ", clock(Now - Started), "/", clock(Duration),
     io_lib:format("  users ~b/~b  iterations ~b ok, ~b failed",
                   [maps:get(users_active, S), maps:get(users_target, S),
                    maps:get(iterations_ok, S) + maps:get(iterations_halted, S),
                    maps:get(iterations_failed, S)]),
     Event, Errors].

ms(V) when is_number(V) -> io_lib:format("~.1f ms", [float(V)]);
ms(_) -> "-".

clock(Ms) ->
    Sec = max(0, Ms) div 1000,
    io_lib:format("~b:~2..0b", [Sec div 60, Sec rem 60]).

now_ms() ->
    erlang:monotonic_time(millisecond).
