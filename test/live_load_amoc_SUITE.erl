%% live_load on a real amoc 4.1: a master (this node) and `peer' worker nodes formed by
%% live_load_cluster, real Chromium users against the demo LiveView target.
%% Needs amoc and telemetry on the code path: `AMOC_LIBS=/path/to/libs make amoc-test', the
%% directory holding amoc-4.1.0/ebin and telemetry-1.3.0/ebin (guides/distributed.md);
%% without them every case is skipped with the reason.
%% The cases named after a guide example run that example as written in
%% guides/distributed.md (only the target's URL differs).
-module(live_load_amoc_SUITE).
-include_lib("common_test/include/ct.hrl").
-include_lib("eunit/include/eunit.hrl").
-compile([export_all, nowarn_export_all]).

-define(EXAMPLE, live_load_counter_amoc).

all() ->
    [engine_amoc_on_this_node, raw_amoc_dist_recipe, raw_runner_recipe, settings_errors,
     live_load_run_distributed, calibrated_plan, cli_distributed, worker_killed_mid_run, throttles_across_three_nodes, ramp_joined_by_late_node,
     interrupt_distributed_run, data_rows_distinct_across_nodes].

suite() ->
    [{timetrap, {minutes, 8}}].

init_per_suite(Config) ->
    case {code:which(amoc), os:find_executable("chromium")} of
        {non_existing, _} ->
            {skip, "amoc is not on the code path (code:which(amoc) =:= non_existing): run "
                   "AMOC_LIBS=/path/to/libs make amoc-test, the directory holding "
                   "amoc-4.1.0/ebin and telemetry-1.3.0/ebin (guides/distributed.md)"};
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
    [{doc, "Guide example: live_load:run(#{scenario => live_load_counter_amoc, engine => amoc, ...}) runs the example amoc scenario with amoc:do/3 on this node; its own setting `clicks' (a -required_variable amoc never collected for the generic runner) reaches config/1: one LiveView event per iteration, not the default three."}].
engine_amoc_on_this_node(Config) ->
    Url = ?config(url, Config),
    %% as in guides/distributed.md, "live_load:run/1 on amoc"
    #{live_load_counter_amoc := R} =
        live_load:run(#{scenario => live_load_counter_amoc, engine => amoc, users => 2,
                        scenario_duration => 8000, base_url => Url, clicks => 1, quiet => true}),
    #{<<"run">> := Run, <<"nodes">> := Nodes} = R,
    ct:pal("engine amoc, 2 users 8 s: run ~p, events ~b",
           [maps:with([<<"iterations">>, <<"users">>, <<"engine">>, <<"nodes">>], Run), count(R, <<"liveview.event">>)]),
    ?assertEqual(<<"amoc">>, maps:get(<<"engine">>, Run)),
    ?assertEqual([atom_to_binary(node())], [N || #{<<"node">> := N} <- Nodes]),
    #{<<"ok">> := Ok, <<"failed">> := 0} = maps:get(<<"iterations">>, Run),
    ?assert(Ok >= 2),
    ?assertMatch(#{<<"target">> := 2, <<"started">> := 2, <<"failed">> := 0}, maps:get(<<"users">>, Run)),
    one_click_per_iteration(R).

raw_amoc_dist_recipe() ->
    [{doc, "Guide example, the raw recipe as written: on a master with 2 peer workers, amoc_code_server:add_module/1, amoc_dist:do(live_load_counter_amoc, 4, [{base_url, Url}, {scenario_duration, 10000}, {clicks, 2}]), live_load_amoc:await_result/2, the JSON written: iterations from both workers, per-node data, totals equal to the sum of the nodes."}].
raw_amoc_dist_recipe(Config) ->
    C = cluster(2, 4),
    Workers = live_load_cluster:nodes(C),
    Url = ?config(url, Config),
    Json = filename:join(?config(priv_dir, Config), "result.json"),
    %% the recipe of guides/distributed.md
    {module, _} = code:ensure_loaded(live_load_counter_amoc),
    ok = amoc_code_server:add_module(live_load_counter_amoc),
    {ok, _} = amoc_dist:do(live_load_counter_amoc, 4, [{base_url, Url}, {scenario_duration, 10000}, {clicks, 2}]),
    {ok, Result} = live_load_amoc:await_result(live_load_counter_amoc, 120000),
    ok = file:write_file(Json, live_load_result:to_json(Result)),
    _ = amoc_dist:stop(),
    R = Result,
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
    {ok, Bin} = file:read_file(Json),
    {ok, R} = live_load_result:from_json(Bin),
    _ = iolist_to_binary(live_load_report_markdown:render(R)),
    ok.

raw_runner_recipe() ->
    [{doc, "Guide example: a scenario through the generic runner, amoc_dist:do(live_load_amoc_runner, 2, [{live_load_scenario, live_load_counter_amoc}, {base_url, Url}, {scenario_duration, 6000}, {live_load_options, #{config => #{clicks => 1}}}]): the scenario's own setting clicks, which amoc does not collect for the runner, comes from the config map (one event per iteration)."}].
raw_runner_recipe(Config) ->
    _ = cluster(1, 2),
    Url = ?config(url, Config),
    {ok, _} = amoc_dist:do(live_load_amoc_runner, 2, [{live_load_scenario, live_load_counter_amoc},
                                                      {base_url, Url}, {scenario_duration, 6000},
                                                      {live_load_options, #{config => #{clicks => 1}}}]),
    {ok, R} = live_load_amoc:await_result(live_load_counter_amoc, 120000),
    _ = amoc_dist:stop(),
    #{<<"run">> := Run} = R,
    ct:pal("runner, 2 users 6 s: run ~p, events ~b",
           [maps:with([<<"iterations">>, <<"users">>], Run), count(R, <<"liveview.event">>)]),
    ?assertMatch(#{<<"started">> := 2, <<"failed">> := 0}, maps:get(<<"users">>, Run)),
    #{<<"ok">> := Ok} = maps:get(<<"iterations">>, Run),
    ?assert(Ok >= 1),
    one_click_per_iteration(R).

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
    [{doc, "Guide example: live_load:run(#{scenario => live_load_counter_amoc, users => 5, distributed => true, cluster => #{provider => peer, users_per_node => 3}, clicks => 1, ...}) forms 2 workers, gives them the plan's unequal shares (3 and 2 users, by amoc_dist:add/2 per node), tears the cluster down, and the result has both workers' data and the scenario's own setting applied."}].
live_load_run_distributed(Config) ->
    Url = ?config(url, Config),
    Before = nodes(),
    %% as in guides/distributed.md
    #{live_load_counter_amoc := R} =
        live_load:run(#{scenario => live_load_counter_amoc, users => 5, scenario_duration => 10000,
                        distributed => true, cluster => #{provider => peer, users_per_node => 3},
                        base_url => Url, clicks => 1, quiet => true}),
    #{<<"run">> := Run} = R,
    Per = per_node_iterations(R),
    Started = per_node_counter(R, <<"users.started">>),
    #{<<"users_per_node">> := Plan} = Cluster = maps:get(<<"cluster">>, Run),
    ct:pal("live_load:run distributed, 5 users 10 s, users_per_node 3: plan ~p~nusers started per node ~p, "
           "iterations per node ~p~nrun ~p",
           [Cluster, Started, Per, maps:with([<<"iterations">>, <<"users">>, <<"nodes">>], Run)]),
    ?assertEqual([2, 3], lists:sort(maps:values(Plan))),
    %% the plan applied, not amoc's even split (which would be 3 and 2 by position, or 2 and 3)
    ?assertEqual(Plan, Started),
    ?assertEqual(2, map_size(Per)),
    [?assert(N > 0) || N <- maps:values(Per)],
    ?assertEqual(<<"amoc">>, maps:get(<<"engine">>, Run)),
    ?assertEqual(false, maps:get(<<"interrupted">>, Run)),
    ?assertMatch(#{<<"started">> := 5, <<"failed">> := 0}, maps:get(<<"users">>, Run)),
    #{<<"ok">> := Ok} = maps:get(<<"iterations">>, Run),
    ?assertEqual(Ok, lists:sum(maps:values(Per)) - maps:get(<<"failed">>, maps:get(<<"iterations">>, Run))),
    one_click_per_iteration(R),
    %% torn down
    timer:sleep(500),
    ?assertEqual([], [N || N <- nodes(), not lists:member(N, Before)]).

calibrated_plan() ->
    [{doc, "Guide example: cluster => #{provider => peer, calibrate => true} (2 users for 15 s) measures the cost of one user on the first worker (the scenario run there by the local engine, CPU and PSS of that worker's process tree) and plans from it; the plan (why, capacity, the calibration) is in run.cluster, and the run uses the worker."}].
calibrated_plan(Config) ->
    Url = ?config(url, Config),
    #{live_load_counter_amoc := R} =
        live_load:run(#{scenario => live_load_counter_amoc, users => 2, scenario_duration => 8000,
                        distributed => true,
                        cluster => #{provider => peer, calibrate => true},
                        base_url => Url, clicks => 1, quiet => true}),
    #{<<"run">> := Run} = R,
    #{<<"why">> := Why, <<"calibration">> := Cal, <<"capacity">> := Cap,
      <<"users_per_node">> := Split, <<"formation_ms">> := Ms} = maps:get(<<"cluster">>, Run),
    ct:pal("calibrated plan, formed in ~b ms: ~ts~ncalibration ~p~ncapacity ~p, split ~p~nrun ~p",
           [Ms, Why, Cal, Cap, Split, maps:with([<<"iterations">>, <<"users">>], Run)]),
    ?assertMatch(<<"cost calibrated on live_load_w1_", _/binary>>, Why),
    ?assertMatch({_, _}, binary:match(Why, <<"sized from the cost of one user">>)),
    #{<<"cpu_ms_per_iteration">> := CpuMs, <<"pss_mb_per_user">> := Pss, <<"iterations">> := CalIt} = Cal,
    ?assert(CalIt >= 1),
    ?assert(CpuMs > 0),
    %% a worker BEAM with one Chromium per 8 users: tens of MB per user at least
    ?assert(Pss > 20),
    [{Node, 2}] = maps:to_list(Split),
    ?assert(is_integer(maps:get(Node, Cap))),
    ?assertMatch(#{<<"started">> := 2}, maps:get(<<"users">>, Run)),
    ?assert(maps:get(<<"ok">>, maps:get(<<"iterations">>, Run)) >= 1).

cli_distributed() ->
    [{doc, "Guide example: bin/live_load run scenarios/live_load_counter_amoc.erl --distributed --nodes 2 --set clicks=1 prints the plan before the run and writes a result made by amoc on 2 workers, with the scenario's own setting applied (the module compiled in memory by the CLI and pushed to the workers)."}].
cli_distributed(Config) ->
    Root = ?config(root, Config),
    Json = filename:join(?config(priv_dir, Config), "cli.json"),
    Cmd = lists:flatten(io_lib:format(
                          "cd ~s && ERL_LIBS=~s bin/live_load run scenarios/live_load_counter_amoc.erl "
                          "--distributed --nodes 2 --users 4 --duration 8s --base-url ~s --set clicks=1 "
                          "--json ~s 2>&1; echo \"exit=$?\"",
                          [Root, os:getenv("ERL_LIBS", ""), ?config(url, Config), Json])),
    Out = os:cmd(Cmd),
    ct:pal("~s", [Out]),
    ?assertMatch({match, _}, re:run(Out, "exit=0")),
    %% the plan, printed before the run starts (before the first progress line)
    {PlanAt, _} = binary:match(list_to_binary(Out), <<"cluster plan: 2 node(s), 4 users">>),
    case re:run(Out, "users [0-9]+/4", [{capture, first, index}]) of
        {match, [{ProgressAt, _}]} -> ?assert(PlanAt < ProgressAt);
        nomatch -> ok
    end,
    {ok, Bin} = file:read_file(Json),
    {ok, [R]} = live_load_result:read_results(Bin),
    #{<<"run">> := Run} = R,
    ?assertEqual(<<"amoc">>, maps:get(<<"engine">>, Run)),
    ?assertEqual(2, length(maps:get(<<"nodes">>, Run))),
    ?assertEqual(2, map_size(per_node_iterations(R))),
    [?assert(N > 0) || N <- maps:values(per_node_iterations(R))],
    one_click_per_iteration(R).

worker_killed_mid_run() ->
    [{doc, "live_load:run(#{distributed => true, ...}) while one worker's OS process gets kill -9: that node is down in nodes with its down_at and its data up to the last pull, the other node's data is complete, the run finishes with a result, and the teardown is clean: no worker node left, the killed worker's port programs (and their Chromium) gone."}].
worker_killed_mid_run(Config) ->
    Before = nodes(),
    Self = self(),
    spawn_link(fun() ->
                       Self ! {result, live_load:run(#{scenario => ?EXAMPLE, users => 4, scenario_duration => 20000,
                                                       distributed => true, cluster => #{provider => peer, nodes => 2},
                                                       base_url => ?config(url, Config), clicks => 1, quiet => true})}
               end),
    [_, _] = Workers = wait_workers(Before, 2, 120000),
    [wait_iterations(W, 2, 90000) || W <- Workers],
    [W1, W2] = lists:sort(Workers),
    %% at least one pull (every 5 s) after W2's first 2 iterations
    timer:sleep(6000),
    OsPid = erpc:call(W2, os, getpid, []),
    Below = descendants(OsPid),
    %% its browser port programs (and their Chromium) run below it
    ?assertNotEqual([], [P || P <- Below, string:find(cmdline(P), "live_load_browser") =/= nomatch]),
    AtKill = erpc:call(W2, live_load_progress, counts, []),
    KilledAt = erlang:system_time(millisecond),
    [] = os:cmd("kill -9 " ++ OsPid),
    R = receive {result, #{?EXAMPLE := Res}} -> Res after 200000 -> ct:fail(no_result) end,
    Nodes = maps:get(<<"nodes">>, R),
    Entry = fun(W) -> hd([E || #{<<"node">> := N} = E <- Nodes, N =:= atom_to_binary(W)]) end,
    E1 = Entry(W1),
    E2 = Entry(W2),
    Per = per_node_iterations(R),
    Kept = maps:get(atom_to_binary(W2), Per),
    Done = maps:get(iterations_ok, AtKill) + maps:get(iterations_failed, AtKill),
    ct:pal("W2 killed (kill -9 ~s): its entry ~p~ncounts just before the kill ~p~nper node ~p~nrun ~p",
           [OsPid, maps:without([<<"metrics">>], E2), AtKill, Per,
            maps:with([<<"iterations">>, <<"users">>, <<"interrupted">>], maps:get(<<"run">>, R))]),
    ?assertEqual(<<"down">>, maps:get(<<"status">>, E2)),
    {ok, DownAt} = calendar_ms(maps:get(<<"down_at">>, E2)),
    ?assert(DownAt >= KilledAt - 1000),
    ?assertEqual(<<"ok">>, maps:get(<<"status">>, E1)),
    %% its data up to the last pull: a pull came after its first 2 iterations, none after the
    %% kill (one iteration may end between the count and the kill)
    ?assert(Kept >= 2),
    ?assert(Kept =< Done + 1),
    ?assert(maps:get(atom_to_binary(W1), Per) > 0),
    %% teardown: no worker node left, nothing of the killed worker still running
    timer:sleep(500),
    ?assertEqual([], [N || N <- nodes(), not lists:member(N, Before)]),
    ok = wait_gone(Below, 20000),
    reliability("a worker node lost mid-run", pass,
                io_lib:format("live_load:run on 2 peers, one killed (kill -9): down with ~b iterations kept, "
                              "other node ~b, run finished, its ~b child processes gone",
                              [Kept, maps:get(atom_to_binary(W1), Per), length(Below)])),
    ok.

throttles_across_three_nodes() ->
    [{doc, "Throttles on amoc across 3 workers, 3 callers per throttle per node: rate 1200/min gives ~20 passes/s cluster-wide, interarrival 100 ms ~10/s, parallelism 2 never has more than 2 holders, a ramp 600 -> 3000/min in 4 steps of 1 s rises from ~10/s to ~50/s."}].
throttles_across_three_nodes(_Config) ->
    C = cluster(3, 36),
    Nodes = live_load_cluster:nodes(C),
    T0 = erlang:system_time(millisecond),
    %% 12 users per node: 3 per throttle (eager callers, so the throttle is what limits)
    {ok, _} = amoc_dist:do(live_load_amoc_runner, 36,
                           [{live_load_scenario, live_load_amoc_throttle_scenario}, {browser, false},
                            {scenario_duration, 6000},
                            {live_load_options, #{config => #{report => self()}}}]),
    {ok, R} = live_load_amoc:await(live_load_amoc_throttle_scenario, #{timeout => 60000}),
    _ = amoc_dist:stop(),
    Msgs = drain([]),
    Passes = fun(Name) -> lists:sort([T - T0 || {pass, N, _, _, T} <- Msgs, N =:= Name]) end,
    From = fun(Name) -> lists:usort([Node || {pass, N, Node, _, _} <- Msgs, N =:= Name]) end,
    %% rate and interarrival: passes in the steady window 1 s .. 5 s
    Steady = fun(Name) -> length([T || T <- Passes(Name), T >= 1000, T < 5000]) / 4 end,
    Rate = Steady(t_rate),
    Ia = Steady(t_ia),
    %% parallelism: the most holders at once
    Events = lists:sort([{T, +1} || {pass, t_par, _, _, T} <- Msgs] ++ [{T, -1} || {leave, t_par, _, _, T} <- Msgs]),
    {_, MaxHeld} = lists:foldl(fun({_, D}, {Cur, Max}) -> {Cur + D, max(Max, Cur + D)} end, {0, 0}, Events),
    ParPasses = length(Passes(t_par)),
    %% ramp: plan 10, 20, 30, 40, 50 passes/s in seconds 0..4 (from its first pass)
    Ramp = Passes(t_ramp),
    RampStart = hd(Ramp),
    PerSecond = [length([T || T <- Ramp, T - RampStart >= K * 1000, T - RampStart < (K + 1) * 1000]) || K <- lists:seq(0, 4)],
    ct:pal("3 nodes ~p~nrate 1200/min: ~.1f passes/s steady (plan 20)~ninterarrival 100 ms: ~.1f passes/s steady (plan 10)~n"
           "parallelism 2 (3 nodes x 3 users, 300 ms holds): max ~b at once, ~b passes in 6 s~n"
           "ramp 600 -> 3000/min, 4 steps of 1 s: per second ~p (plan [10,20,30,40,50])~nrun ~p",
           [Nodes, Rate, Ia, MaxHeld, ParPasses, PerSecond,
            maps:with([<<"iterations">>, <<"users">>], maps:get(<<"run">>, R))]),
    [?assertEqual(Nodes -- From(N), []) || N <- [t_rate, t_ia, t_par, t_ramp]],
    ?assert(Rate >= 16 andalso Rate =< 23),
    ?assert(Ia >= 8 andalso Ia =< 11.5),
    ?assertEqual(2, MaxHeld),
    ?assert(ParPasses >= 20 andalso ParPasses =< 50),   %% 2 slots x ~6.5 s / 300 ms = 43 at most, +late ends
    [P0, _, _, _, P4] = PerSecond,
    ?assert(P0 >= 6 andalso P0 =< 15),
    ?assert(P4 >= 30 andalso P4 =< 56),
    ?assert(lists:sum(PerSecond) >= 75 andalso lists:sum(PerSecond) =< 170),
    ok.

ramp_joined_by_late_node() ->
    [{doc, "Ramped throttles start once cluster-wide: the second worker's init/0 comes 1.5 s after the first's, after the ramps' first step moved their rates, and joins them (amoc 4.1 alone answers wrong_reconfiguration); the rates are exact (100/min -> 3000/min as 2 -> 60 per 1200 ms; interarrival 1000 -> 100 ms as 1 -> 10 per 1000 ms), both nodes pass both throttles, and another spec under a started name is refused."}].
ramp_joined_by_late_node(_Config) ->
    C = cluster(2, 4),
    [W1, W2] = live_load_cluster:nodes(C),
    Specs = [live_load_throttle:ramp(live_load_throttle:rate(t_rr, 100), 3000, #{steps => 3, interval => 1000}),
             live_load_throttle:ramp(live_load_throttle:interarrival(t_ri, 1000), 100, #{steps => 3, interval => 1000})],
    ?assertMatch({ok, #{rate := 2, interval := 1200},
                  #{throttle := #{from_rate := 2, to_rate := 60, interval := 1200},
                    plan := #{step_count := 3, step_interval := 1000}}},
                 live_load_throttle_amoc:config(hd(Specs))),
    Settings = [{live_load_scenario, live_load_amoc_throttle_scenario}, {browser, false},
                {scenario_duration, 4000},
                {live_load_options, #{config => #{report => self(), throttles => Specs, names => [t_rr, t_ri],
                                                  init_delay => #{W2 => 1500}}}}],
    T0 = erlang:monotonic_time(millisecond),
    Do = amoc_dist:do(live_load_amoc_runner, 4, Settings),
    InitMs = erlang:monotonic_time(millisecond) - T0,
    ct:pal("amoc_dist:do with the second init 1.5 s late: ~p after ~b ms", [Do, InitMs]),
    ?assertMatch({ok, _}, Do),
    ?assert(InitMs >= 1500),
    %% another spec under a started name: refused, naming what runs
    ?assertMatch({error, {amoc_throttle, t_rr, {already_started_as, #{rate := 100}}}},
                 erpc:call(W1, live_load_throttle_amoc, start, [live_load_throttle:rate(t_rr, 50)])),
    {ok, R} = live_load_amoc:await(live_load_amoc_throttle_scenario, #{timeout => 60000}),
    %% the plans are over (3 steps of 1 s): amoc holds the exact end rates
    Info = [maps:with([rate, interval], amoc_throttle_controller:get_info(N)) || N <- [t_rr, t_ri]],
    _ = amoc_dist:stop(),
    Msgs = drain([]),
    Pairs = lists:usort([{N, Node} || {pass, N, Node, _, _} <- Msgs]),
    ct:pal("end rates ~p~npasses by throttle and node ~p~nrun ~p",
           [Info, [{P, length([x || {pass, N, Node, _, _} <- Msgs, {N, Node} =:= P])} || P <- Pairs],
            maps:with([<<"iterations">>, <<"users">>], maps:get(<<"run">>, R))]),
    ?assertEqual([#{rate => 60, interval => 1200}, #{rate => 10, interval => 1000}], Info),
    ?assertEqual(lists:sort([{N, W} || N <- [t_rr, t_ri], W <- [W1, W2]]), Pairs),
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
    #{M := R} = live_load:run(#{scenario => M, users => Users, scenario_duration => 15000,
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

%% #{NodeName => the node's total of Counter}
per_node_counter(#{<<"nodes">> := Nodes}, Counter) ->
    maps:from_list([{N, maps:get(Counter, maps:get(<<"counters">>, E, #{}), 0)} || #{<<"node">> := N} = E <- Nodes]).

%% `clicks => 1' reached the scenario's config/1 (its default is 3): one LiveView event per ok
%% iteration, and at most one more per failed iteration or user cut at its deadline.
one_click_per_iteration(R) ->
    #{<<"run">> := #{<<"iterations">> := #{<<"ok">> := Ok, <<"failed">> := Failed},
                     <<"users">> := #{<<"started">> := Users}}} = R,
    Events = count(R, <<"liveview.event">>),
    ?assert(Events >= Ok),
    ?assert(Events =< Ok + Failed + Users).

%% The OS pids below OsPid (children, grandchildren, ...), from /proc.
descendants(OsPid) ->
    Parent = fun(P) ->
                     case file:read_file("/proc/" ++ P ++ "/stat") of
                         {ok, B} ->
                             [_, After] = string:split(binary_to_list(B), ")", trailing),
                             lists:nth(2, string:lexemes(After, " "));
                         _ -> none
                     end
             end,
    {ok, All} = file:list_dir("/proc"),
    Pids = [P || P <- All, lists:all(fun(C) -> C >= $0 andalso C =< $9 end, P)],
    Pairs = [{P, Parent(P)} || P <- Pids],
    descend([OsPid], Pairs, []).

descend([], _Pairs, Acc) -> Acc;
descend([P | Rest], Pairs, Acc) ->
    Kids = [K || {K, Pp} <- Pairs, Pp =:= P],
    descend(Kids ++ Rest, Pairs, Kids ++ Acc).

cmdline(P) ->
    case file:read_file("/proc/" ++ P ++ "/cmdline") of
        {ok, B} -> binary_to_list(binary:replace(B, <<0>>, <<" ">>, [global]));
        _ -> ""
    end.

wait_gone(Pids, Ms) ->
    case [P || P <- Pids, filelib:is_dir("/proc/" ++ P)] of
        [] -> ok;
        Left when Ms =< 0 -> {still_running, [{P, cmdline(P)} || P <- Left]};
        _ -> timer:sleep(250), wait_gone(Pids, Ms - 250)
    end.

calendar_ms(Iso) ->
    try {ok, calendar:rfc3339_to_system_time(binary_to_list(Iso), [{unit, millisecond}])}
    catch _:_ -> error
    end.

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
