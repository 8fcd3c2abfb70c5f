%% One run of the browser benchmarks: N users of a scenario for a while, measured from outside.
%%
%% Both tools go through the same phases, so their figures mean the same:
%% 1. set-up: the users are created (live_load: contexts from the node's browser pool, as a
%%    scenario run gets them; Playwright: contexts in one browser, as baseline.js does);
%% 2. warm-up and idle memory: user 1 runs one iteration and waits; the tree's PSS is measured
%%    once settled (3 s, then the median of 3 samples 1 s apart); then every other user runs one
%%    iteration and waits, and PSS is measured again: (PSS(N) - PSS(1)) / (N - 1) is the memory an
%%    added idle user costs (a user with its page open on a connected LiveView, not acting);
%% 3. the timed window: every user loops over the scenario until the deadline; CPU of the client
%%    tree by process role (BEAM, port, node, Chromium's browser / renderer / GPU / network
%%    service / utility / zygote) from /proc between go and the last user done, PSS sampled 4
%%    times in the window (its median is the active PSS), the machine's busy time from /proc/stat
%%    (what processes outside the tree and the target took: `other_pct').
%% Client = every process below this BEAM (live_load) or below node (Playwright), never the target.
-module(live_load_bench_run).

-export([live_load/1]).
-export([playwright/1]).
-export([quantile/2]).

-define(SAMPLES, 4).

%% ---------------------------------------------------------------- live_load

%% @doc `#{scenario, config, users, mode, duration_s, server_pid}'.
-spec live_load(map()) -> map().
live_load(#{users := N, duration_s := D} = O) ->
    Beam = list_to_integer(os:getpid()),
    Ex = excluded(O),
    Self = self(),
    Users = [spawn_link(fun() -> user(Self, I, O) end) || I <- lists:seq(1, N)],
    [receive {ready, U} -> ok end || U <- Users],
    [First | Rest] = Users,
    Idle = idle(fun() -> warm([First]) end, fun() -> warm(Rest) end, N,
                fun() -> live_load_bench_proc:pss_roles([Beam], Ex) end),
    live_load_metrics:reset(),
    Browsers = browsers(),
    Cdp0 = cdp_messages(Browsers),
    S0 = live_load_bench_proc:snapshot([Beam], Ex),
    Server0 = server_cpu(O),
    Deadline = erlang:monotonic_time(millisecond) + D * 1000,
    [U ! {go, Deadline} || U <- Users],
    Active = sample_active(D, fun() -> live_load_bench_proc:pss_roles([Beam], Ex) end),
    Done = [receive {done, U, R} -> R end || U <- Users],
    S1 = live_load_bench_proc:snapshot([Beam], Ex),
    Server1 = server_cpu(O),
    Cdp1 = cdp_messages(Browsers),
    {ok, Collected} = live_load_collector:collect([node()]),
    Result = live_load_result:build(Collected, #{}),
    [U ! stop || U <- Users],
    [receive {closed, U} -> ok end || U <- Users],
    ok = live_load_browser_pool:stop_browsers(),
    Its = lists:sum([maps:get(iterations, R) || R <- Done]),
    Row = row(N, Done, Idle, Active, S0, S1, Server1 - Server0),
    Row#{tool => maps:get(mode, O), browsers => length(Browsers),
         cdp_per_it => per(Cdp1 - Cdp0, Its),
         reported => q(Result, <<"liveview.event">>, <<"inc">>),
         in_page => q(Result, <<"liveview.input_to_patch">>, <<"inc">>),
         wire => q(Result, <<"liveview.wire">>, <<"inc">>)}.

user(Parent, Id, #{scenario := Mod, config := Config, mode := Mode}) ->
    {ok, Ctx0} = live_load_context:new(#{mode => Mode, user_id => Id}),
    Parent ! {ready, self()},
    receive warm -> ok end,
    {Ctx1, _, _} = iteration(Mod, Ctx0, Id, Config),
    Parent ! {warmed, self()},
    receive {go, Deadline} -> ok end,
    {Ctx2, R} = loop(Mod, Ctx1, Id, Config, Deadline, #{iterations => 0, failed => 0, durations => [], error => none}),
    Parent ! {done, self(), R},
    receive stop -> ok end,
    live_load_context:close(Ctx2),
    Parent ! {closed, self()}.

loop(Mod, Ctx, Id, Config, Deadline, R = #{iterations := I, failed := F, durations := Ds}) ->
    case erlang:monotonic_time(millisecond) >= Deadline of
        true -> {Ctx, R};
        false ->
            {C, Ms, Err} = iteration(Mod, Ctx, Id, Config),
            R1 = case Err of
                     undefined -> R#{iterations := I + 1, durations := [Ms | Ds]};
                     _ -> R#{failed := F + 1, error := first(maps:get(error, R), Err)}
                 end,
            loop(Mod, C, Id, Config, Deadline, R1)
    end.

iteration(Mod, Ctx, Id, Config) ->
    T0 = erlang:monotonic_time(microsecond),
    C = Mod:run(live_load_context:reset(Ctx), Id, Config),
    Ms = (erlang:monotonic_time(microsecond) - T0) / 1000,
    Err = case live_load_context:error(C) of
              undefined -> undefined;
              E -> live_load_context:format_error(E)
          end,
    {C, Ms, Err}.

first(none, E) -> E;
first(E, _) -> E.

browsers() ->
    [B || {B, _Users} <- live_load_browser_pool:browsers()].

cdp_messages(Browsers) ->
    lists:sum([case live_load_browser:stats(B) of
                   {ok, #{<<"cdp_in">> := In, <<"cdp_out">> := Out}} -> In + Out;
                   _ -> 0
               end || B <- Browsers]).

%% ---------------------------------------------------------------- Playwright

%% @doc `#{users, duration_s, url, script, server_pid}': bench/browser/playwright_baseline.js in
%% node, driven through its stdin/stdout phases.
-spec playwright(map()) -> map().
playwright(#{users := N, duration_s := D, url := Url, script := Script} = O) ->
    Node = os:find_executable("node"),
    P = open_port({spawn_executable, Node},
                  [{args, [Script, integer_to_list(N), integer_to_list(D), Url]}, {line, 1 bsl 20},
                   binary, exit_status, use_stdio]),
    {os_pid, NodePid} = erlang:port_info(P, os_pid),
    Pss = fun() -> live_load_bench_proc:pss_roles([NodePid], []) end,
    try
        ready = node_phase(P, <<"ready">>),
        Idle = idle(fun() -> node_warm(P, <<"warm1\n">>) end, fun() -> node_warm(P, <<"warmrest\n">>) end, N, Pss),
        S0 = live_load_bench_proc:snapshot([NodePid], []),
        Server0 = server_cpu(O),
        port_command(P, <<"go\n">>),
        Active = sample_active(D, Pss),
        Out = node_phase(P, <<"result">>),
        S1 = live_load_bench_proc:snapshot([NodePid], []),
        Server1 = server_cpu(O),
        port_command(P, <<"exit\n">>),
        _ = node_exit(P),
        Done = [#{iterations => maps:get(<<"iterations">>, Out), failed => maps:get(<<"errors">>, Out),
                  durations => maps:get(<<"iterationMs">>, Out),
                  error => case maps:get(<<"errorSamples">>, Out) of [E | _] -> E; [] -> none end}],
        Row = row(N, Done, Idle, Active, S0, S1, Server1 - Server0),
        Row#{tool => playwright, cdp_per_it => null,
             reported => pair(maps:get(<<"click">>, Out)),
             in_page => pair(maps:get(<<"clickInPage">>, Out)),
             wire => {null, null}}
    after
        catch port_close(P)
    end.

%% Waits for the JSON line of a phase; `ready' for set-up done, the result map for `result'.
node_phase(P, Phase) ->
    receive
        {P, {data, {eol, Line}}} ->
            case Line of
                <<"{", _/binary>> ->
                    {ok, M} = live_load_json:decode(Line),
                    case M of
                        #{<<"phase">> := <<"ready">>} when Phase =:= <<"ready">> -> ready;
                        #{<<"phase">> := Phase} -> M;
                        #{<<"phase">> := Other} -> erlang:error({playwright_phase, Other, Line})
                    end;
                _ ->
                    io:format("playwright: ~ts~n", [Line]),
                    node_phase(P, Phase)
            end;
        {P, {data, {noeol, _}}} -> erlang:error(playwright_line_too_long);
        {P, {exit_status, S}} -> erlang:error({playwright_exited, S})
    after 600000 -> erlang:error({playwright_timeout, Phase})
    end.

node_exit(P) ->
    receive {P, {exit_status, S}} -> S
    after 30000 -> timeout
    end.

pair(#{<<"p50">> := A, <<"p95">> := B}) -> {A, B};
pair(_) -> {null, null}.

%% ---------------------------------------------------------------- shared phases

%% User 1 warms up (one iteration), PSS settles; then the others; PSS again.
idle(WarmOne, WarmRest, N, Pss) ->
    WarmOne(),
    One = settled(Pss),
    case N of
        1 -> #{one => One, all => One};
        _ -> WarmRest(), #{one => One, all => settled(Pss)}
    end.

warm(Users) ->
    [U ! warm || U <- Users],
    [receive {warmed, U} -> ok end || U <- Users],
    ok.

node_warm(P, Cmd) ->
    port_command(P, Cmd),
    #{} = node_phase(P, <<"idle">>),
    ok.

%% The median of 5 samples 1 s apart, after 4 s of quiet: the sample whose total is the median.
settled(Pss) ->
    timer:sleep(4000),
    Xs = lists:sort(fun(A, B) -> total(A) =< total(B) end,
                    [begin X = Pss(), timer:sleep(1000), X end || _ <- lists:seq(1, 5)]),
    lists:nth(3, Xs).

%% KiB of a pss_roles map (without the renderer count).
total(Roles) -> lists:sum([V || {K, V} <- maps:to_list(Roles), K =/= renderers]).

%% PSS at ?SAMPLES points spread over the window; the median, and the time the sampling took
%% (its CPU is counted as client CPU: a few ms per run).
sample_active(D, Pss) ->
    Every = D * 1000 div (?SAMPLES + 1),
    Xs = [begin timer:sleep(Every), T0 = erlang:monotonic_time(millisecond), X = Pss(),
                {X, erlang:monotonic_time(millisecond) - T0} end || _ <- lists:seq(1, ?SAMPLES)],
    Sorted = lists:sort(fun(A, B) -> total(A) =< total(B) end, [X || {X, _} <- Xs]),
    Median = lists:nth((?SAMPLES + 1) div 2, Sorted),
    #{median => total(Median), roles => Median, sample_ms => lists:sum([T || {_, T} <- Xs])}.

row(N, Done, Idle, Active, S0, S1, ServerMs) ->
    Its = lists:sum([maps:get(iterations, R) || R <- Done]),
    Failed = lists:sum([maps:get(failed, R) || R <- Done]),
    Ds = lists:sort(lists:append([maps:get(durations, R) || R <- Done])),
    Delta = live_load_bench_proc:cpu_delta(S0, S1),
    #{roles := Roles, client := Client, wall := Wall, busy := Busy, capacity := Cap} = Delta,
    Other = max(0.0, Busy - Client - ServerMs),
    #{one := OneRoles, all := AllRoles} = Idle,
    {One, All} = {total(OneRoles), total(AllRoles)},
    Renderer = fun(Rs) -> case maps:get(renderers, Rs, 0) of 0 -> null; K -> maps:get(renderer, Rs, 0) / 1024 / K end end,
    #{n => N, iterations => Its, failed => Failed, its => Its * 1000 / max(1, Wall), wall_ms => Wall,
      iteration_ms => {quantile(Ds, 0.5), quantile(Ds, 0.95)},
      cpu_ms_per_it => per(Client, Its),
      roles_per_it => maps:map(fun(_, V) -> per(V, Its) end, Roles),
      server_ms_per_it => per(ServerMs, Its),
      other_pct => 100 * Other / max(1.0, Cap),
      idle_all_mb => All / 1024,
      idle_added_mb => case N of 1 -> null; _ -> (All - One) / 1024 / (N - 1) end,
      idle_renderer_mb => Renderer(AllRoles),
      active_renderer_mb => Renderer(maps:get(roles, Active)),
      active_mb => maps:get(median, Active) / 1024,
      active_per_user_mb => maps:get(median, Active) / 1024 / N,
      sample_ms => maps:get(sample_ms, Active),
      loadavg => maps:get(loadavg, live_load_bench_proc:machine()),
      error => hd([E || #{error := E} <- Done, E =/= none] ++ [none])}.

excluded(O) ->
    case maps:get(server_pid, O, undefined) of
        undefined -> [];
        P -> [P]
    end.

server_cpu(O) ->
    case maps:get(server_pid, O, undefined) of
        undefined -> 0.0;
        P -> live_load_bench_proc:cpu_self(P)
    end.

per(_, 0) -> null;
per(X, N) -> X / N.

%% @doc The q-quantile of a sorted list (nearest rank), `null' for none.
-spec quantile([number()], float()) -> number() | null.
quantile([], _) -> null;
quantile(Sorted, Q) -> lists:nth(max(1, min(length(Sorted), ceil(Q * length(Sorted)))), Sorted).

%% p50/p95 of a metric's `event' breakdown in a live_load result, `{null, null}' when absent.
q(Result, Metric, Event) ->
    case Result of
        #{<<"metrics">> := #{Metric := #{<<"by">> := #{<<"event">> := #{Event := #{<<"quantiles">> := Qs}}}}}}
          when length(Qs) =:= 101 ->
            {lists:nth(51, Qs), lists:nth(96, Qs)};
        _ -> {null, null}
    end.
