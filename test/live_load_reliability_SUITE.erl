%% Rows of the `make reliability' table (guides/reliability.md) owned by the run/CLI/target area:
%% the target down and back, the target misbehaving (500, hang, closed WebSocket, slow), a
%% LiveView crash loop, a soak, bad input of every kind, and PropEr-driven fuzzing of the result
%% JSON decoder and the CLI's argument parser. Real parts throughout: real Chromium through the
%% port program, the demo target in its own OS process (live_load_reliability_target).
%%
%% Under `make reliability' (LIVE_LOAD_RELIABILITY=1) the soak runs 20 users for SOAK_MIN
%% (default 30) minutes and each fuzzer FUZZ_MIN (default 10) minutes; otherwise (make test, a
%% plain `rebar3 ct') the same cases run in a short smoke form (soak 1 min with 2 users, fuzzers
%% 10 s). Every case appends its row with the numbers it saw (live_load_reliability_rows).
-module(live_load_reliability_SUITE).
-include_lib("common_test/include/ct.hrl").
-include_lib("eunit/include/eunit.hrl").
-compile([export_all, nowarn_export_all]).

-define(S, live_load_reliability_scenario).

all() ->
    [fuzz_result_json, fuzz_cli_args, fuzz_corpus_replays, bad_input_options, bad_input_cli,
     bad_input_scenarios, bad_input_selectors, hostile_pages, target_down_then_back, target_faults,
     liveview_crash_loop, soak, reports_hold_no_secrets].

suite() ->
    Soak = soak_minutes(),
    Fuzz = fuzz_minutes(),
    [{timetrap, {seconds, round(60 * (Soak + 2 * Fuzz) + 1800)}}].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(live_load),
    Root = live_load_reliability_rows:root(),
    {ok, M, Bin} = compile:file(filename:join([Root, "scenarios", "live_load_counter_scenario.erl"]),
                                [binary, debug_info, report]),
    {module, M} = code:load_binary(M, "live_load_counter_scenario.erl", Bin),
    [{root, Root}, {chromium, os:find_executable("chromium") =/= false} | Config].

end_per_suite(_Config) ->
    ok.

init_per_testcase(Case, Config) ->
    Browser = [target_down_then_back, target_faults, liveview_crash_loop, soak, bad_input_selectors,
               hostile_pages],
    case lists:member(Case, Browser) andalso not ?config(chromium, Config) of
        true -> {skip, "chromium is not installed (make setup)"};
        false -> Config
    end.

end_per_testcase(_Case, _Config) ->
    ok.

%% a step's bound on a hostile page (the smoke keeps make test short)
hostile_step_ms() ->
    case live_load_reliability_rows:full() of true -> 10000; false -> 8000 end.

soak_minutes() ->
    case live_load_reliability_rows:full() of
        true -> live_load_reliability_rows:minutes("SOAK_MIN", 30);
        false -> 0.25
    end.

fuzz_minutes() ->
    case live_load_reliability_rows:full() of
        true -> live_load_reliability_rows:minutes("FUZZ_MIN", 10);
        false -> 5 / 60
    end.

row(Row, Pass, Fmt, Args) ->
    live_load_reliability_rows:append(Row, Pass, Fmt, Args).

%% --- the target down, then back ------------------------------------------------------------

target_down_then_back() ->
    [{doc, "The target (its own OS process) is killed once both users have had an ok iteration, one second before a 5 s bucket of the time series starts, and restarted 10 s later (the smoke: 7 s) on the same port; the run is stopped once two more iterations were ok: iterations fail with navigation_error during the gap, succeed before and after, and the time series shows the gap (the bucket wholly inside it has no LiveView event, the buckets before the kill and after the restart have some)."}].
target_down_then_back(_Config) ->
    %% the timeline follows the run, not the wall clock: a loaded box starts browsers late
    GapMs = case live_load_reliability_rows:full() of true -> 10000; false -> 7000 end,
    {ok, T} = live_load_reliability_target:start(0),
    Url = live_load_reliability_target:url(T),
    Port = uri_port(Url),
    Self = self(),
    Launched = erlang:system_time(millisecond),
    Runner = spawn_link(fun() ->
                                Self ! {result, live_load:run(#{scenario => ?S, users => 2, script => counter(Url, 3, 3000),
                                                                scenario_duration => 600000, iteration_timeout => 20000,
                                                                base_url => Url, quiet => true})}
                        end),
    %% this run's metrics, not the last case's
    ok = wait_until(fun() -> maps:get(started_at_ms, live_load_metrics:snapshot()) >= Launched end, 60000),
    ok = wait_ok_iterations(2, 180000),
    #{started_at_ms := Started, bucket_ms := B} = live_load_metrics:snapshot(),
    Rel = fun() -> erlang:system_time(millisecond) - Started end,
    %% kill 1 s before the next bucket that starts at least 1.5 s from now
    Bound = ((Rel() + 1500 + B - 1) div B) * B,
    timer:sleep(max(0, Bound - 1000 - Rel())),
    %% down from the signal on (the kill waits until the process is gone)
    Down = Rel(),
    ok = live_load_reliability_target:kill(T),
    timer:sleep(max(0, Down + GapMs - Rel())),
    {ok, T2} = live_load_reliability_target:start(Port),
    Up = Rel(),
    #{iterations_ok := OkAtUp} = live_load_progress:counts(),
    ok = wait_ok_iterations(OkAtUp + 2, 120000),
    ok = live_load:stop(),
    R = receive {result, #{?S := Res}} -> Res after 180000 -> exit(Runner, kill), ct:fail(no_result) end,
    ok = live_load_reliability_target:stop(T2),
    #{<<"run">> := #{<<"iterations">> := #{<<"ok">> := Ok, <<"failed">> := Failed}}, <<"errors">> := Errors,
      <<"time_series">> := #{<<"buckets">> := Buckets}} = R,
    Events = [{T1, bucket_count(Bk, <<"liveview.event">>)} || #{<<"t_ms">> := T1} = Bk <- Buckets],
    Kinds = kinds(Errors),
    %% buckets starting before the kill (nothing can happen in their part after it), wholly inside
    %% the gap (an event in flight at the kill may still land in its first half second), ending
    %% after the restart (likewise)
    Before = [C || {T1, C} <- Events, T1 < Down],
    Gap = [C || {T1, C} <- Events, T1 >= Down + 500, T1 + B =< Up],
    After = [C || {T1, C} <- Events, T1 + B > Up],
    ct:pal("down at ~b ms, up at ~b ms; ~b ok / ~b failed; liveview.event per ~b ms bucket ~p; errors ~p",
           [Down, Up, Ok, Failed, B, Events, Kinds]),
    Pass = lists:sum(Before) > 0 andalso Gap =/= [] andalso lists:sum(Gap) =:= 0
        andalso lists:sum(After) > 0 andalso Failed > 0 andalso proplists:is_defined(<<"navigation_error">>, Kinds),
    row(io_lib:format("target down for ~b s in the middle, then back", [GapMs div 1000]), Pass,
        "down ~.1f-~.1f s into the run; ~b ok, ~b failed iterations; liveview.event per ~b s bucket ~w "
        "(wholly in the gap: ~w); errors ~ts",
        [Down / 1000, Up / 1000, Ok, Failed, B div 1000, [C || {_, C} <- Events], Gap,
         lists:join(", ", [io_lib:format("~ts x~b", [K, N]) || {K, N} <- Kinds])]),
    ?assert(Pass).

wait_until(F, Ms) ->
    Deadline = erlang:monotonic_time(millisecond) + Ms,
    wait_until_deadline(F, Deadline).

wait_until_deadline(F, Deadline) ->
    case catch F() of
        true -> ok;
        _ ->
            case erlang:monotonic_time(millisecond) > Deadline of
                true -> timeout;
                false -> timer:sleep(50), wait_until_deadline(F, Deadline)
            end
    end.

%% waits until this node counts N ok iterations
wait_ok_iterations(N, Ms) ->
    Deadline = erlang:monotonic_time(millisecond) + Ms,
    wait_ok_iterations_until(N, Deadline).

wait_ok_iterations_until(N, Deadline) ->
    case live_load_progress:counts() of
        #{iterations_ok := Ok} when Ok >= N -> ok;
        _ ->
            case erlang:monotonic_time(millisecond) > Deadline of
                true -> {timeout, N, live_load_progress:counts()};
                false -> timer:sleep(100), wait_ok_iterations_until(N, Deadline)
            end
    end.

uri_port(Url) ->
    #{port := P} = uri_string:parse(Url),
    P.

bucket_count(#{<<"metrics">> := M}, Name) ->
    case M of #{Name := #{<<"count">> := C}} -> C; _ -> 0 end.

%% [{Kind, Count}] summed over the error entries of each kind
kinds(Errors) ->
    maps:to_list(lists:foldl(fun(#{<<"kind">> := K, <<"count">> := N}, Acc) -> maps:update_with(K, fun(X) -> X + N end, N, Acc) end,
                             #{}, Errors)).

messages(Errors) ->
    [{K, M} || #{<<"kind">> := K, <<"message">> := M} <- Errors].

%% --- the target misbehaving ----------------------------------------------------------------

target_faults() ->
    [{doc, "The target answers 500, hangs, closes every WebSocket, or takes 2 s per event (steps bounded by 3 s, 5 clicks; 2 users): each gives its own error, every iteration ends within iteration_timeout (8 s) and the 20 s run (long enough for browsers a loaded box starts late) ends on time. The smoke: 3 clicks, a 5 s iteration timeout, one user that stops after its first (failing) iteration (on_failure stop_user), so a loaded box that starts browsers late still sees every fault."}].
target_faults(_Config) ->
    {ok, T} = live_load_reliability_target:start(0),
    Url = live_load_reliability_target:url(T),
    Faults = [{http_500, [{fault, http_500}]}, {hang, [{fault, hang}]},
              {close_websocket, [{fault, close_websocket}]}, {slow, [{fault, none}, {latency_ms, 2000}]}],
    %% the clicks at 2 s each outlast the iteration timeout
    Full = live_load_reliability_rows:full(),
    {Timeout, Duration, Clicks, OnFailure, Users} = case Full of
                                                        true -> {8000, 20000, 5, continue, 2};
                                                        false -> {5000, 60000, 3, stop_user, 1}
                                                    end,
    Seen = [begin
                [ok = live_load_reliability_target:set(T, K, V) || {K, V} <- Knobs],
                T0 = erlang:monotonic_time(millisecond),
                %% steps time out after 3 s
                #{?S := R} =
                    live_load:run(#{scenario => ?S, users => Users, script => counter(Url, Clicks, 3000),
                                    scenario_duration => Duration, iteration_timeout => Timeout, on_failure => OnFailure,
                                    base_url => Url, quiet => true}),
                Took = erlang:monotonic_time(millisecond) - T0,
                #{<<"run">> := #{<<"iterations">> := #{<<"ok">> := Ok, <<"failed">> := Failed}},
                  <<"errors">> := Errors, <<"metrics">> := Metrics} = R,
                Max = case Metrics of #{<<"iteration.duration">> := #{<<"max">> := Mx}} when is_number(Mx) -> Mx; _ -> 0 end,
                ct:pal("~p: ~b ok, ~b failed in ~b ms, longest iteration ~p ms; errors ~p",
                       [Name, Ok, Failed, Took, Max, messages(Errors)]),
                {Name, #{ok => Ok, failed => Failed, took => Took, max => Max, errors => messages(Errors)}}
            end || {Name, Knobs} <- Faults],
    ok = live_load_reliability_target:stop(T),
    %% the error that names the fault: the most frequent (kind, first words of the message)
    Sig = [{Name, signature(maps:get(errors, S))} || {Name, S} <- Seen],
    Distinct = length(lists:usort([X || {_, X} <- Sig])) =:= length(Sig),
    %% the run ends by deadline + one iteration timeout + the engine's shutdown
    %% (the smoke: its users' one iteration each, after browsers that may start late)
    RunBound = case Full of true -> Duration + Timeout + 15000; false -> Timeout + 30000 end,
    OnTime = lists:all(fun({_, #{took := Took, max := Max}}) ->
                               Took =< RunBound andalso Max =< Timeout + 1000
                       end, Seen),
    AllFail = lists:all(fun({_, #{failed := F, ok := O}}) -> F > 0 andalso O =:= 0 end, Seen),
    Pass = Distinct andalso OnTime andalso AllFail,
    row("target answers 500 / hangs / closes the WebSocket / is slow (2 s per event)", Pass,
        "~ts; iteration_timeout ~b s honoured (longest iteration ~ts s, runs ~ts s ~ts)",
        [lists:join("; ", [io_lib:format("~p: ~ts", [N, X]) || {N, X} <- Sig]), Timeout div 1000,
         lists:join("/", [io_lib:format("~.1f", [maps:get(max, S) / 1000]) || {_, S} <- Seen]),
         lists:join("/", [io_lib:format("~.1f", [maps:get(took, S) / 1000]) || {_, S} <- Seen]),
         case Full of
             true -> io_lib:format("for a ~b s duration; an iteration timeout ends its user", [Duration div 1000]);
             false -> "for one iteration per user"
         end]),
    ?assert(Pass).

%% the counter page: navigate, LiveView up, Clicks clicks each waited for; steps bounded by StepMs
counter(Url, Clicks, StepMs) ->
    fun(Ctx0, _) ->
            Ctx = live_load_context:set_timeout(Ctx0, StepMs),
            C1 = live_load_context:wait_for_liveview(live_load_context:navigate(Ctx, <<Url/binary, "/counter">>)),
            lists:foldl(fun(_, C) ->
                                live_load_context:wait_for_phx_loading_completion(
                                  live_load_context:click(C, <<"#inc">>), click, <<"#inc">>)
                        end, C1, lists:seq(1, Clicks))
    end.

signature([]) -> <<"no error">>;
signature(Errors) ->
    {K, M} = hd(Errors),
    [What | _] = string:split(M, " ("),
    iolist_to_binary([K, " \"", string:slice(What, 0, 48), "\""]).

%% --- LiveView crash loop -------------------------------------------------------------------

liveview_crash_loop() ->
    [{doc, "Every event crashes the view (fail_percent 100): LiveView errors and the client's rejoins after them are counted (not the ordinary connects), and every failed iteration names the crash: {event_lost, <<\"#inc\">>, view_crashed}. 2 users for 10 s; the smoke: one iteration per user (on_failure stop_user)."}].
liveview_crash_loop(_Config) ->
    {ok, T} = live_load_reliability_target:start(0, [{"DEMO_FAIL_PERCENT", "100"}]),
    Url = live_load_reliability_target:url(T),
    %% the counter page, one click waited for; after the crash the user stays on the page until the
    %% client has rejoined (wait_for_liveview), the iteration still fails with the click's error
    Script = fun(Ctx0, _) ->
                     Ctx = live_load_context:set_timeout(Ctx0, 5000),
                     C1 = live_load_context:wait_for_phx_loading_completion(
                            live_load_context:click(
                              live_load_context:wait_for_liveview(
                                live_load_context:navigate(Ctx, <<Url/binary, "/counter">>)), <<"#inc">>),
                            click, <<"#inc">>),
                     _ = live_load_context:error(C1) =/= undefined
                         andalso live_load_context:wait_for_liveview(live_load_context:reset(C1)),
                     C1
             end,
    %% the smoke: one iteration per user (on_failure stop_user), whenever the browsers come up
    {Duration, OnFailure} = case live_load_reliability_rows:full() of
                                true -> {10000, continue};
                                false -> {60000, stop_user}
                            end,
    #{?S := R} = live_load:run(#{scenario => ?S, script => Script, users => 2, scenario_duration => Duration,
                                 on_failure => OnFailure, iteration_timeout => 15000, base_url => Url, quiet => true}),
    ok = live_load_reliability_target:stop(T),
    #{<<"run">> := #{<<"iterations">> := #{<<"ok">> := Ok, <<"failed">> := Failed}}, <<"errors">> := Errors,
      <<"counters">> := Counters, <<"metrics">> := Metrics} = R,
    LvErrors = counter_total(Counters, <<"liveview.errors">>),
    %% a rejoin: the main view connected again after its error (observer `reconnect'); the first
    %% connect of each page is liveview.connect and is not one
    Rejoins = counter_total(Counters, <<"liveview.reconnects">>),
    Connects = metric_count(Metrics, <<"liveview.connect">>),
    %% the iterations' failures (liveview_error entries are the observer's, one per crash)
    Failures = [{K, M} || {K, M} <- messages(Errors), K =/= <<"liveview_error">>],
    Crash = [X || {<<"event_lost">>, M} = X <- Failures,
                  binary:match(M, <<"view_crashed">>) =/= nomatch, binary:match(M, <<"#inc">>) =/= nomatch],
    FailedCount = lists:sum([N || #{<<"kind">> := K, <<"count">> := N} <- Errors, K =/= <<"liveview_error">>]),
    ct:pal("crash loop: ~b ok, ~b failed; liveview.errors ~b, reconnects ~b, connects ~b; counters ~p; errors ~p",
           [Ok, Failed, LvErrors, Rejoins, Connects, maps:keys(Counters), messages(Errors)]),
    Pass = Ok =:= 0 andalso Failed > 0 andalso LvErrors >= Failed andalso Rejoins > 0
        andalso Failures =/= [] andalso Crash =:= Failures andalso FailedCount =:= Failed,
    row("LiveView crash loop (the view raises on every event)", Pass,
        "~b ok, ~b failed iterations; liveview.errors ~b, rejoins after a crash ~b (first connects ~b, not counted); "
        "failures: ~ts",
        [Ok, Failed, LvErrors, Rejoins, Connects,
         lists:join(", ", [io_lib:format("~ts \"~ts\"", [K, M]) || {K, M} <- lists:usort(Failures)])]),
    ?assert(Pass).

counter_total(Counters, Name) ->
    case Counters of
        #{Name := #{<<"total">> := N}} -> N;
        #{Name := N} when is_integer(N) -> N;
        _ -> 0
    end.

metric_count(Metrics, Name) ->
    case Metrics of
        #{Name := #{<<"count">> := C}} -> C;
        _ -> 0
    end.

%% --- soak ----------------------------------------------------------------------------------

soak() ->
    [{doc, "N users (20 under make reliability, 2 in the smoke) for SOAK_MIN minutes: BEAM memory, port RSS, Chromium PSS and iteration p50 stay flat (slopes printed), errors do not grow."}].
soak(_Config) ->
    Minutes = soak_minutes(),
    Users = case live_load_reliability_rows:full() of true -> 20; false -> 2 end,
    {ok, T} = live_load_reliability_target:start(0),
    Url = live_load_reliability_target:url(T),
    Self = self(),
    Duration = round(Minutes * 60000),
    Run = spawn_link(fun() ->
                             Self ! {result, live_load:run(#{scenario => live_load_counter_scenario, users => Users,
                                                             clicks => 3, scenario_duration => Duration,
                                                             iteration_timeout => 30000, base_url => Url,
                                                             quiet => true})}
                     end),
    Samples = sample(erlang:monotonic_time(millisecond), [], max(2000, Duration div 30)),
    R = receive {result, #{live_load_counter_scenario := Res}} -> Res after 600000 -> exit(Run, kill), ct:fail(no_result) end,
    ok = live_load_reliability_target:stop(T),
    #{<<"run">> := #{<<"iterations">> := #{<<"ok">> := Ok, <<"failed">> := Failed}},
      <<"time_series">> := #{<<"buckets">> := Buckets}} = R,
    %% drop the first fifth (ramp-up, Chromium warming up), fit the rest
    Steady = lists:nthtail(length(Samples) div 5, lists:reverse(Samples)),
    P50s = [{Tm / 60000, P} || #{<<"t_ms">> := Tm, <<"metrics">> := #{<<"iteration.duration">> := #{<<"p50">> := P}}} <- Buckets,
                               is_number(P)],
    SteadyP50 = lists:nthtail(length(P50s) div 5, P50s),
    {FirstFailed, LastFailed} = halves([{Tm, maps:get(failed, S)} || #{t := Tm} = S <- lists:reverse(Samples)]),
    Mem = stats(Steady, beam_mb), Rss = stats(Steady, port_rss_mb), Pss = stats(Steady, chromium_pss_mb),
    P50 = {mean([P || {_, P} <- SteadyP50]), slope(SteadyP50)},
    ct:pal("soak ~p users ~p min: ~b ok, ~b failed; samples ~p; p50 ~p", [Users, Minutes, Ok, Failed, Samples, P50s]),
    %% flat: the fitted growth over the whole run stays under 20 % of the level (and 1 MB)
    %% (p50: the last third's median within 1.5x the first third's + 100 ms, the box being shared)
    Flat = fun({Level, Slope}) -> Slope * Minutes =< max(1.0, 0.2 * Level) end,
    P50Flat = thirds([P || {_, P} <- SteadyP50]),
    Measured = element(1, Rss) > 0 andalso element(1, Pss) > 0,
    %% the smoke (1 min on a loaded box) proves the measuring; the full soak asserts the flatness
    Pass = Ok > 0 andalso Measured andalso LastFailed =< FirstFailed + max(2, Ok div 100)
        andalso (not live_load_reliability_rows:full()
                 orelse (Flat(Mem) andalso Flat(Rss) andalso Flat(Pss) andalso P50Flat)),
    row(io_lib:format("soak: ~b users for ~.1f min", [Users, Minutes]), Pass,
        "~b ok, ~b failed iterations (first/second half failures ~b/~b); slope per min: BEAM ~ts MB, "
        "port RSS ~ts MB, Chromium PSS ~ts MB, iteration p50 ~ts ms",
        [Ok, Failed, FirstFailed, LastFailed, level(Mem), level(Rss), level(Pss), level(P50)]),
    ?assert(Pass).

thirds(Ps) when length(Ps) < 3 -> true;
thirds(Ps) ->
    N = length(Ps) div 3,
    median(lists:nthtail(length(Ps) - N, Ps)) =< 1.5 * median(lists:sublist(Ps, N)) + 100.

median(L) -> lists:nth((length(L) + 1) div 2, lists:sort(L)).

level({Level, Slope}) -> io_lib:format("~.2f (level ~.1f)", [Slope, Level]).

stats(Samples, Key) ->
    Points = [{Tm / 60000, maps:get(Key, S)} || #{t := Tm} = S <- Samples],
    {mean([V || {_, V} <- Points]), slope(Points)}.

halves(Points) ->
    case Points of
        [] -> {0, 0};
        _ ->
            {_, Last} = lists:last(Points),
            {_, Mid} = lists:nth(max(1, length(Points) div 2), Points),
            {Mid, Last - Mid}
    end.

mean([]) -> 0.0;
mean(L) -> lists:sum(L) / length(L).

%% least-squares slope of [{X, Y}]
slope(Points) when length(Points) < 2 -> 0.0;
slope(Points) ->
    N = length(Points),
    Mx = lists:sum([X || {X, _} <- Points]) / N,
    My = lists:sum([Y || {_, Y} <- Points]) / N,
    Sxx = lists:sum([(X - Mx) * (X - Mx) || {X, _} <- Points]),
    case Sxx == 0 of
        true -> 0.0;
        false -> lists:sum([(X - Mx) * (Y - My) || {X, Y} <- Points]) / Sxx
    end.

%% samples until the run's result arrives (left in the mailbox)
sample(T0, Acc, Every) ->
    receive
        {result, _} = Msg -> self() ! Msg, Acc
    after Every ->
            S = (measure())#{t => erlang:monotonic_time(millisecond) - T0},
            sample(T0, [S | Acc], Every)
    end.

measure() ->
    Ports = [P || P <- descendants(list_to_integer(os:getpid())), comm(P) =:= "live_load_brows"],
    Chromium = lists:append([descendants(P) || P <- Ports]),
    #{beam_mb => erlang:memory(total) / 1048576,
      port_rss_mb => lists:sum([kb(P, "/status", <<"VmRSS:">>) || P <- Ports]) / 1024,
      chromium_pss_mb => lists:sum([kb(P, "/smaps_rollup", <<"Pss:">>) || P <- Chromium]) / 1024,
      failed => failed_iterations()}.

failed_iterations() ->
    C = try maps:get(counters, live_load_metrics:snapshot(), []) catch _:_ -> [] end,
    L = if is_map(C) -> [{K, D, N} || {{K, D}, N} <- maps:to_list(C)]; is_list(C) -> C; true -> [] end,
    lists:sum([N || {<<"iterations">>, #{<<"result">> := <<"failed">>}, N} <- L]).

children(Pid) ->
    case file:read_file(io_lib:format("/proc/~b/task/~b/children", [Pid, Pid])) of
        {ok, B} -> [binary_to_integer(X) || X <- string:lexemes(B, " \n")];
        _ -> []
    end.

descendants(Pid) ->
    Cs = children(Pid),
    Cs ++ lists:append([descendants(C) || C <- Cs]).

comm(Pid) ->
    case file:read_file(io_lib:format("/proc/~b/comm", [Pid])) of
        {ok, B} -> string:trim(binary_to_list(B));
        _ -> ""
    end.

kb(Pid, File, Key) ->
    case file:read_file(io_lib:format("/proc/~b~s", [Pid, File])) of
        {ok, B} ->
            case [L || L <- binary:split(B, <<"\n">>, [global]), string:prefix(L, Key) =/= nomatch] of
                [L | _] -> binary_to_integer(hd(string:lexemes(string:prefix(L, Key), " \tkB")));
                [] -> 0
            end;
        _ -> 0
    end.

%% --- bad input: options --------------------------------------------------------------------

bad_input_options() ->
    [{doc, "Every option of live_load:run/1 given a wrong type, a wrong range or a misspelt name gives its precise error before anything starts, and a person-readable CLI sentence."}].
bad_input_options(_Config) ->
    S = live_load_runner_halt_scenario,
    Cases = [{users, [0, -1, 1.5, "8", <<"8">>, infinity, undefined]},
             {scenario_duration, [0, -1, 1.5, infinity, "60s"]},
             {iteration_timeout, [0, -5, infinity, 2.0, "2m"]},
             {user_rate, [0, -1, 0.5, "fast"]},
             {users_per_browser, [0, -2, "8"]},
             {browser, [yes, 1, "true"]},
             {quiet, [yes, 0, "true"]},
             {mode, [turbo, "fast", 1]},
             {progress_interval, [0, -1, 1.5]},
             {browser_connection_adapter, [no_such_mod, "live_load_browser", 42, lists]},
             {browser_connection_opts, [[], "x", 42]},
             {base_url, [<<"notaurl">>, "ftp://h", <<"http://">>, 42, <<"/relative">>, <<"localhost:4000">>]},
             {scenarios, [[], x, "abc", [x_no_such_mod], [lists]]}],
    Results = [{Name, V, run_map(maps:merge(#{scenario => S, browser => false, quiet => true},
                                                  case Name of scenarios -> #{scenario => undefined}; _ -> #{} end),
                                       Name, V)}
               || {Name, Vs} <- Cases, V <- Vs],
    Wrong = [{N, V, Got} || {N, V, Got} <- Results, not precise(N, V, Got)],
    Named = [{usres, [users]}, {scenario_duraton, [scenario_duration]}, {iteration_timout, [iteration_timeout]},
             {user_rte, [user_rate]}, {qiet, [quiet]}, {modes, [mode]}, {base_ulr, [base_url]},
             {browsr, [browser]}],
    WrongNames = [{N, Got} || {N, Close} <- Named,
                              Got <- [live_load:run(#{scenario => S, N => 1, browser => false, quiet => true})],
                              Got =/= {error, {unknown_option, N, #{did_you_mean => Close}}}],
    Reserved = [{N, Got} || N <- [cluster, cluster_opts, flame_backend],   %% never silently ignored
                        Got <- [live_load:run(#{scenario => S, N => #{}, browser => false})],
                        Got =/= {error, {option_needs, N, #{distributed => true}}}],
    Shapes = [live_load:run(42), live_load:run([{scenario, S}, oops]), live_load:run(#{})],
    ShapesOk = Shapes =:= [{error, {invalid_options, 42}}, {error, {invalid_option, oops}},
                           {error, {missing_option, scenario}}],
    %% every one of them reads as a sentence on the command line
    Raw = [R || {_, _, {error, R}} <- Results, is_raw(R)],
    N = length(Results) + length(Named) + 3 + length(Shapes),
    ct:pal("wrong: ~p~nnames: ~p~nreserved: ~p~nshapes: ~p~nraw: ~p", [Wrong, WrongNames, Reserved, Shapes, Raw]),
    Pass = Wrong =:= [] andalso WrongNames =:= [] andalso Reserved =:= [] andalso ShapesOk andalso Raw =:= [],
    row("bad input: options of live_load:run/1", Pass,
        "~b bad values/names: ~b without their precise error, ~b without a readable sentence; e.g. \"~ts\"",
        [N, length(Wrong) + length(WrongNames) + length(Reserved), length(Raw),
         live_load_cli_errors:format({unknown_option, usres, #{did_you_mean => [users]}})]),
    ?assert(Pass).

precise(scenarios, [lists], Got) -> Got =:= {error, {not_a_scenario, lists}};
precise(scenarios, [x_no_such_mod], Got) -> Got =:= {error, {unknown_scenario, x_no_such_mod}};
precise(scenarios, V, Got) -> Got =:= {error, {invalid_option, scenarios, V}};
precise(browser_connection_opts, V, Got) -> Got =:= {error, {invalid_option, browser_connection_opts, V}};
precise(Name, V, Got) -> Got =:= {error, {invalid_option, Name, V}}.

%% a message that is the printed term, not a sentence
is_raw(Reason) ->
    Text = lists:flatten(io_lib:format("~ts", [live_load_cli_errors:format(Reason)])),
    Text =:= lists:flatten(io_lib:format("~0tp", [Reason])).

bad_input_cli() ->
    [{doc, "bin/live_load with bad flags, values, scenario files that do not compile, modules that are not scenarios and unknown scenarios: exit 2 and one readable line each, never an Erlang term (the term with --verbose)."}].
bad_input_cli(Config) ->
    Root = ?config(root, Config),
    Dir = ?config(priv_dir, Config),
    Bin = filename:join([Root, "bin", "live_load"]),
    Counter = filename:join([Root, "scenarios", "live_load_counter_scenario.erl"]),
    Broken = filename:join(Dir, "broken_scenario.erl"),
    ok = file:write_file(Broken, <<"-module(broken_scenario).\n-export([run/3]).\nrun(Ctx, _, _) -> Ctx +.\n">>),
    NotScen = filename:join(Dir, "not_a_scenario_mod.erl"),
    ok = file:write_file(NotScen, <<"-module(not_a_scenario_mod).\n-export([f/0]).\nf() -> ok.\n">>),
    Cases = [{[Counter, "--users", "-1"], "--users must be a positive integer (got \"-1\")"},
             {[Counter, "--users", "abc"], "--users must be a positive integer (got \"abc\")"},
             {[Counter, "--duration", "forever"], "--duration must be a duration"},
             {[Counter, "--iteration-timeout", "0"], "--iteration-timeout must be a duration"},
             {[Counter, "--user-rate", "1.5"], "--user-rate must be a positive integer"},
             {[Counter, "--users-per-browser", "0"], "--users-per-browser must be a positive integer"},
             {[Counter, "--mode", "turbo"], "--mode must be faithful or fast"},
             {[Counter, "--base-url", "notaurl"], "--base-url must be an absolute http(s) URL"},
             {[Counter, "--set", "novalue"], "--set must be KEY=VALUE"},
             {[Counter, "--set", "usres=3"], "unknown option usres; did you mean --users?"},
             {[Counter, "--set", "users=0"], "--users must be a positive integer (got 0)"},
             {[Counter, "--set", "flame_backend=x"], "flame_backend is used only with distributed => true"},
             {[Counter, "--colour", "red"], "unknown option --colour"},
             {[Counter, "--users"], "--users needs a value"},
             {[], "no scenario given"},
             {[Broken], "cannot compile " ++ Broken ++ ":"},
             {[NotScen], "not_a_scenario_mod is not a scenario"},
             {["no_such_scenario_xyz"], "unknown scenario \"no_such_scenario_xyz\""},
             {["scenarios/nope.erl"], "cannot compile scenarios/nope.erl"}],
    %% each command line boots a VM: four at a time
    Seen = pmap(fun({Args, Want}) -> {Args, Want, sh(string:join([Bin, "run" | [quote(A) || A <- Args]], " "))} end,
                Cases, 4),
    Bad = [{Args, Want, St, Out} || {Args, Want, {St, Out}} <- Seen,
                                    St =/= 2 orelse string:find(Out, "live_load: " ++ Want) =:= nomatch
                                        orelse string:find(Out, "{") =/= nomatch],
    {2, Verbose} = sh(string:join([Bin, "run", Counter, "--users", "-1", "--verbose"], " ")),
    VerboseOk = string:find(Verbose, "{invalid_option,\"--users\",\"-1\"}") =/= nomatch,
    ct:pal("bad: ~p~nverbose: ~ts", [Bad, Verbose]),
    Pass = Bad =:= [] andalso VerboseOk,
    row("bad input: the CLI (flags, values, scenario files, modules)", Pass,
        "~b bad command lines: ~b without exit 2 and their sentence; --verbose adds the term: ~p",
        [length(Cases), length(Bad), VerboseOk]),
    ?assert(Pass).

quote(A) -> "\"" ++ A ++ "\"".

%% F over L, N at a time, results in L's order
pmap(_F, [], _N) -> [];
pmap(F, L, N) ->
    {Now, Later} = lists:split(min(N, length(L)), L),
    Self = self(),
    Refs = [begin R = make_ref(), spawn_link(fun() -> Self ! {R, F(X)} end), R end || X <- Now],
    [receive {R, V} -> V end || R <- Refs] ++ pmap(F, Later, N).

sh(Cmd) ->
    P = open_port({spawn, Cmd ++ " 2>&1"}, [exit_status, binary, stream]),
    sh_loop(P, []).

sh_loop(P, Acc) ->
    receive
        {P, {data, D}} -> sh_loop(P, [Acc, D]);
        {P, {exit_status, S}} -> {S, unicode:characters_to_list(iolist_to_binary(Acc))}
    after 120000 -> {timeout, unicode:characters_to_list(iolist_to_binary(Acc))}
    end.

%% --- bad input: scenarios ------------------------------------------------------------------

bad_input_scenarios() ->
    [{doc, "A run/3 that returns a non-context, raises error, exits or throws: every iteration is failed with a precise error naming what it did, the other users' results are kept, the run completes."}].
bad_input_scenarios(_Config) ->
    Scripts = [{not_a_context, fun(_Ctx, _Id) -> not_a_context end, <<"scenario_crash">>},
               {error, fun(_Ctx, _Id) -> erlang:error(scenario_bug) end, <<"scenario_crash">>},
               {exit, fun(_Ctx, _Id) -> exit(scenario_exit) end, <<"scenario_crash">>},
               {throw, fun(_Ctx, _Id) -> throw(scenario_throw) end, <<"scenario_crash">>},
               {badarity, fun() -> ok end, <<"scenario_crash">>}],
    Seen = [begin
                Script = fun(Ctx, 1) -> Bad(Ctx, 1);           %% user 1 misbehaves
                            (Ctx, _) -> timer:sleep(50), Ctx   %% user 2 is fine
                         end,
                Res = live_load:run(#{scenario => ?S, script => Script, users => 2, browser => false,
                                      scenario_duration => 500, quiet => true}),
                {Name, Want, Res}
            end || {Name, Bad, Want} <- Scripts],
    Check = fun({Name, Want, #{?S := #{<<"run">> := #{<<"iterations">> := #{<<"ok">> := Ok, <<"failed">> := F}},
                                  <<"errors">> := Errors}}}) ->
                    Ms = messages(Errors),
                    ct:pal("~p: ~b ok ~b failed ~p", [Name, Ok, F, Ms]),
                    Ok > 0 andalso F >= 1 andalso
                        lists:any(fun({K, M}) -> K =:= Want andalso
                                                     binary:match(M, what(Name)) =/= nomatch end, Ms);
               (Other) -> ct:pal("no result: ~p", [Other]), false
            end,
    Results = [{Name, Check(S)} || {Name, _, _} = S <- Seen],
    Pass = lists:all(fun({_, B}) -> B end, Results),
    row("bad input: run/3 returns a non-context / raises error, exit, throw", Pass,
        "~ts; the well-behaved user's iterations kept in every run",
        [lists:join(", ", [io_lib:format("~p ~ts", [N, case B of true -> "precise"; false -> "NOT precise" end])
                           || {N, B} <- Results])]),
    ?assert(Pass).

what(not_a_context) -> <<"{bad_return,not_a_context}">>;
what(error) -> <<"scenario_bug">>;
what(exit) -> <<"scenario_exit">>;
what(throw) -> <<"scenario_throw">>;
what(badarity) -> <<"badarity">>.

%% --- bad input: selectors and hostile pages ------------------------------------------------

bad_input_selectors() ->
    [{doc, "Selectors that are not valid CSS give invalid_selector naming the selector, for every action; the user continues."}].
bad_input_selectors(_Config) ->
    {ok, T} = live_load_reliability_target:start(0),
    Url = live_load_reliability_target:url(T),
    Bad = [<<"#inc[">>, <<"button:nope(">>, <<">>>">>, <<"">>, <<"#a,,#b">>],
    Actions = [{click, fun(C, S) -> live_load_context:click(C, S) end},
               {fill, fun(C, S) -> live_load_context:fill(C, S, <<"x">>) end},
               {wait_for_selector, fun(C, S) -> live_load_context:wait_for_selector(C, S) end},
               {inner_text, fun(C, S) -> live_load_context:inner_text(C, S, #{as => t}) end}],
    Self = self(),
    Script = fun(Ctx0, _) ->
                     Ctx = live_load_context:set_timeout(live_load_context:navigate(Ctx0, <<Url/binary, "/counter">>), 5000),
                     Errs = [{A, S, error_of(F(Ctx, S))} || {A, F} <- Actions, S <- Bad],
                     Self ! {selector_errors, Errs},
                     live_load_context:halt(Ctx)
             end,
    #{?S := R} = live_load:run(#{scenario => ?S, script => Script, users => 1, scenario_duration => 60000,
                                  iteration_timeout => 120000, base_url => Url, quiet => true}),
    ok = live_load_reliability_target:stop(T),
    Errs = receive {selector_errors, E} -> E after 0 -> [] end,
    Imprecise = [E || {_A, S, Got} = E <- Errs, not match_invalid(Got, S)],
    ct:pal("selector errors: ~p~nresult errors ~p", [Errs, maps:get(<<"errors">>, R)]),
    Pass = Errs =/= [] andalso Imprecise =:= [],
    row("bad input: selectors that are invalid CSS", Pass,
        "~b action x selector pairs: ~b without {invalid_selector, Sel}~ts",
        [length(Errs), length(Imprecise),
         case Imprecise of [] -> ""; [{A, S, G} | _] -> io_lib:format(" (e.g. ~p ~p gave ~0tP)", [A, S, G, 8]) end]),
    ?assert(Pass).

error_of(Ctx) ->
    case live_load_context:error(Ctx) of
        #{reason := R} -> R;
        Other -> Other
    end.

match_invalid({invalid_selector, S}, S) -> true;
match_invalid({invalid_selector, S, _}, S) -> true;
match_invalid(_, _) -> false.

hostile_pages() ->
    [{doc, "Hostile pages, each to its own user of one run: a 50 MB DOM, page_content of a DOM above the port's frame cap, an endless alert() loop, window.close(), a page that navigates away on load, a 10 MB WebSocket frame. Each step ends within its timeout with the outcome expected for that page (a precise reason, never a bare step timeout where something better is known), the same user's next page loads where recovery is possible (all but the 50 MB DOM), the dialogs are counted, the run completes."}].
hostile_pages(_Config) ->
    {ok, T} = live_load_reliability_target:start(0),
    Url = live_load_reliability_target:url(T),
    Full = live_load_reliability_rows:full(),
    Step = hostile_step_ms(),
    %% page_content of a DOM above the port's frame cap: 20 MB against the default 16 MiB; the smoke
    %% shrinks both (2 MB against 1 MiB) so it stays a few seconds
    {ContentMb, MaxFrame} = case Full of true -> {20, 16 bsl 20}; false -> {2, 1 bsl 20} end,
    Nav = fun(C, Path) -> live_load_context:navigate(C, <<Url/binary, Path/binary>>) end,
    %% {Name, step, expected outcomes ({Op, Reason} or ok), whether the next page must load}
    Pages = [{big_dom_content, fun(C) ->
                                       %% the DOM is built before load: its navigation gets longer
                                       %% (a 20 MB one took over 40 s under load 40)
                                       C1 = Nav(live_load_context:set_timeout(C, content_nav_ms()),
                                                <<"/hostile/big-dom?mb=", (integer_to_binary(ContentMb))/binary>>),
                                       live_load_context:page_content(
                                         live_load_context:set_timeout(C1, Step), #{as => html})
                               end,
              [{page_content, result_too_large}], true},
             {alert_loop, fun(C) -> Nav(C, <<"/hostile/alert-loop">>) end,
              %% every alert accepted, the loop's renderer crashed by the port at its 10th
              [{navigate, target_crashed}], true},
             {window_close, fun(C) -> Nav(C, <<"/hostile/window-close">>) end, [ok], true},
             {navigate_away, fun(C) -> live_load_context:wait_for_liveview(Nav(C, <<"/hostile/navigate-away">>)) end,
              %% it lands on the dead page `/'
              [{wait_for_liveview, not_liveview}], true},
             {big_frame, fun(C) ->
                                 C1 = live_load_context:wait_for_liveview(Nav(C, <<"/hostile/big-frame">>)),
                                 C2 = live_load_context:click(C1, <<"#big">>),
                                 live_load_context:wait_for_selector(C2, <<"#blob-size:not(:empty)">>)
                         end, [ok], true},
             %% last: a synchronous script builds the DOM, load comes when it ends and the renderer
             %% is busy meanwhile (a quiet fast box may finish within the step)
             {big_dom, fun(C) -> Nav(live_load_context:set_timeout(C, big_dom_ms()), <<"/hostile/big-dom">>) end,
              [{navigate, timeout}, ok], false}],
    Recover = case Full of true -> 6 * Step; false -> Step end,
    Self = self(),
    %% one user takes the pages in turn (in parallel, the DOM builders starve the others of CPU on a
    %% loaded box), each followed by a normal page
    Script = fun(Ctx0, _UserId) ->
                     Last = lists:foldl(
                       fun({Name, F, _, _}, Ctx) ->
                               T0 = erlang:monotonic_time(millisecond),
                               C1 = F(live_load_context:set_timeout(live_load_context:reset(Ctx), Step)),
                               T1 = erlang:monotonic_time(millisecond),
                               %% the 50 MB DOM's next page is not expected: the smoke tries it briefly
                               Next = case {Name, Full} of {big_dom, false} -> 3000; _ -> Recover end,
                               C2 = live_load_context:wait_for_liveview(
                                      Nav(live_load_context:set_timeout(live_load_context:reset(C1), Next),
                                          <<"/counter">>)),
                               T2 = erlang:monotonic_time(millisecond),
                               Self ! {hostile, Name, T1 - T0, outcome(C1), outcome(C2), T2 - T1},
                               C2
                       end, Ctx0, Pages),
                     live_load_context:halt(live_load_context:reset(Last))
             end,
    Res = live_load:run(#{scenario => ?S, script => Script, users => 1, scenario_duration => 600000,
                          iteration_timeout => content_nav_ms() + length(Pages) * (2 * Step + Recover) + 20000,
                          browser_connection_opts => #{max_frame => MaxFrame}, base_url => Url, quiet => true}),
    ok = live_load_reliability_target:stop(T),
    Seen = [receive {hostile, Name, Took, O1, O2, RecMs} -> {Name, Took, O1, O2, RecMs}
            after 0 -> {Name, -1, no_iteration, no_iteration, -1}
            end || {Name, _, _, _} <- Pages],
    Counters = case Res of #{?S := #{<<"counters">> := Cs}} -> Cs; _ -> #{} end,
    Dialogs = counter_total(Counters, <<"page.dialogs">>),
    Loops = counter_total(Counters, <<"page.dialog_loops_stopped">>),
    ct:pal("hostile pages: ~p~ncounters ~p", [Seen, Counters]),
    Completed = case Res of #{?S := #{<<"run">> := _}} -> true; _ -> false end,
    Problems =
        [{not_completed, Res} || not Completed] ++
        [{Name, {expected, Want}, {got, O1}} || {Name, _, Want, _} <- Pages, {N, _, O1, _, _} <- Seen, N =:= Name,
                                                not lists:member(O1, Want)] ++
        [{Name, took_ms, Took} || {Name, Took, _, _, _} <- Seen,
                                  Took < 0 orelse Took > bound(Name, Step) + 5000] ++
        [{Name, not_recovered, O2} || {Name, _, _, true} <- Pages, {N, _, _, O2, _} <- Seen, N =:= Name, O2 =/= ok] ++
        [{dialogs_counted, Dialogs, loops_stopped, Loops} || Dialogs < 1 orelse Loops =/= 1],
    Pass = Problems =:= [],
    ct:pal("problems: ~p", [Problems]),
    row("bad input: hostile pages (50 MB DOM, alert loop, window.close, navigate away, 10 MB frame)", Pass,
        "~ts; page.dialogs ~b, dialog loops stopped ~b; run completed ~p; the same user's next page (bound ~b s) "
        "loaded after: ~ts~ts",
        [lists:join("; ", [io_lib:format("~p ~.1f s ~ts", [N, Took / 1000, reason_text(O1)]) || {N, Took, O1, _, _} <- Seen]),
         Dialogs, Loops, Completed, Recover div 1000,
         lists:join(", ", [io_lib:format("~p ~ts", [N, case O2 of ok -> io_lib:format("in ~.1f s", [R / 1000]);
                                                             _ -> ["no: ", reason_text(O2)] end])
                           || {N, _, _, O2, R} <- Seen]),
         case Problems of [] -> ""; _ -> io_lib:format(" - problems: ~0tP", [Problems, 12]) end]),
    ?assert(Pass).

%% the bound of a page's step(s): page_content waits for its big DOM first
bound(big_dom_content, Step) -> content_nav_ms() + Step;
bound(big_dom, _Step) -> big_dom_ms();
bound(_, Step) -> Step.

content_nav_ms() ->
    case live_load_reliability_rows:full() of true -> 180000; false -> 32000 end.

%% the 50 MB DOM's navigation: it times out (or loads, on a fast box) within its bound
big_dom_ms() ->
    case live_load_reliability_rows:full() of true -> hostile_step_ms(); false -> 4000 end.

%% ok, or {Op, Reason} of the step that failed
outcome(Ctx) ->
    case live_load_context:error(Ctx) of
        undefined -> ok;
        #{op := Op, reason := R} -> {Op, R};
        Other -> Other
    end.

reason_text(ok) -> "ok";
reason_text(R) -> io_lib:format("~0tP", [R, 6]).

%% --- reports hold no secrets ---------------------------------------------------------------

reports_hold_no_secrets() ->
    [{doc, "run.options in the JSON, Markdown and HTML reports: data rows (with passwords), protocol_opts headers, cluster settings and the scenario's config values are never written; data is recorded as its source/strategy and row count, the maps as their key names."}].
reports_hold_no_secrets(Config) ->
    S = live_load_runner_halt_scenario,
    Secrets = [<<"rowS3cret">>, <<"hdrS3cret">>, <<"cfgS3cret">>, <<"fileS3cret">>],
    Csv = filename:join(?config(priv_dir, Config), "users.csv"),
    ok = file:write_file(Csv, <<"user,password\nu1,fileS3cret\n">>),
    Runs = [#{data => #{rows => [#{<<"user">> => <<"u1">>, <<"password">> => <<"rowS3cret">>},
                                 #{<<"user">> => <<"u2">>, <<"password">> => <<"rowS3cret">>}],
                        strategy => per_iteration},
              protocol_opts => #{headers => [{<<"authorization">>, <<"Bearer hdrS3cret">>}]},
              password => <<"cfgS3cret">>},
            #{data => #{source => Csv}}],
    Seen = [begin
                #{S := R} = live_load:run(Opts#{scenario => S, browser => false, quiet => true, users => 1,
                                                scenario_duration => 300}),
                Text = iolist_to_binary([live_load_result:to_json(R), live_load_report_markdown:render(R),
                                         live_load_report_html:render(R)]),
                #{<<"run">> := #{<<"options">> := Recorded}} = R,
                {Recorded, [X || X <- Secrets, binary:match(Text, X) =/= nomatch]}
            end || Opts <- Runs],
    ct:pal("recorded: ~p", [Seen]),
    [{Inline, []}, {File, []}] = Seen,
    ?assertMatch(#{<<"data">> := #{<<"row_count">> := 2, <<"strategy">> := <<"per_iteration">>},
                   <<"protocol_opts">> := [<<"headers">>], <<"config_keys">> := [<<"password">>]}, Inline),
    ?assertEqual(#{<<"source">> => list_to_binary(Csv)}, maps:get(<<"data">>, File)).

%% --- fuzzing (PropEr for a time budget) ----------------------------------------------------

fuzz_result_json() ->
    [{doc, "PropEr-driven fuzzing of the result JSON decoder (from_json/1, read_results/1, live_load_json:decode/1) for FUZZ_MIN minutes: random bytes, mutated valid results and deep nesting never crash or hang; crashes are saved as regression corpus files."}].
fuzz_result_json(Config) ->
    Seeds = json_seeds(),
    Prop = proper:forall(json_input(Seeds), fun(Bin) -> json_total(Bin) end),
    fuzz("fuzzing: result JSON decoder (from_json, read_results)", "json", Prop, Config).

json_total(Bin) ->
    Checks = [fun() -> live_load_result:from_json(Bin) end,
              fun() -> live_load_result:read_results(Bin) end,
              fun() -> live_load_json:decode(Bin) end],
    lists:all(fun(F) ->
                      case F() of
                          {ok, _} -> true;
                          {error, _} -> true;
                          _ -> false
                      end
              end, Checks).

json_seeds() ->
    R = #{<<"format">> => <<"live_load.result/1">>, <<"run">> => #{<<"users">> => 1}, <<"metrics">> => #{},
          <<"errors">> => [#{<<"kind">> => <<"x">>, <<"message">> => <<"é\"\\\n"/utf8>>, <<"count">> => 1}],
          <<"n">> => [1, -2.5e-3, true, false, null, <<>>]},
    [iolist_to_binary(live_load_result:to_json(R)),
     iolist_to_binary(live_load_result:results_to_json([R, R])),
     <<"[{\"format\":\"live_load.result/1\"}]">>, <<"\"\\ud83d\\ude00\"">>].

json_input(Seeds) ->
    proper_types:oneof([proper_types:binary(),
                        mutated(Seeds),
                        proper_types:exactly(<<"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[">>),
                        deep()]).

fuzz_cli_args() ->
    [{doc, "PropEr-driven fuzzing of the CLI's argument parser (live_load_cli:parse/1 and the error sentences) for FUZZ_MIN minutes: any argument list gives help, {ok, _} or {error, _} with a sentence; never a crash."}].
fuzz_cli_args(Config) ->
    Prop = proper:forall(cli_args(), fun(Args) -> cli_total(Args) end),
    fuzz("fuzzing: the CLI's argument parser", "cli", Prop, Config).

cli_total(Args) ->
    case live_load_cli:parse(Args) of
        help -> true;
        {ok, Cmd} when is_map(Cmd) -> true;
        {error, R} ->
            Text = unicode:characters_to_binary(live_load_cli_errors:format(R)),
            is_binary(Text) andalso byte_size(Text) > 0
    end.

cli_args() ->
    Flags = ["run", "help", "--users", "--duration", "--iteration-timeout", "--user-rate",
             "--users-per-browser", "--mode", "--chromium", "--base-url", "--json", "--md", "--html",
             "--set", "--quiet", "--verbose", "--", "-h", "--help", "x.erl", "fast", "faithful",
             "1", "0", "-1", "10s", "5ms", "2m", "1h", "http://127.0.0.1:1", "a=b", "=", "k="],
    Word = proper_types:oneof([proper_types:elements(Flags),
                               proper_types:list(proper_types:integer(0, 255)),
                               proper_types:list(proper_types:integer(0, 16#10FFFF - 16#800))]),
    proper_types:list(Word).

%% mutations of valid inputs: flip, cut, insert
mutated(Seeds) ->
    proper_types:bind(proper_types:tuple([proper_types:elements(Seeds),
                                          proper_types:list(proper_types:tuple([proper_types:non_neg_integer(),
                                                                                proper_types:integer(0, 255),
                                                                                proper_types:elements([flip, cut, insert])]))]),
                      fun({Seed, Muts}) -> lists:foldl(fun mutate/2, Seed, Muts) end, false).

mutate(_, <<>>) -> <<>>;
mutate({Pos0, Byte, Op}, Bin) ->
    Pos = Pos0 rem byte_size(Bin),
    <<A:Pos/binary, C, Rest/binary>> = Bin,
    case Op of
        flip -> <<A/binary, (C bxor (Byte bor 1)), Rest/binary>>;
        cut -> A;
        insert -> <<A/binary, Byte, C, Rest/binary>>
    end.

deep() ->
    proper_types:bind(proper_types:integer(1, 100000),
                      fun(N) -> iolist_to_binary([lists:duplicate(N, $[), lists:duplicate(N, $])]) end, false).

%% Runs Prop in rounds of 500 tests until the budget is spent; a counterexample is saved under
%% test/live_load_reliability_SUITE_data/corpus/<Dir>/ and fails the row.
fuzz(Row, Dir, Prop, _Config) ->
    Budget = round(fuzz_minutes() * 60000),
    Deadline = erlang:monotonic_time(millisecond) + Budget,
    {Tests, Failure} = fuzz_rounds(Prop, Deadline, 0),
    Saved = case Failure of
                none -> none;
                Counter -> save_corpus(Dir, Counter)
            end,
    Pass = Failure =:= none,
    row(Row, Pass, "~b inputs in ~.1f min, ~ts", [Tests, Budget / 60000,
                                                 case Saved of none -> "no crash"; F -> ["crash saved as ", F] end]),
    ?assert(Pass).

fuzz_rounds(Prop, Deadline, N) ->
    case erlang:monotonic_time(millisecond) >= Deadline of
        true -> {N, none};
        false ->
            case proper:quickcheck(Prop, [{numtests, 500}, quiet, {on_output, fun(_, _) -> ok end}]) of
                true -> fuzz_rounds(Prop, Deadline, N + 500);
                false -> {N, hd(proper:counterexample())};
                {error, _} = E -> {N, E}
            end
    end.

save_corpus(Dir, Input) ->
    Root = live_load_reliability_rows:root(),
    Bin = if is_binary(Input) -> Input; true -> term_to_binary(Input) end,
    Name = filename:join([Root, "test", "live_load_reliability_SUITE_data", "corpus", Dir,
                          "crash-" ++ binary_to_list(binary:encode_hex(crypto:hash(sha, Bin)))]),
    ok = filelib:ensure_dir(Name),
    ok = file:write_file(Name, Bin),
    Name.

fuzz_corpus_replays() ->
    [{doc, "Every saved fuzz input (test/live_load_reliability_SUITE_data/corpus/json/*: raw bytes; cli/*: a term_to_binary'd argument list) still decodes or fails cleanly."}].
fuzz_corpus_replays(Config) ->
    Data = ?config(data_dir, Config),
    Json = filelib:wildcard(filename:join([Data, "corpus", "json", "*"])),
    Cli = filelib:wildcard(filename:join([Data, "corpus", "cli", "*"])),
    JsonBad = [F || F <- Json, not json_total(element(2, file:read_file(F)))],
    CliBad = [F || F <- Cli, not cli_total(binary_to_term(element(2, file:read_file(F))))],
    ct:pal("corpus: ~b json, ~b cli; failing ~p", [length(Json), length(Cli), JsonBad ++ CliBad]),
    ?assert(length(Json) > 0),
    ?assertEqual([], JsonBad ++ CliBad).

run_map(Base, Name, V) ->
    live_load:run(maps:remove(scenario_undefined, (maps:filter(fun(_, X) -> X =/= undefined end, Base))#{Name => V})).
