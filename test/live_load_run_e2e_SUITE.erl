%% live_load:run/1 end to end: real Chromium users through the port program, the real
%% phoenix_live_view JS client, against the demo LiveView target; the example scenarios of
%% scenarios/ and the CLI.
-module(live_load_run_e2e_SUITE).
-include_lib("common_test/include/ct.hrl").
-include_lib("eunit/include/eunit.hrl").
-compile([export_all, nowarn_export_all]).

-define(SCENARIOS, [live_load_counter_scenario, live_load_form_scenario,
                    live_load_navigation_scenario, live_load_list_scenario]).

all() ->
    [example_scenarios_4_users, target_down_gives_failed_iterations,
     iteration_timeout_with_browser, cli_writes_results, cli_sigterm_writes_partial_result,
     cli_ctrl_c_writes_partial_result].

suite() ->
    [{timetrap, {minutes, 6}}].

init_per_suite(Config) ->
    case os:find_executable("chromium") of
        false -> {skip, "chromium is not installed (make setup)"};
        _ ->
            {ok, _} = application:ensure_all_started(live_load),
            Root = root(),
            [compile_scenario(filename:join([Root, "scenarios", atom_to_list(M) ++ ".erl"])) || M <- ?SCENARIOS],
            {ok, #{url := Url}} = live_load_demo_target:start(#{port => 0}),
            [{url, Url}, {root, Root} | Config]
    end.

end_per_suite(_Config) ->
    %% live_load_demo_target:stop/0 waits for its supervisor, which ignores a shutdown from a
    %% process other than its parent (the init_per_suite process, gone): bound the wait.
    {Pid, Ref} = spawn_monitor(fun() -> live_load_demo_target:stop() end),
    receive {'DOWN', Ref, process, Pid, _} -> ok
    after 5000 ->
            exit(Pid, kill),
            case whereis(live_load_demo_sup) of
                undefined -> ok;
                Sup -> exit(Sup, kill)
            end
    end,
    ok.

%% The checkout: LIVE_LOAD_ROOT (set by the Makefile) or the first directory above this module
%% (in rebar3's _build) that holds bin/live_load.
root() -> live_load_test_checkout:root().

compile_scenario(File) ->
    {ok, M, Bin} = compile:file(File, [binary, debug_info, report]),
    {module, M} = code:load_binary(M, File, Bin),
    M.

example_scenarios_4_users() ->
    [{doc, "The four example scenarios, 4 users for 8 s each, give results with ok iterations and LiveView event round trips (or navigations) for every scenario."}].
example_scenarios_4_users(Config) ->
    Results = live_load:run(#{scenarios => ?SCENARIOS, users => 4, scenario_duration => 8000,
                              base_url => ?config(url, Config), progress_interval => 4000}),
    lists:foreach(
      fun(M) ->
              R = maps:get(M, Results),
              ?assert(is_map(R)),
              #{<<"run">> := #{<<"iterations">> := #{<<"ok">> := Ok, <<"failed">> := Failed},
                               <<"users">> := Users}} = R,
              Metrics = maps:get(<<"metrics">>, R),
              Count = fun(Name) -> case Metrics of #{Name := #{<<"count">> := C}} -> C; _ -> 0 end end,
              ct:pal("~p: ~p ok, ~p failed iterations; users ~p; liveview.event ~p, liveview.connect ~p, "
                     "liveview.navigation ~p, iteration p50 ~p ms; errors ~p",
                     [M, Ok, Failed, Users, Count(<<"liveview.event">>), Count(<<"liveview.connect">>),
                      Count(<<"liveview.navigation">>), p50(Metrics, <<"iteration.duration">>),
                      [{maps:get(<<"kind">>, E), maps:get(<<"message">>, E), maps:get(<<"count">>, E)}
                       || E <- maps:get(<<"errors">>, R)]]),
              ?assert(Ok >= 4),
              ?assert(Failed =< Ok div 10),
              ?assertMatch(#{<<"target">> := 4, <<"started">> := 4, <<"failed">> := 0}, Users),
              ?assert(Count(<<"liveview.connect">>) >= Ok),
              case M of
                  live_load_navigation_scenario -> ?assert(Count(<<"liveview.navigation">>) > 0);
                  _ -> ?assert(Count(<<"liveview.event">>) >= Ok)
              end
      end, ?SCENARIOS).

target_down_gives_failed_iterations() ->
    [{doc, "A target that is down gives failed iterations with a navigation error, a finished run and a result; no crash, no hang."}].
target_down_gives_failed_iterations(_Config) ->
    {ok, L} = gen_tcp:listen(0, [{ip, {127, 0, 0, 1}}]),
    {ok, Port} = inet:port(L),
    ok = gen_tcp:close(L),
    Url = iolist_to_binary(io_lib:format("http://127.0.0.1:~b", [Port])),
    T0 = erlang:monotonic_time(millisecond),
    #{live_load_counter_scenario := R} =
        live_load:run(#{scenario => live_load_counter_scenario, users => 2, scenario_duration => 5000,
                        base_url => Url, quiet => true}),
    Took = erlang:monotonic_time(millisecond) - T0,
    #{<<"run">> := #{<<"iterations">> := #{<<"ok">> := 0, <<"failed">> := Failed}}, <<"errors">> := Errors} = R,
    ct:pal("target down: ~p failed iterations in ~p ms; errors ~p", [Failed, Took, Errors]),
    ?assert(Failed >= 2),
    ?assert(Took < 60000),
    ?assert(lists:any(fun(#{<<"kind">> := K}) -> K =:= <<"navigation_error">> end, Errors)).

iteration_timeout_with_browser() ->
    [{doc, "With real browser users, an iteration past iteration_timeout is killed, the user failed, and the run still returns a result."}].
iteration_timeout_with_browser(Config) ->
    #{live_load_counter_scenario := R} =
        live_load:run(#{scenario => live_load_counter_scenario, users => 2, scenario_duration => 10000,
                        iteration_timeout => 3000, clicks => 100000, base_url => ?config(url, Config),
                        quiet => true}),
    #{<<"run">> := #{<<"users">> := Users, <<"iterations">> := #{<<"failed">> := 2}}, <<"errors">> := Errors} = R,
    ct:pal("iteration timeout with browsers: users ~p, errors ~p", [Users, Errors]),
    ?assertMatch(#{<<"failed">> := 2}, Users),
    ?assert(lists:any(fun(#{<<"kind">> := K}) -> K =:= <<"iteration_timeout">> end, Errors)).

cli_writes_results() ->
    [{doc, "bin/live_load runs a scenario file, writes JSON and Markdown, prints the summary and exits 0; --help documents the options; a bad option exits 2."}].
cli_writes_results(Config) ->
    Root = ?config(root, Config),
    Dir = ?config(priv_dir, Config),
    Json = filename:join(Dir, "r.json"),
    Md = filename:join(Dir, "r.md"),
    Bin = filename:join([Root, "bin", "live_load"]),
    {0, Out} = sh([Bin, " run ", filename:join([Root, "scenarios", "live_load_counter_scenario.erl"]),
                   " --users 2 --duration 8s --quiet --base-url ", ?config(url, Config),
                   " --json ", Json, " --md ", Md, " --set clicks=2"]),
    ?assertNotEqual(nomatch, string:find(Out, "# live_load run: live_load_counter_scenario")),
    {ok, JsonBin} = file:read_file(Json),
    %% the one results shape, even for one scenario; option values of the scenario's config are
    %% not copied into the file, only their names
    ?assertMatch({ok, #{<<"format">> := <<"live_load.results/1">>}}, live_load_json:decode(JsonBin)),
    {ok, [#{<<"run">> := #{<<"iterations">> := #{<<"ok">> := Ok}, <<"options">> := Opts}}]} =
        live_load_result:read_results(JsonBin),
    ?assert(Ok > 0),
    ?assertEqual([<<"clicks">>], maps:get(<<"config_keys">>, Opts)),
    ?assertEqual(2, maps:get(<<"users">>, Opts)),
    {ok, MdBin} = file:read_file(Md),
    ?assertNotEqual(nomatch, binary:match(MdBin, <<"liveview.event">>)),
    {0, Help} = sh([Bin, " --help"]),
    ?assertNotEqual(nomatch, string:find(Help, "--base-url")),
    %% a person reads the error; --verbose adds the term
    {2, Bad} = sh([Bin, " run ", filename:join([Root, "scenarios", "live_load_counter_scenario.erl"]), " --users 0"]),
    ?assertNotEqual(nomatch, string:find(Bad, "live_load: --users must be a positive integer (got \"0\")")),
    ?assertEqual(nomatch, string:find(Bad, "{invalid_option")),
    {2, BadV} = sh([Bin, " run x.erl --base-url notaurl --verbose"]),
    ?assertNotEqual(nomatch, string:find(BadV, "--base-url must be an absolute http(s) URL")),
    ?assertNotEqual(nomatch, string:find(BadV, "{invalid_option,\"--base-url\",\"notaurl\"}")).

cli_sigterm_writes_partial_result() ->
    [{doc, "SIGTERM to the CLI's BEAM during a 2 min run: users stopped, every port program and Chromium process recorded before the signal gone from /proc within 5 s of it, the partial result written with run.interrupted = true, exit status 130."}].
cli_sigterm_writes_partial_result(Config) ->
    cli_interrupt(Config, beam, "SIGTERM", "the BEAM node running the run is sent SIGTERM").

cli_ctrl_c_writes_partial_result() ->
    [{doc, "Ctrl-C (SIGINT to bin/live_load) during a run: the same as SIGTERM to the BEAM."}].
cli_ctrl_c_writes_partial_result(Config) ->
    cli_interrupt(Config, wrapper, "SIGINT", "the CLI gets Ctrl-C").

cli_interrupt(Config, Target, Signal, Row) ->
    Root = ?config(root, Config),
    Json = filename:join(?config(priv_dir, Config), "interrupted_" ++ Signal ++ ".json"),
    Bin = filename:join([Root, "bin", "live_load"]),
    %% the wrapper's pid printed first
    Line = binary_to_list(iolist_to_binary(["sh -c 'echo pid=$$; exec ", Bin, " run ",
                          filename:join([Root, "scenarios", "live_load_counter_scenario.erl"]),
                          " --users 2 --duration 120s --set progress_interval=1000 --base-url ", ?config(url, Config),
                          " --json ", Json, " --set clicks=2' 2>&1"])),
    P = open_port({spawn, Line}, [exit_status, binary, stream]),
    {Wrapper, _} = string:to_integer(string:prefix(wait_output(P, "pid=", 30000), "pid=")),
    wait_output(P, "users 2/2  iterations", 120000),   %% both users have their browser context
    Beam = child(Wrapper, "beam", 100),
    %% port programs are spawned by erl_child_setup, a child of the VM; Chromium's processes
    %% descend from the port program
    Ports = [Pp || Pp <- descendants(Beam), comm(Pp) =:= "live_load_brows"],
    Browsers = lists:append([descendants(Pp) || Pp <- Ports]),
    ?assert(Ports =/= [] andalso Browsers =/= []),
    T0 = erlang:monotonic_time(millisecond),
    _ = os:cmd(io_lib:format("kill -~s ~b", [tl(tl(tl(Signal))), case Target of beam -> Beam; wrapper -> Wrapper end])),
    %% the processes must be gone within 5 s of the signal: /proc polled every 20 ms (the CLI's
    %% output waits in the mailbox meanwhile); the poll goes on to 15 s to say how late they were
    Procs = Ports ++ Browsers,
    GoneMs = gone_within(Procs, T0, 15000),
    Late = [X || X <- Procs, alive(X)],
    {Status, Out} = sh_loop(P, []),
    Took = erlang:monotonic_time(millisecond) - T0,
    ct:pal("~s to ~p: processes gone after ~p ms (left ~p), exit ~p after ~b ms; ports ~p, ~b browser processes~n~s",
           [Signal, Target, GoneMs, Late, Status, Took, Ports, length(Browsers), Out]),
    {ok, JsonBin} = file:read_file(Json),
    {ok, [#{<<"run">> := Run}]} = live_load_result:read_results(JsonBin),
    #{<<"iterations">> := #{<<"ok">> := Ok}, <<"users">> := Users} = Run,
    Gone = is_integer(GoneMs) andalso GoneMs =< 5000,
    Pass = Status =:= 130 andalso Gone andalso Ok > 0
        andalso maps:get(<<"interrupted">>, Run) =:= true andalso maps:get(<<"stopped">>, Users) =:= 2,
    live_load_reliability_rows:append(
      Row, Pass, "~b port program(s) and ~b Chromium processes gone ~ts after the signal; exit ~p after ~b ms; "
      "partial result: ~b iterations kept, users started ~p stopped ~p, interrupted ~p",
      [length(Ports), length(Browsers),
       case GoneMs of timeout -> io_lib:format("NOT within 15 s (~b left)", [length(Late)]);
                      _ -> io_lib:format("~b ms", [GoneMs]) end,
       Status, Took, Ok, maps:get(<<"started">>, Users), maps:get(<<"stopped">>, Users),
       maps:get(<<"interrupted">>, Run)]),
    ?assertEqual([], Late),
    ?assert(Gone),
    ?assertEqual(130, Status),
    ?assertEqual(true, maps:get(<<"interrupted">>, Run)),
    ?assertEqual(2, maps:get(<<"stopped">>, Users)),
    ?assert(Ok > 0),
    ?assert(Took < 30000).

%% ms from T0 until none of Pids is alive, or timeout after Ms
gone_within(Pids, T0, Ms) ->
    Now = erlang:monotonic_time(millisecond),
    case [X || X <- Pids, alive(X)] of
        [] -> Now - T0;
        _ when Now - T0 >= Ms -> timeout;
        _ -> timer:sleep(20), gone_within(Pids, T0, Ms)
    end.

wait_output(P, Want, Ms) ->
    wait_output(P, Want, erlang:monotonic_time(millisecond) + Ms, <<>>).
wait_output(P, Want, Deadline, Acc) ->
    case binary:match(Acc, list_to_binary(Want)) of
        {Pos, _} ->
            [L | _] = string:split(binary_to_list(binary:part(Acc, Pos, byte_size(Acc) - Pos)), "\n"),
            L;
        nomatch ->
            receive {P, {data, D}} -> wait_output(P, Want, Deadline, <<Acc/binary, D/binary>>)
            after max(0, Deadline - erlang:monotonic_time(millisecond)) -> ct:fail({no_output, Want, Acc})
            end
    end.

children(Pid) ->
    [list_to_integer(S) || S <- string:lexemes(os:cmd(io_lib:format("pgrep -P ~b", [Pid])), "\n")].

descendants(Pid) ->
    lists:append([[C | descendants(C)] || C <- children(Pid)]).

child(Pid, Comm, 0) ->
    ct:fail({no_child, Pid, Comm, children(Pid)});
child(Pid, Comm, Tries) ->
    case [C || C <- children(Pid), lists:prefix(Comm, comm(C))] of
        [C | _] -> C;
        [] -> timer:sleep(100), child(Pid, Comm, Tries - 1)
    end.

comm(Pid) -> string:trim(os:cmd(io_lib:format("cat /proc/~b/comm 2>/dev/null", [Pid]))).

%% a process is gone when /proc has no entry for it or it is a zombie (read directly: a shell per
%% poll would be slower than the bound under load)
alive(Pid) ->
    case file:read_file(io_lib:format("/proc/~b/stat", [Pid])) of
        {ok, Stat} ->
            %% "pid (comm) S ...": the state follows the last ')'
            [_, After] = string:split(Stat, <<")">>, trailing),
            not lists:prefix(" Z", binary_to_list(binary:part(After, 0, min(2, byte_size(After)))));
        {error, _} -> false
    end.

p50(Metrics, Name) ->
    case Metrics of
        #{Name := #{<<"quantiles">> := Q}} when is_list(Q), length(Q) =:= 101 -> lists:nth(51, Q);
        _ -> null
    end.

%% Runs a shell command; returns {ExitStatus, Output (stdout and stderr)}.
sh(Cmd) ->
    Line = binary_to_list(iolist_to_binary(["sh -c '", Cmd, "' 2>&1"])),
    P = open_port({spawn, Line}, [exit_status, binary, stream]),
    sh_loop(P, []).

sh_loop(P, Acc) ->
    receive
        {P, {data, D}} -> sh_loop(P, [Acc, D]);
        {P, {exit_status, S}} -> {S, binary_to_list(iolist_to_binary(Acc))}
    after 120000 -> {timeout, binary_to_list(iolist_to_binary(Acc))}
    end.
