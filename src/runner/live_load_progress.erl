%% @doc The live status line of a run, on stderr. It reads only metrics: the counters the user
%% loop records (`users.started', `users.done', `iterations') and the errors, on this node or,
%% for a distributed run, summed over the worker nodes.
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
-export([counts/0]).

-type args() :: #{scenario := module(), target := pos_integer(), started := integer(),
                  duration := pos_integer(), interval => pos_integer() | undefined,
                  nodes => [node()]}.
-type counts() :: #{active := integer(), users_failed := non_neg_integer(), iterations_ok := non_neg_integer(),
                    iterations_failed := non_neg_integer(), errors := #{binary() => non_neg_integer()}}.

-spec start(args()) -> pid().
start(Args) ->
    Tty = os:getenv("LIVE_LOAD_STDERR_TTY") =:= "1",
    Interval = case maps:get(interval, Args, undefined) of
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

%% @doc This node's counts, from its metrics.
-spec counts() -> counts().
counts() ->
    Sum = fun(Name) -> lists:sum([N || {_, N} <- live_load_metrics:counter_values(Name)]) end,
    Done = live_load_metrics:counter_values(<<"users.done">>),
    Its = maps:from_list([{R, N} || {#{<<"result">> := R}, N} <- live_load_metrics:counter_values(<<"iterations">>)]),
    %% a user whose context never came up ends (users.done) without having started
    #{active => max(0, Sum(<<"users.started">>) + Sum(<<"users.start_failed">>) - lists:sum([N || {_, N} <- Done])),
      users_failed => lists:sum([N || {#{<<"status">> := <<"failed">>}, N} <- Done]),
      iterations_ok => maps:get(<<"ok">>, Its, 0) + maps:get(<<"halted">>, Its, 0),
      iterations_failed => maps:get(<<"failed">>, Its, 0),
      errors => live_load_metrics:error_kinds()}.

sum_counts(Nodes) ->
    Answers = [C || {ok, C} <- erpc:multicall(Nodes, ?MODULE, counts, [], 2000)],
    lists:foldl(fun(C, Acc) ->
                        maps:merge_with(fun(errors, A, B) -> maps:merge_with(fun(_, X, Y) -> X + Y end, A, B);
                                           (_, A, B) -> A + B
                                        end, C, Acc)
                end, #{active => 0, users_failed => 0, iterations_ok => 0, iterations_failed => 0,
                       errors => #{}}, Answers).

%% @doc The status line at monotonic time `Now' (ms).
-spec line(args(), integer()) -> iodata().
line(#{scenario := Scenario, target := Target, started := Started, duration := Duration} = Args, Now) ->
    S = case maps:get(nodes, Args, [node()]) of
            [Node] when Node =:= node() -> counts();
            Nodes -> sum_counts(Nodes)
        end,
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
                   [maps:get(active, S), Target, maps:get(iterations_ok, S),
                    maps:get(iterations_failed, S)]),
     Event, Errors].

ms(V) when is_number(V) -> io_lib:format("~.1f ms", [float(V)]);
ms(_) -> "-".

clock(Ms) ->
    Sec = max(0, Ms) div 1000,
    io_lib:format("~b:~2..0b", [Sec div 60, Sec rem 60]).

now_ms() ->
    erlang:monotonic_time(millisecond).
