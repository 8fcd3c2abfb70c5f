%% `make bench-browser': live_load (each mode) and Playwright, one after another on the same target,
%% same journey (live_load_bench_journey.erl = playwright_baseline.js), for every N.
%%
%% Environment: NS (default "1 2 4 8 16"), MODES (default "faithful fast"), DURATION (s per run,
%% default 30), BASE_URL (any app with the demo pages; default: the demo target started here in its
%% own OS process, so its CPU is not client CPU), SERVER_PID (the target's OS pid when BASE_URL is a
%% local app: its CPU is then left out of "other load"), PLAYWRIGHT=0 (skip Playwright),
%% USERS_PER_BROWSER (the pool's; default its own),
%% OUT (JSON of every row, default _build/bench/browser.json).
%%
%% Per run it prints: iterations/s, iteration time p50/p95, client CPU ms per iteration (driver +
%% port + BEAM + every Chromium process, and by process role), CDP messages per iteration
%% (live_load), the click round trip as the tool reports it and as the page saw it, memory (PSS) per
%% added idle user and per active user all-in, and the CPU other processes took meanwhile as a share
%% of the machine (`!' when above 10 %: that row is noisy). Then a Markdown table with the ratios to
%% Playwright and the goals of issue #14. How each figure is taken: live_load_bench_run.erl.
-module(live_load_bench).

-export([main/0]).
-export([start_target/0]).
-export([stop_target/1]).
-export([env_list/2]).
-export([modes/0]).
-export([pool_env/0]).
-export([modes_from/2]).
-export([fmt/1]).
-export([json_row/1]).

-define(NOISY_PCT, 10).

main() ->
    Ns = [list_to_integer(N) || N <- env_list("NS", "1 2 4 8 16")],
    Modes = modes(),
    Duration = list_to_integer(os:getenv("DURATION", "30")),
    Pw = os:getenv("PLAYWRIGHT", "1") =/= "0",
    Out = os:getenv("OUT", "_build/bench/browser.json"),
    {ok, _} = application:ensure_all_started(live_load),
    ok = pool_env(),
    Target = start_target(),
    #{url := Url} = Target,
    M0 = live_load_bench_proc:machine(),
    io:format("bench-browser: ~s, N = ~w, modes ~w~s, ~b s per run~n"
              "machine: ~b cores, ~b MB, ~s; load average ~s~n",
              [Url, Ns, Modes, case Pw of true -> " + playwright"; false -> "" end, Duration,
               maps:get(cores, M0), maps:get(memory_mb, M0), maps:get(cpu, M0), maps:get(loadavg, M0)]),
    Common = #{duration_s => Duration, url => Url, server_pid => maps:get(os_pid, Target, undefined)},
    Script = filename:join([os:getenv("LIVE_LOAD_ROOT", "."), "bench", "browser", "playwright_baseline.js"]),
    Rows = lists:append([runs(N, Modes, Pw, Common, Script, Url) || N <- Ns]),
    stop_target(Target),
    M1 = live_load_bench_proc:machine(),
    table(Rows),
    goals(Rows, Modes),
    io:format("load average at the end: ~s~n", [maps:get(loadavg, M1)]),
    ok = filelib:ensure_dir(Out),
    ok = file:write_file(Out, live_load_json:encode(#{format => <<"live_load.bench_browser/1">>, url => Url,
                                                      duration_s => Duration, machine => M0#{loadavg_end => maps:get(loadavg, M1)},
                                                      rows => [json_row(R) || R <- Rows]})),
    io:format("rows written to ~s~n", [Out]),
    halt(0).

%% Every mode of live_load, then Playwright, on the same target for N users.
runs(N, Modes, Pw, Common, Script, Url) ->
    Config = live_load_bench_journey:config(#{base_url => Url}),
    Print = fun(R) -> line(R), R end,
    LiveLoad = [Print(live_load_bench_run:live_load(Common#{scenario => live_load_bench_journey, users => N,
                                                            mode => Mode, config => Config})) || Mode <- Modes],
    LiveLoad ++ [Print(live_load_bench_run:playwright(Common#{users => N, script => Script})) || Pw].

%% ---------------------------------------------------------------- target

%% @doc BASE_URL, or the demo target in its own OS process (it halts when our pipe to it closes).
-spec start_target() -> map().
start_target() ->
    case os:getenv("BASE_URL") of
        U when is_list(U), U =/= "" ->
            #{url => list_to_binary(string:trim(U, trailing, "/")),
              os_pid => case os:getenv("SERVER_PID") of false -> undefined; "" -> undefined; P -> list_to_integer(P) end};
        _ ->
            Root = os:getenv("LIVE_LOAD_ROOT", "."),
            Ebin = filename:join([Root, "_build", "default", "lib", "live_load", "ebin"]),
            P = open_port({spawn_executable, os:find_executable("erl")},
                          [{args, ["-noshell", "-noinput", "-pa", Ebin, "-eval", "live_load_demo_target:main()"]},
                           {env, [{"PORT", "0"}, {"DEMO_EXIT_ON_EOF", "true"}]}, stderr_to_stdout, binary, {line, 1024}]),
            {os_pid, OsPid} = erlang:port_info(P, os_pid),
            #{url => wait_url(P), port => P, os_pid => OsPid}
    end.

wait_url(P) ->
    receive
        {P, {data, {eol, Line}}} ->
            case re:run(Line, <<"ready at (http://\\S+)">>, [{capture, [1], binary}]) of
                {match, [Url]} -> Url;
                nomatch -> wait_url(P)
            end
    after 60000 -> erlang:error(demo_target_did_not_start)
    end.

-spec stop_target(map()) -> ok.
stop_target(#{port := P}) -> catch port_close(P), ok;
stop_target(_) -> ok.

%% ---------------------------------------------------------------- output

line(R = #{tool := T, n := N}) ->
    io:format("~-9s N=~-3b ~6s it/s (~b failed) | iteration p50/p95 ~s/~s ms | CPU ~s ms/it [~s] | "
              "CDP ~s msg/it | click reported ~s, in page ~s, wire ~s ms | PSS idle +~s MB/user (renderer ~s), "
              "active ~s MB/user all-in (renderer ~s) | "
              "other load ~s%~s~s~n",
              [T, N, fmt(maps:get(its, R)), maps:get(failed, R), fmt(element(1, maps:get(iteration_ms, R))),
               fmt(element(2, maps:get(iteration_ms, R))), fmt(maps:get(cpu_ms_per_it, R)), split(R),
               fmt(maps:get(cdp_per_it, R)), fmt(element(1, maps:get(reported, R))), fmt(element(1, maps:get(in_page, R))),
               fmt(element(1, maps:get(wire, R))), fmt(maps:get(idle_added_mb, R)), fmt(maps:get(idle_renderer_mb, R)),
               fmt(maps:get(active_per_user_mb, R)), fmt(maps:get(active_renderer_mb, R)),
               fmt(maps:get(other_pct, R)), noisy(R),
               case maps:get(error, R) of none -> ""; E -> io_lib:format("~n    first error: ~ts", [E]) end]).

split(#{roles_per_it := Roles}) ->
    lists:join(" ", [io_lib:format("~s ~s", [Role, fmt(V)]) || Role <- live_load_bench_proc:roles(),
                                                               V <- [maps:get(Role, Roles)], is_number(V), V >= 0.5]);
split(_) -> "".

noisy(#{other_pct := P}) when P > ?NOISY_PCT -> " !";
noisy(_) -> "".

table(Rows) ->
    io:format("~n| N | tool | it/s | x PW | iteration p50 / p95 ms | client CPU ms/it | x PW | CDP msg/it "
              "| click reported p50 ms | in page p50 | wire p50 | PSS MB per added idle user | PSS MB per active user, all-in "
              "| renderer PSS MB idle / active | other load % |~n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|~n"),
    [begin
         Pw = [P || P = #{tool := playwright, n := M} <- Rows, M =:= N],
         Ratio = fun(K) -> case Pw of [P] -> fmt(safe_div(maps:get(K, R), maps:get(K, P))); [] -> "-" end end,
         io:format("| ~b | ~s | ~s | ~s | ~s / ~s | ~s | ~s | ~s | ~s | ~s | ~s | ~s | ~s | ~s / ~s | ~s~s |~n",
                   [N, T, fmt(maps:get(its, R)), Ratio(its), fmt(element(1, maps:get(iteration_ms, R))),
                    fmt(element(2, maps:get(iteration_ms, R))), fmt(maps:get(cpu_ms_per_it, R)), Ratio(cpu_ms_per_it),
                    fmt(maps:get(cdp_per_it, R)), fmt(element(1, maps:get(reported, R))),
                    fmt(element(1, maps:get(in_page, R))), fmt(element(1, maps:get(wire, R))),
                    fmt(maps:get(idle_added_mb, R)), fmt(maps:get(active_per_user_mb, R)),
                    fmt(maps:get(idle_renderer_mb, R)), fmt(maps:get(active_renderer_mb, R)), fmt(maps:get(other_pct, R)), noisy(R)])
     end || R = #{n := N, tool := T} <- Rows],
    ok.

%% The goals of issue #14, against the peaks of this run.
goals(Rows, Modes) ->
    Peak = fun(T) -> case [R || R = #{tool := X} <- Rows, X =:= T] of
                         [] -> undefined;
                         Rs -> lists:last(lists:sort(fun(A, B) -> maps:get(its, A) =< maps:get(its, B) end, Rs))
                     end
           end,
    Pw = Peak(playwright),
    io:format("~nGoals (issue #14) at each tool's peak it/s:~n"),
    [case Peak(M) of
         undefined -> ok;
         R ->
             {Want, Cpu} = case M of faithful -> {3, 250}; fast -> {6, 120} end,
             io:format("  ~s: peak ~s it/s at N=~b (~sx Playwright's peak, goal >= ~bx); ~s ms CPU/it there (goal <= ~b)~n",
                       [M, fmt(maps:get(its, R)), maps:get(n, R),
                        case Pw of undefined -> "n/a"; _ -> fmt(safe_div(maps:get(its, R), maps:get(its, Pw))) end,
                        Want, fmt(maps:get(cpu_ms_per_it, R)), Cpu])
     end || M <- Modes],
    [io:format("  playwright: peak ~s it/s at N=~b, ~s ms CPU/it~n",
               [fmt(maps:get(its, Pw)), maps:get(n, Pw), fmt(maps:get(cpu_ms_per_it, Pw))]) || Pw =/= undefined],
    [begin
         Idle = [V || #{tool := X, idle_added_mb := V} <- Rows, X =:= M, is_number(V)],
         Active = [{N, V} || #{tool := X, n := N, active_per_user_mb := V} <- Rows, X =:= M],
         io:format("  ~s: PSS per added idle user ~s MB (max over N; goal <= 15), per active user all-in ~s MB at the largest N (goal <= 50)~n",
                   [M, fmt(case Idle of [] -> null; _ -> lists:max(Idle) end),
                    fmt(case lists:sort(Active) of [] -> null; As -> element(2, lists:last(As)) end)])
     end || M <- Modes ++ [playwright || Pw =/= undefined]],
    ok.

%% @doc A row as JSON terms (pairs become arrays, atoms binaries).
-spec json_row(map()) -> map().
json_row(R) ->
    maps:map(fun(_, {A, B}) -> [A, B];
                (error, none) -> null;
                (_, V) when is_atom(V), V =/= null -> atom_to_binary(V);
                (_, V) when is_list(V) -> unicode:characters_to_binary(V);
                (_, V) -> V
             end, R).

%% ---------------------------------------------------------------- helpers

%% @doc USERS_PER_BROWSER, when set, configures the node's browser pool.
-spec pool_env() -> ok.
pool_env() ->
    case os:getenv("USERS_PER_BROWSER") of
        V when V =:= false; V =:= "" -> ok;
        V -> ok = live_load_browser_pool:configure(#{users_per_browser => list_to_integer(V)})
    end.

%% @doc MODES as atoms; an unknown mode ends the benchmark with a message.
-spec modes() -> [faithful | fast].
modes() -> modes_from("MODES", "faithful fast").

%% @doc The modes named in an environment variable.
-spec modes_from(string(), string()) -> [faithful | fast].
modes_from(Var, Default) ->
    [case M of
         "faithful" -> faithful;
         "fast" -> fast;
         _ -> io:format("~s: unknown mode ~s (faithful, fast)~n", [Var, M]), halt(2)
     end || M <- env_list(Var, Default)].

%% @doc A space-separated environment variable as a list of strings.
-spec env_list(string(), string()) -> [string()].
env_list(Name, Default) ->
    string:lexemes(case os:getenv(Name) of false -> Default; "" -> Default; V -> V end, " ,").

safe_div(A, B) when is_number(A), is_number(B), B /= 0 -> A / B;
safe_div(_, _) -> null.

%% @doc A figure with 2 decimals below 10, 1 below 100, else none; `-' for none.
-spec fmt(term()) -> string().
fmt(X) when is_number(X), abs(X) < 10 -> io_lib:format("~.2f", [float(X)]);
fmt(X) when is_number(X), abs(X) < 100 -> io_lib:format("~.1f", [float(X)]);
fmt(X) when is_number(X) -> integer_to_list(round(X));
fmt(_) -> "-".
