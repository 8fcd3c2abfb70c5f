%% `make bench-browser': live_load vs playwright-core, same scenario, same Chromium, same flags,
%% side by side. Scenario per iteration: open /counter, wait for LiveView, 5 x (click #inc, wait
%% for completion), open /form, fill #q, submit, wait. For every N in NS (default "1 2 4 8 16") each
%% tool runs N users for DURATION s (default 60) against the demo target (its own OS process, so
%% its CPU is not counted as client CPU).
%%
%% Printed per N and tool: iterations/s, click round trip p50/p95 as the tool reports it (live_load:
%% liveview.event{event=inc} from its result; Playwright: click + waitForSelector measured in node)
%% and the true in-page round trip (the observer in both), client CPU ms per iteration (driver +
%% port + every Chromium process), peak PSS of the same processes, the port's CPU as a share of the
%% browser's, and the ratios live_load / Playwright.
-module(live_load_bench).

-export([main/0]).

-define(CLICKS, 5).

main() ->
    Ns = [list_to_integer(N) || N <- string:lexemes(os:getenv("NS", "1 2 4 8 16"), " ")],
    Duration = list_to_integer(os:getenv("DURATION", "60")),
    Root = os:getenv("LIVE_LOAD_ROOT", "."),
    {ok, _} = application:ensure_all_started(live_load),
    _ = live_load_metrics_store:start(),
    {DemoPort, Url} = start_demo(Root),
    io:format("bench-browser: demo target at ~s, N = ~w, ~b s per run~n", [Url, Ns, Duration]),
    Rows = [begin
                LL = live_load_run(N, Duration, Url),
                print(live_load, N, LL),
                PW = playwright_run(Root, N, Duration, Url),
                print(playwright, N, PW),
                {N, LL, PW}
            end || N <- Ns],
    summary(Rows),
    port_close(DemoPort),
    halt(0).

%% ---------------------------------------------------------------- live_load side

live_load_run(N, Duration, Url) ->
    live_load_metrics:reset(),
    {ok, B} = live_load_browser:start(#{}),
    {ok, PortOs} = live_load_browser:os_pid(B),
    Beam = list_to_integer(os:getpid()),
    Ex = [demo_os_pid()],
    Self = self(),
    Users = [spawn_link(fun() -> user(Self, B, Url) end) || _ <- lists:seq(1, N)],
    [receive {ready, U} -> ok end || U <- Users],
    Cpu0 = live_load_bench_proc:cpu_tree([Beam], Ex),
    Port0 = live_load_bench_proc:cpu_self(PortOs),
    Browser0 = live_load_bench_proc:cpu_tree([PortOs], []) - Port0,
    T0 = erlang:monotonic_time(millisecond),
    Deadline = T0 + Duration * 1000,
    [U ! {go, Deadline} || U <- Users],
    Peak = sample_pss([Beam], Ex, Users, 0),
    Iterations = lists:sum([receive {done, U, It} -> It end || U <- Users]),
    Elapsed = (erlang:monotonic_time(millisecond) - T0) / 1000,
    Cpu1 = live_load_bench_proc:cpu_tree([Beam], Ex),
    Port1 = live_load_bench_proc:cpu_self(PortOs),
    Browser1 = live_load_bench_proc:cpu_tree([PortOs], []) - Port1,
    {ok, Collected} = live_load_collector:collect([node()]),
    Result = live_load_result:build(Collected, #{}),
    {P50, P95} = quantiles(Result, <<"inc">>),
    [U ! stop || U <- Users],
    live_load_browser:stop(B),
    %% live_load reports the in-page measurement itself: reported = in page by construction
    #{iterations => Iterations, its => Iterations / Elapsed, p50 => P50, p95 => P95,
      true_p50 => P50, true_p95 => P95,
      cpu_ms_per_it => per_it(Cpu1 - Cpu0, Iterations), pss_mb => Peak / 1024,
      port_share => pct(Port1 - Port0, Browser1 - Browser0)}.

demo_os_pid() ->
    {os_pid, P} = erlang:port_info(persistent_term:get(live_load_bench_demo), os_pid),
    P.

user(Parent, B, Url) ->
    {ok, Ctx} = live_load_context:new(#{browser => B}),
    Parent ! {ready, self()},
    receive {go, Deadline} -> ok end,
    It = loop(Ctx, Url, Deadline, 0),
    Parent ! {done, self(), It},
    receive stop -> live_load_context:close(Ctx) end.

loop(Ctx, Url, Deadline, N) ->
    case erlang:monotonic_time(millisecond) >= Deadline of
        true -> N;
        false ->
            C = iteration(live_load_context:reset(Ctx), Url),
            case live_load_context:error(C) of
                undefined -> loop(C, Url, Deadline, N + 1);
                Err -> io:format("live_load user error: ~ts~n", [live_load_context:format_error(Err)]),
                       loop(C, Url, Deadline, N)
            end
    end.

iteration(C0, Url) ->
    L = live_load_context,
    C1 = L:wait_for_liveview(L:navigate(C0, <<Url/binary, "/counter">>)),
    C2 = lists:foldl(fun(_, C) -> L:wait_for_phx_loading_completion(L:click(C, <<"#inc">>), click, <<"#inc">>) end,
                     C1, lists:seq(1, ?CLICKS)),
    C3 = L:wait_for_liveview(L:navigate(C2, <<Url/binary, "/form">>)),
    C4 = L:fill(C3, <<"#q">>, <<"abc">>),
    L:submit_form(C4, <<"#search-form">>).

%% Until every user reported done (their {done, ...} messages stay queued for the caller).
sample_pss(Roots, Ex, Users, Peak) ->
    Done = length([U || U <- Users, element(2, process_info(self(), messages)) =/= [],
                        lists:keymember(U, 2, [M || {done, _, _} = M <- element(2, process_info(self(), messages))])]),
    case Done =:= length(Users) of
        true -> Peak;
        false ->
            P = live_load_bench_proc:pss_tree(Roots, Ex),
            receive after 1000 -> ok end,
            sample_pss(Roots, Ex, Users, max(Peak, P))
    end.

quantiles(Result, Ev) ->
    case Result of
        #{<<"metrics">> := #{<<"liveview.event">> := #{<<"by">> := #{<<"event">> := ByEvent}}}} ->
            case maps:get(Ev, ByEvent, undefined) of
                #{<<"quantiles">> := Q} when length(Q) =:= 101 -> {lists:nth(51, Q), lists:nth(96, Q)};
                _ -> {null, null}
            end;
        _ -> {null, null}
    end.

%% ---------------------------------------------------------------- Playwright side

playwright_run(Root, N, Duration, Url) ->
    Script = filename:join([Root, "bench", "browser", "playwright_bench.js"]),
    Cmd = lists:flatten(io_lib:format("node ~s ~b ~b ~s", [Script, N, Duration, Url])),
    Out = os:cmd(Cmd),
    Last = lists:last(string:lexemes(Out, "\n")),
    case catch live_load_json:decode(list_to_binary(Last)) of
        {ok, #{} = M} -> maps:from_list([{binary_to_atom(K), V} || {K, V} <- maps:to_list(M)]);
        _ -> io:format("playwright run failed:~n~s~n", [Out]), #{}
    end.

%% ---------------------------------------------------------------- output

print(Tool, N, M) ->
    io:format("~-10s N=~-3b it/s ~6.2f | click p50/p95 reported ~s/~s ms, in page ~s/~s ms | "
              "CPU ~s ms/it | peak PSS ~s MB~s~n",
              [Tool, N, num(maps:get(its, M, 0)), fmt(maps:get(p50, M, null)), fmt(maps:get(p95, M, null)),
               fmt(maps:get(true_p50, M, null)), fmt(maps:get(true_p95, M, null)),
               fmt(maps:get(cpu_ms_per_it, M, null)), fmt(maps:get(pss_mb, M, null)),
               case maps:find(port_share, M) of
                   {ok, S} -> io_lib:format(" | port CPU ~s% of browser", [fmt(S)]);
                   error -> ""
               end]).

summary(Rows) ->
    io:format("~nN    it/s LL/PW   click p50 reported LL/PW   CPU per it LL/PW   PSS LL/PW   PSS per added user LL/PW (MB)~n"),
    [io:format("~-4b ~-13s ~-26s ~-18s ~-11s ~s~n",
               [N, ratio(its, LL, PW), ratio(p50, LL, PW), ratio(cpu_ms_per_it, LL, PW), ratio(pss_mb, LL, PW),
                per_user(Rows, N)])
     || {N, LL, PW} <- Rows],
    Best = fun(K) -> lists:max([0 | [maps:get(its, M, 0) || {_, L, P} <- Rows, M <- [element(K, {L, P})]]]) end,
    io:format("peak it/s: live_load ~s, playwright ~s, ratio ~s~n",
              [fmt(Best(1)), fmt(Best(2)), fmt(safe_div(Best(1), Best(2)))]).

per_user(Rows, N) ->
    case [R || {M, _, _} = R <- Rows, M < N] of
        [] -> "-";
        Smaller ->
            {M, LLm, PWm} = lists:last(Smaller),
            {N, LLn, PWn} = lists:keyfind(N, 1, Rows),
            D = fun(A, B) -> safe_div(maps:get(pss_mb, A, 0) - maps:get(pss_mb, B, 0), N - M) end,
            io_lib:format("~s / ~s", [fmt(D(LLn, LLm)), fmt(D(PWn, PWm))])
    end.

ratio(K, A, B) -> io_lib:format("~sx", [fmt(safe_div(maps:get(K, A, null), maps:get(K, B, null)))]).

safe_div(A, B) when is_number(A), is_number(B), B /= 0 -> A / B;
safe_div(_, _) -> null.

per_it(_Ms, 0) -> null;
per_it(Ms, N) -> Ms / N.

pct(A, B) when B > 0 -> 100 * A / B;
pct(_, _) -> null.

fmt(null) -> "n/a";
fmt(X) when is_number(X) -> io_lib:format("~.2f", [float(X)]);
fmt(_) -> "n/a".

num(X) when is_number(X) -> float(X);
num(_) -> 0.0.

%% ---------------------------------------------------------------- demo target

start_demo(Root) ->
    Ebin = filename:join([Root, "_build", "default", "lib", "live_load", "ebin"]),
    Erl = os:find_executable("erl"),
    P = open_port({spawn_executable, Erl},
                  [{args, ["-noshell", "-noinput", "-pa", Ebin, "-eval", "live_load_demo_target:main()"]},
                   {env, [{"PORT", "0"}]}, stderr_to_stdout, binary, {line, 1024}]),
    persistent_term:put(live_load_bench_demo, P),
    {P, wait_url(P)}.

wait_url(P) ->
    receive
        {P, {data, {eol, Line}}} ->
            case re:run(Line, <<"ready at (http://\\S+)">>, [{capture, [1], binary}]) of
                {match, [Url]} -> Url;
                nomatch -> wait_url(P)
            end
    after 30000 -> erlang:error(demo_did_not_start)
    end.
