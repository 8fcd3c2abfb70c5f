%% live_load on a real amoc 4.1: a master (this node) and `peer' worker nodes formed by
%% live_load_cluster, real Chromium users against the demo LiveView target.
%% Needs amoc and telemetry on the code path: `AMOC_LIBS=/path/to/built/libs make amoc-test'
%% (guides/distributed.md); without them every case is skipped with the reason.
-module(live_load_amoc_SUITE).
-include_lib("common_test/include/ct.hrl").
-include_lib("eunit/include/eunit.hrl").
-compile([export_all, nowarn_export_all]).

-define(EXAMPLE, live_load_counter_amoc).

all() ->
    [engine_amoc_on_this_node, raw_amoc_dist_two_workers, settings_errors, live_load_run_distributed,
     cli_distributed, worker_lost_mid_run, throttles_across_three_nodes, interrupt_distributed_run,
     data_rows_distinct_across_nodes].

suite() ->
    [{timetrap, {minutes, 8}}].

init_per_suite(Config) ->
    case {code:which(amoc), os:find_executable("chromium")} of
        {non_existing, _} ->
            {skip, "amoc is not on the code path (code:which(amoc) =:= non_existing): run "
                   "AMOC_LIBS=/path/to/built/libs make amoc-test (guides/distributed.md)"};
        {_, false} ->
            {skip, "chromium is not installed (make setup)"};
        {_, _} ->
            {ok, _} = application:ensure_all_started(live_load),
            Root = root(),
            %% the example scenarios as beam files on the code path: the workers get the path
            Ebin = filename:join(?config(priv_dir, Config), "ebin"),
            ok = filelib:ensure_dir(filename:join(Ebin, "x")),
            [compile_scenario(Root, Ebin, M) || M <- [live_load_counter_scenario, ?EXAMPLE]],
            true = code:add_patha(Ebin),
            {ok, #{url := Url}} = live_load_demo_target:start(#{port => 0}),
            [{url, Url}, {root, Root} | Config]
    end.

end_per_suite(_Config) ->
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

init_per_testcase(_Case, Config) ->
    flush(),
    Config.

end_per_testcase(_Case, _Config) ->
    [live_load_cluster:stop(C) || C <- persistent_term:get({?MODULE, clusters}, [])],
    persistent_term:erase({?MODULE, clusters}),
    live_load_amoc_engine:forget_master_run(),
    _ = application:stop(amoc),
    ok.

%% A cluster for this case, torn down by end_per_testcase.
cluster(Nodes, Users) ->
    {ok, C} = live_load_cluster:start(#{provider => peer, nodes => Nodes}, #{users => Users}),
    persistent_term:put({?MODULE, clusters}, [C | persistent_term:get({?MODULE, clusters}, [])]),
    C.

%%% Cases

engine_amoc_on_this_node() ->
    [{doc, "live_load:run(#{engine => amoc}) runs the users with amoc:do/3 on this node: same result shape, engine amoc, iterations and LiveView events counted."}].
engine_amoc_on_this_node(Config) ->
    #{live_load_counter_scenario := R} =
        live_load:run(#{scenario => live_load_counter_scenario, engine => amoc, users => 2,
                        scenario_duration => 8000, base_url => ?config(url, Config), clicks => 2,
                        quiet => true}),
    #{<<"run">> := Run, <<"nodes">> := Nodes} = R,
    ct:pal("engine amoc, 2 users 8 s: run ~p", [maps:with([<<"iterations">>, <<"users">>, <<"engine">>, <<"nodes">>], Run)]),
    ?assertEqual(<<"amoc">>, maps:get(<<"engine">>, Run)),
    ?assertEqual([atom_to_binary(node())], [N || #{<<"node">> := N} <- Nodes]),
    #{<<"ok">> := Ok, <<"failed">> := 0} = maps:get(<<"iterations">>, Run),
    ?assert(Ok >= 2),
    ?assertMatch(#{<<"target">> := 2, <<"started">> := 2, <<"failed">> := 0}, maps:get(<<"users">>, Run)),
    ?assert(count(R, <<"liveview.event">>) >= 2 * Ok).

raw_amoc_dist_two_workers() ->
    [{doc, "On a master with 2 peer workers, amoc_dist:do(live_load_counter_amoc, 4, [{base_url, Url}]) then live_load_amoc:await_result/2: iterations from both workers, per-node data, totals equal to the sum of the nodes."}].
raw_amoc_dist_two_workers(Config) ->
    C = cluster(2, 4),
    Workers = live_load_cluster:nodes(C),
    {ok, _} = amoc_dist:do(?EXAMPLE, 4, [{base_url, ?config(url, Config)}, {scenario_duration, 10000},
                                         {clicks, 2}]),
    {ok, R} = live_load_amoc:await_result(?EXAMPLE, 180000),
    _ = amoc_dist:stop(),
    Per = per_node_iterations(R),
    #{<<"run">> := Run} = R,
    ct:pal("raw amoc_dist, 4 users on ~p: per node ~p, run ~p", [Workers, Per, maps:with([<<"iterations">>, <<"users">>], Run)]),
    ?assertEqual(lists:sort([atom_to_binary(W) || W <- Workers]), lists:sort(maps:keys(Per))),
    [?assert(N > 0) || N <- maps:values(Per)],
    #{<<"ok">> := Ok, <<"failed">> := Failed} = maps:get(<<"iterations">>, Run),
    ?assertEqual(Ok + Failed, lists:sum(maps:values(Per))),
    ?assertMatch(#{<<"started">> := 4, <<"target">> := 4}, maps:get(<<"users">>, Run)),
    ?assertEqual(<<"amoc">>, maps:get(<<"engine">>, Run)),
    ?assert(count(R, <<"liveview.event">>) >= 2 * Ok),
    %% the reporters work on it unchanged
    {ok, R} = live_load_result:from_json(iolist_to_binary(live_load_result:to_json(R))),
    _ = iolist_to_binary(live_load_report_markdown:render(R)),
    ok.

settings_errors() ->
    [{doc, "An unknown setting gets amoc's {undefined_parameters, [Key]}; a bad value of a live_load setting carries our {invalid_option, Name, Value}; AMOC_<NAME> from the environment is read."}].
settings_errors(Config) ->
    _ = cluster(1, 1),
    Unknown = amoc_dist:do(?EXAMPLE, 1, [{no_such_setting, 1}]),
    %% a failed do leaves amoc 4.1.0's master disabled: a fresh cluster for the next one
    end_per_testcase(settings_errors, Config),
    C2 = cluster(1, 1),
    Bad = amoc_dist:do(?EXAMPLE, 1, [{users_per_browser, 0}]),
    ct:pal("unknown key: ~p~nbad value: ~p", [Unknown, Bad]),
    ?assert(contains({undefined_parameters, [no_such_setting]}, Unknown)),
    ?assert(contains({invalid_option, users_per_browser, 0}, Bad)),
    %% AMOC_BASE_URL on the worker: parsed as an Erlang term and verified
    [W] = live_load_cluster:nodes(C2),
    true = erpc:call(W, os, putenv, ["AMOC_BASE_URL", "\"http://127.0.0.1:1\""]),
    ?assertEqual({true, <<"http://127.0.0.1:1">>},
                 erpc:call(W, live_load_amoc_settings, verify_base_url,
                           [erpc:call(W, amoc_config_env, get, [base_url, undefined])])),
    %% live_load:run/1 answers the plain reason before anything starts
    ?assertEqual({error, {invalid_option, users_per_browser, 0}},
                 live_load:run(#{scenario => live_load_counter_scenario, distributed => true,
                                 cluster => #{provider => peer, nodes => 1}, users_per_browser => 0})),
    ?assertEqual({error, {missing_option, cluster}},
                 maps:get(live_load_counter_scenario,
                          live_load:run(#{scenario => live_load_counter_scenario, distributed => true, quiet => true}))),
    ok.

live_load_run_distributed() ->
    [{doc, "live_load:run(#{distributed => true, cluster => #{provider => peer, nodes => 2}}) forms the cluster, runs through amoc_dist:do/3, tears it down, and returns a result with both workers' data; a scenario compiled in memory reaches the workers."}].
live_load_run_distributed(Config) ->
    %% compiled in memory only (as the CLI does): pushed to the workers by the engine
    Src = filename:join([?config(root, Config), "scenarios", "live_load_form_scenario.erl"]),
    {ok, M, Bin} = compile:file(Src, [binary, debug_info]),
    {module, M} = code:load_binary(M, Src, Bin),
    Before = nodes(),
    #{M := R} = live_load:run(#{scenario => M, users => 4, scenario_duration => 10000,
                                distributed => true, cluster => #{provider => peer, nodes => 2},
                                base_url => ?config(url, Config), quiet => true}),
    #{<<"run">> := Run} = R,
    Per = per_node_iterations(R),
    ct:pal("live_load:run distributed, 4 users 10 s: per node ~p, run ~p",
           [Per, maps:with([<<"iterations">>, <<"users">>, <<"nodes">>, <<"cluster">>], Run)]),
    ?assertEqual(2, map_size(Per)),
    [?assert(N > 0) || N <- maps:values(Per)],
    ?assertEqual(<<"amoc">>, maps:get(<<"engine">>, Run)),
    ?assertEqual(false, maps:get(<<"interrupted">>, Run)),
    ?assertMatch(#{<<"started">> := 4, <<"failed">> := 0}, maps:get(<<"users">>, Run)),
    #{<<"ok">> := Ok} = maps:get(<<"iterations">>, Run),
    ?assertEqual(Ok, lists:sum(maps:values(Per)) - maps:get(<<"failed">>, maps:get(<<"iterations">>, Run))),
    %% torn down
    timer:sleep(500),
    ?assertEqual([], [N || N <- nodes(), not lists:member(N, Before)]).

data_rows_distinct_across_nodes() ->
    [{doc, "A distributed run with per-user data (#12): 4 users on 2 workers sign in through the demo's /login with their own CSV row; the target sees the 4 accounts, each signing in only as its own user, and both workers ran users."}].
data_rows_distinct_across_nodes(Config) ->
    Users = 4,
    Name = fun(I) -> iolist_to_binary(io_lib:format("user~b", [I])) end,
    Csv = filename:join(?config(priv_dir, Config), "users.csv"),
    ok = file:write_file(Csv, ["username,password\n" |
                               [[Name(I), ",", live_load_demo_login:password(Name(I)), "\n"] || I <- lists:seq(1, Users)]]),
    Src = filename:join([?config(root, Config), "scenarios", "live_load_login_scenario.erl"]),
    {ok, M, Bin} = compile:file(Src, [binary, debug_info]),
    {module, M} = code:load_binary(M, Src, Bin),
    Before = live_load_demo_login:logins(),
    #{M := R} = live_load:run(#{scenario => M, users => Users, scenario_duration => 10000,
                                distributed => true, cluster => #{provider => peer, nodes => 2},
                                data => #{source => Csv}, base_url => ?config(url, Config), quiet => true}),
    After = live_load_demo_login:logins(),
    New = maps:filter(fun(K, V) -> V > maps:get(K, Before, 0) end, After),
    Per = per_node_iterations(R),
    #{<<"ok">> := Ok, <<"failed">> := Failed} = maps:get(<<"iterations">>, maps:get(<<"run">>, R)),
    ct:pal("distributed data run: per node ~p, ~b ok, ~b failed; sign-ins per account ~p; errors ~p",
           [Per, Ok, Failed, New, maps:get(<<"errors">>, R)]),
    ?assertEqual(2, map_size(Per)),
    [?assert(N > 0) || N <- maps:values(Per)],
    ?assertEqual(lists:sort([Name(I) || I <- lists:seq(1, Users)]), lists:sort(maps:keys(New))),
    ?assertEqual(0, Failed),
    %% every sign-in the target saw was an ok iteration: one account per user, never another's
    ?assertEqual(Ok, lists:sum([V - maps:get(K, Before, 0) || {K, V} <- maps:to_list(New)])).

cli_distributed() ->
    [{doc, "bin/live_load run scenarios/live_load_counter_scenario.erl --distributed --nodes 2 writes a result made by amoc on 2 workers."}].
cli_distributed(Config) ->
    Root = ?config(root, Config),
    Json = filename:join(?config(priv_dir, Config), "cli.json"),
    Cmd = lists:flatten(io_lib:format(
                          "cd ~s && ERL_LIBS=~s bin/live_load run scenarios/live_load_counter_scenario.erl "
                          "--distributed --nodes 2 --users 4 --duration 10s --base-url ~s --set clicks=2 "
                          "--json ~s --quiet 2>&1; echo \"exit=$?\"",
                          [Root, os:getenv("ERL_LIBS", ""), ?config(url, Config), Json])),
    Out = os:cmd(Cmd),
    ct:pal("~s", [Out]),
    {ok, Bin} = file:read_file(Json),
    {ok, [R]} = live_load_result:read_results(Bin),
    #{<<"run">> := Run} = R,
    ?assertEqual(<<"amoc">>, maps:get(<<"engine">>, Run)),
    ?assertEqual(2, length(maps:get(<<"nodes">>, Run))),
    ?assertEqual(2, map_size(per_node_iterations(R))),
    [?assert(N > 0) || N <- maps:values(per_node_iterations(R))].

worker_lost_mid_run() ->
    [{doc, "A worker halted mid-run is reported down (with down_at) and keeps its data up to its last pull; the other worker's data is complete and the run finishes."}].
worker_lost_mid_run(Config) ->
    C = cluster(2, 4),
    [W1, W2] = live_load_cluster:nodes(C),
    {ok, _} = amoc_dist:do(?EXAMPLE, 4, [{base_url, ?config(url, Config)}, {scenario_duration, 16000},
                                         {clicks, 2}]),
    Self = self(),
    spawn_link(fun() -> Self ! {awaited, live_load_amoc:await(?EXAMPLE, #{interval_ms => 1000, timeout => 180000})} end),
    wait_iterations(W2, 2, 60000),
    timer:sleep(1500),
    %% what W2 had when it was lost (it keeps running users until the halt)
    AtLoss = erpc:call(W2, live_load_progress, counts, []),
    erpc:cast(W2, erlang, halt, []),
    R = receive {awaited, {ok, Res}} -> Res after 200000 -> ct:fail(no_result) end,
    _ = amoc_dist:stop(),
    Nodes = maps:get(<<"nodes">>, R),
    Entry = fun(W) -> hd([E || #{<<"node">> := N} = E <- Nodes, N =:= atom_to_binary(W)]) end,
    E2 = Entry(W2),
    E1 = Entry(W1),
    Per = per_node_iterations(R),
    ct:pal("W2 lost: its entry ~p~ncounts when lost ~p~nper node ~p",
           [maps:without([<<"metrics">>], E2), AtLoss, Per]),
    ?assertEqual(<<"down">>, maps:get(<<"status">>, E2)),
    ?assert(maps:is_key(<<"down_at">>, E2)),
    ?assertEqual(<<"ok">>, maps:get(<<"status">>, E1)),
    Lost = maps:get(atom_to_binary(W2), Per),
    ?assert(Lost >= 2),
    ?assert(Lost =< maps:get(iterations_ok, AtLoss) + maps:get(iterations_failed, AtLoss)),
    ?assert(maps:get(atom_to_binary(W1), Per) > Lost),
    reliability("a worker node lost mid-run", pass,
                io_lib:format("lost node down with ~b iterations kept (~b when lost), other node ~b, run finished",
                              [Lost, maps:get(iterations_ok, AtLoss) + maps:get(iterations_failed, AtLoss),
                               maps:get(atom_to_binary(W1), Per)])),
    ok.

throttles_across_three_nodes() ->
    [{doc, "Throttles on amoc across 3 workers, 9 callers each: rate 1200/min gives ~20 passes/s cluster-wide, parallelism 2 never has more than 2 holders, a ramp 600 -> 3000/min in 4 steps of 1 s rises from ~10/s to ~50/s."}].
throttles_across_three_nodes(_Config) ->
    C = cluster(3, 27),
    Nodes = live_load_cluster:nodes(C),
    T0 = erlang:system_time(millisecond),
    %% 9 users per node: 3 per throttle (eager callers, so the throttle is what limits)
    {ok, _} = amoc_dist:do(live_load_amoc_runner, 27,
                           [{live_load_scenario, live_load_amoc_throttle_scenario}, {browser, false},
                            {scenario_duration, 6000},
                            {live_load_options, #{config => #{report => self()}}}]),
    {ok, R} = live_load_amoc:await(live_load_amoc_throttle_scenario, #{timeout => 60000}),
    _ = amoc_dist:stop(),
    Msgs = drain([]),
    Passes = fun(Name) -> lists:sort([T - T0 || {pass, N, _, _, T} <- Msgs, N =:= Name]) end,
    Rate = Passes(t_rate),
    RateNodes = lists:usort([Node || {pass, t_rate, Node, _, _} <- Msgs]),
    %% rate: passes in the steady window 1 s .. 5 s
    Steady = length([T || T <- Rate, T >= 1000, T < 5000]) / 4,
    %% parallelism: the most holders at once
    Events = lists:sort([{T, +1} || {pass, t_par, _, _, T} <- Msgs] ++ [{T, -1} || {leave, t_par, _, _, T} <- Msgs]),
    {_, MaxHeld} = lists:foldl(fun({_, D}, {Cur, Max}) -> {Cur + D, max(Max, Cur + D)} end, {0, 0}, Events),
    ParPasses = length(Passes(t_par)),
    %% ramp: plan 10, 20, 30, 40, 50 passes/s in seconds 0..4 (from its first pass)
    Ramp = Passes(t_ramp),
    RampStart = hd(Ramp),
    PerSecond = [length([T || T <- Ramp, T - RampStart >= K * 1000, T - RampStart < (K + 1) * 1000]) || K <- lists:seq(0, 4)],
    ct:pal("3 nodes ~p~nrate 1200/min: ~.1f passes/s steady (plan 20), from nodes ~p~n"
           "parallelism 2 (3 nodes x 3 users, 300 ms holds): max ~b at once, ~b passes in 6 s~n"
           "ramp 600 -> 3000/min, 4 steps of 1 s: per second ~p (plan [10,20,30,40,50])~nrun ~p",
           [Nodes, Steady, RateNodes, MaxHeld, ParPasses, PerSecond,
            maps:with([<<"iterations">>, <<"users">>], maps:get(<<"run">>, R))]),
    ?assertEqual(3, length(RateNodes)),
    ?assert(Steady >= 16 andalso Steady =< 23),
    ?assertEqual(2, MaxHeld),
    ?assert(ParPasses >= 20 andalso ParPasses =< 50),   %% 2 slots x ~6.5 s / 300 ms = 43 at most, +late ends
    [P0, _, _, _, P4] = PerSecond,
    ?assert(P0 >= 6 andalso P0 =< 15),
    ?assert(P4 >= 30 andalso P4 =< 56),
    ?assert(lists:sum(PerSecond) >= 75 andalso lists:sum(PerSecond) =< 170),
    ok.

interrupt_distributed_run() ->
    [{doc, "live_load:stop/0 during a distributed run: users stopped, browsers gone, cluster torn down, partial result with run.interrupted => true, within seconds."}].
interrupt_distributed_run(Config) ->
    Before = nodes(),
    Self = self(),
    spawn_link(fun() ->
                       Self ! {result, live_load:run(#{scenario => live_load_counter_scenario, users => 2,
                                                       scenario_duration => 120000, distributed => true,
                                                       cluster => #{provider => peer, nodes => 2},
                                                       base_url => ?config(url, Config), quiet => true})}
               end),
    Workers = wait_workers(Before, 2, 120000),
    [wait_iterations(W, 1, 90000) || W <- Workers],
    T0 = erlang:monotonic_time(millisecond),
    ok = live_load:stop(),
    R = receive {result, #{live_load_counter_scenario := Res}} -> Res after 60000 -> ct:fail(no_result) end,
    Took = erlang:monotonic_time(millisecond) - T0,
    timer:sleep(500),
    Left = [N || N <- nodes(), not lists:member(N, Before)],
    #{<<"run">> := Run} = R,
    ct:pal("stopped: result in ~p ms; run ~p; nodes left ~p", [Took, maps:with([<<"interrupted">>, <<"users">>, <<"iterations">>], Run), Left]),
    ?assertEqual(true, maps:get(<<"interrupted">>, Run)),
    ?assertMatch(#{<<"stopped">> := 2}, maps:get(<<"users">>, Run)),
    ?assertEqual([], Left),
    ?assert(Took < 20000).

%%% Helpers

root() -> live_load_test_checkout:root().

compile_scenario(Root, Ebin, M) ->
    File = filename:join([Root, "scenarios", atom_to_list(M) ++ ".erl"]),
    {ok, M} = compile:file(File, [debug_info, report, {outdir, Ebin}, {i, filename:join(Root, "include")}]),
    code:purge(M),
    {module, M} = code:load_abs(filename:join(Ebin, atom_to_list(M))).

flush() ->
    receive _ -> flush() after 0 -> ok end.

drain(Acc) ->
    receive M -> drain([M | Acc]) after 0 -> lists:reverse(Acc) end.

count(R, Metric) ->
    case maps:get(<<"metrics">>, R) of
        #{Metric := #{<<"count">> := N}} -> N;
        _ -> 0
    end.

%% #{NodeName => iterations counted there}
per_node_iterations(#{<<"nodes">> := Nodes}) ->
    maps:from_list([{N, maps:get(<<"iterations">>, maps:get(<<"counters">>, E, #{}), 0)}
                    || #{<<"node">> := N} = E <- Nodes]).

contains(T, T) -> true;
contains(T, X) when is_tuple(X) -> contains(T, tuple_to_list(X));
contains(T, [H | R]) -> contains(T, H) orelse contains(T, R);
contains(_, _) -> false.

wait_iterations(Node, N, Ms) when Ms > 0 ->
    case catch erpc:call(Node, live_load_progress, counts, []) of
        #{iterations_ok := Ok, iterations_failed := F} when Ok + F >= N -> ok;
        _ -> timer:sleep(250), wait_iterations(Node, N, Ms - 250)
    end;
wait_iterations(Node, N, _) ->
    ct:fail({no_iterations, Node, N, receive {result, R} -> R after 0 -> no_result_yet end}).

wait_workers(Before, N, Ms) when Ms > 0 ->
    case [X || X <- nodes(), not lists:member(X, Before)] of
        New when length(New) >= N -> New;
        _ -> timer:sleep(250), wait_workers(Before, N, Ms - 250)
    end;
wait_workers(_, N, _) ->
    ct:fail({no_workers, N}).

reliability(Row, Status, What) ->
    File = case os:getenv("RELIABILITY_OUT") of
               false -> filename:join([root(), "_build", "reliability", "rows.tsv"]);
               F -> F
           end,
    ok = filelib:ensure_dir(File),
    ok = file:write_file(File, [Row, $\t, atom_to_list(Status), $\t, What, $\n], [append]).
