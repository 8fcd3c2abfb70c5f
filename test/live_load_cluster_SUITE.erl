%% The cluster a distributed run forms (live_load_cluster) and the collector on a cluster
%% (live_load_collector:start_pulling/stop_pulling), against real parts: OTP `peer' nodes, a
%% real `sshd' on 127.0.0.1 started by the suite with its own keys, and real amoc 4.1.0 when
%% it is on the code path (ERL_LIBS=/path/to/libs, the directory holding amoc-4.1.0/ebin and
%% telemetry-1.3.0/ebin); the amoc cases skip without it (`make amoc-test' runs them).
-module(live_load_cluster_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, groups/0, suite/0, init_per_suite/1, end_per_suite/1,
         init_per_group/2, end_per_group/2, init_per_testcase/2, end_per_testcase/2]).
-export([bad_options/1, cli_cluster_flags/1, sizing_plans/1, formation_and_teardown/1, dead_node_named/1,
         boot_timeout_named/1, push_to_bare_node/1,
         sized_from_node_facts/1, measured_cost/1, guide_size_example/1,
         ssh_provider/1, ssh_refused_named/1, ssh_amoc_run/1, pulls_keep_lost_node/1, runs_do_not_mix/1,
         amoc_join/1, amoc_join_pushed/1, amoc_join_timeout_named/1]).

-define(METRIC, <<"liveview.event">>).

suite() ->
    [{timetrap, {minutes, 5}}].

all() ->
    [bad_options, cli_cluster_flags, sizing_plans, guide_size_example, formation_and_teardown,
     dead_node_named, boot_timeout_named, push_to_bare_node, sized_from_node_facts, measured_cost, pulls_keep_lost_node, runs_do_not_mix,
     {group, ssh}, {group, amoc}].

groups() ->
    [{ssh, [], [ssh_provider, ssh_refused_named, ssh_amoc_run]},
     {amoc, [], [amoc_join, amoc_join_pushed, amoc_join_timeout_named]}].

init_per_suite(Config) ->
    ok = distributed(20),
    {ok, _} = application:ensure_all_started(live_load),
    Config.

end_per_suite(_Config) ->
    ok.

init_per_group(ssh, Config) ->
    case start_sshd(?config(priv_dir, Config)) of
        {ok, Sshd} -> [{sshd, Sshd} | Config];
        {skip, _} = Skip -> Skip
    end;
init_per_group(amoc, Config) ->
    case code:which(amoc) of
        non_existing -> {skip, "amoc is not on the code path: the amoc join is not tested (run "
                               "AMOC_LIBS=/path/to/libs make amoc-test, the directory holding "
                               "amoc-4.1.0/ebin and telemetry-1.3.0/ebin)"};
        _ -> Config
    end.

end_per_group(ssh, Config) ->
    stop_sshd(?config(sshd, Config));
end_per_group(_, _Config) ->
    ok.

init_per_testcase(_Case, Config) ->
    ok = live_load_metrics:reset(),
    Config.

end_per_testcase(_Case, _Config) ->
    ok.

%%% Cases

bad_options(_Config) ->
    ct:comment("every bad cluster option is named: {invalid_option, {cluster, Key}, Value}"),
    Bad = [{#{provider => k8s}, provider, k8s},
           {#{nodes => 0}, nodes, 0},
           {#{provider => ssh}, hosts, undefined},
           {#{provider => nodes}, nodes, undefined},
           {#{provider => nodes, nodes => ["no-at-sign"]}, nodes, ["no-at-sign"]},
           {#{provider => nodes, nodes => [<<"a@b c">>]}, nodes, [<<"a@b c">>]},
           {#{provider => ssh, hosts => ["h;rm -rf /"]}, hosts, ["h;rm -rf /"]},
           {#{users_per_node => -1}, users_per_node, -1},
           {#{cost => #{cpu_ms_per_iteration => 10}}, cost, #{cpu_ms_per_iteration => 10}},
           {#{headroom => 1.5}, headroom, 1.5},
           {#{code => ftp}, code, ftp},
           {#{amoc => maybe}, amoc, maybe},
           {#{join_timeout => 0}, join_timeout, 0},
           {#{ssh => #{port => 0}}, ssh, #{port => 0}},
           {#{calibrate => maybe}, calibrate, maybe},
           {#{calibrate => #{users => 0}}, calibrate, #{users => 0}},
           {#{calibrate => #{users => 2, seconds => 5}}, calibrate, #{users => 2, seconds => 5}},
           %% a calibration measures the cost: not with one given, nor with a fixed share
           {#{calibrate => true, cost => #{cpu_ms_per_iteration => 1, iteration_ms => 1, pss_mb_per_user => 1}},
            calibrate, true},
           {#{calibrate => true, users_per_node => 4}, calibrate, true},
           {#{colour => red}, colour, red}],
    [?assertEqual({error, {invalid_option, {cluster, K}, V}}, live_load_cluster:validate(O))
     || {O, K, V} <- Bad],
    ?assertEqual({error, {invalid_option, cluster, [x]}}, live_load_cluster:validate([x])),
    [?assertEqual(ok, live_load_cluster:validate(O))
     || O <- [#{}, #{provider => peer, nodes => 4}, #{provider => ssh, hosts => [<<"10.0.0.1">>, "b.example"]},
              #{provider => nodes, hosts => [<<"w1@box">>]},
              #{cost => #{cpu_ms_per_iteration => 300, iteration_ms => 1200, pss_mb_per_user => 150}},
              #{calibrate => true, nodes => 2}, #{calibrate => #{duration => 5000}}, #{calibrate => false}]],
    ?assertEqual({error, {invalid_option, {cluster, nodes}, 0}},
                 live_load_cluster:start(#{nodes => 0}, #{users => 1})),
    %% a calibration needs a run to measure (the engine gives one)
    ?assertEqual({error, {invalid_option, {cluster, calibrate}, no_calibration_run}},
                 live_load_cluster:start(#{calibrate => true}, #{users => 1})).

cli_cluster_flags(_Config) ->
    ct:comment("the CLI's cluster flags become the cluster options (--calibrate takes no value)"),
    {ok, #{opts := Opts}} = live_load_cli:parse(["run", "s.erl", "--distributed", "--calibrate",
                                                 "--provider", "ssh", "--hosts", "h1,h2", "--nodes", "3"]),
    ?assertMatch(#{distributed := true,
                   cluster := #{calibrate := true, provider := ssh, hosts := [<<"h1">>, <<"h2">>], nodes := 3}},
                 Opts),
    ?assertEqual(ok, live_load_cluster:validate(maps:get(cluster, Opts))),
    ?assertEqual({error, {invalid_option, "--nodes", "0"}}, live_load_cli:parse(["run", "s.erl", "--nodes", "0"])).

sizing_plans(_Config) ->
    ct:comment("the pure sizing rule: users_per_node, nodes, cost against each machine, overload"),
    Facts = [#{node => 'a@m1', cores => 8, memory_mb => 16000, machine => <<"m1">>},
             #{node => 'b@m2', cores => 4, memory_mb => 16000, machine => <<"m2">>},
             #{node => 'c@m3', cores => 2, memory_mb => 1000, machine => <<"m3">>}],
    %% users_per_node: ceil(25 / 10) = 3 nodes, the last takes the rest
    {ok, P1} = live_load_cluster:size(#{users_per_node => 10}, 25, Facts),
    ?assertEqual(['a@m1', 'b@m2', 'c@m3'], maps:get(nodes, P1)),
    ?assertEqual(#{'a@m1' => 10, 'b@m2' => 10, 'c@m3' => 5}, maps:get(users_per_node, P1)),
    ?assertMatch(<<"users_per_node = 10: ceil(25 / 10) = 3 node(s)", _/binary>>, maps:get(why, P1)),
    ?assertEqual({error, {cluster_too_small, #{needed => 4, available => 3}}},
                 live_load_cluster:size(#{users_per_node => 10}, 31, Facts)),
    %% nodes given: even split, remainder to the first
    {ok, P2} = live_load_cluster:size(#{nodes => 2}, 7, Facts),
    ?assertEqual(#{'a@m1' => 4, 'b@m2' => 3}, maps:get(users_per_node, P2)),
    %% cost: 100 CPU ms per 1000 ms iteration = 0.1 core, 100 MB; headroom 0.5
    %% m1: min(8*0.5/0.1 = 40, 16000*0.5/100 = 80) = 40; m2: 20; m3: min(10, 5) = 5
    Cost = #{cost => #{cpu_ms_per_iteration => 100, iteration_ms => 1000, pss_mb_per_user => 100},
             headroom => 0.5},
    {ok, P3} = live_load_cluster:size(Cost, 30, Facts),
    ?assertEqual(#{'a@m1' => 40}, maps:get(capacity, P3)),
    ?assertEqual(#{'a@m1' => 30}, maps:get(users_per_node, P3)),
    {ok, P4} = live_load_cluster:size(Cost, 50, Facts),
    ?assertEqual(['a@m1', 'b@m2'], maps:get(nodes, P4)),
    %% in proportion to capacity 40:20
    ?assertEqual(#{'a@m1' => 33, 'b@m2' => 17}, maps:get(users_per_node, P4)),
    {ok, P5} = live_load_cluster:size(Cost, 130, Facts),
    ?assertEqual(130, lists:sum(maps:values(maps:get(users_per_node, P5)))),
    ?assertMatch({_, _}, binary:match(maps:get(why, P5), <<"capacity 65 is short of 130 users">>)),
    ?assertMatch({_, _}, binary:match(maps:get(why, P5), <<"over capacity">>)),
    %% nodes => N with a cost: exactly N nodes, split by capacity, and the cost's own choice said
    {ok, P7} = live_load_cluster:size(Cost#{nodes => 2}, 30, Facts),
    ?assertEqual(#{'a@m1' => 20, 'b@m2' => 10}, maps:get(users_per_node, P7)),
    ?assertMatch({_, _}, binary:match(maps:get(why, P7), <<"split in proportion to capacity">>)),
    ?assertMatch({_, _}, binary:match(maps:get(why, P7), <<"the cost alone would use 1 node(s)">>)),
    {ok, P8} = live_load_cluster:size(Cost#{nodes => 2}, 70, Facts),
    ?assertMatch({_, _}, binary:match(maps:get(why, P8), <<"the cost alone would use more than 2 node(s)">>)),
    ?assertMatch({_, _}, binary:match(maps:get(why, P8), <<"over capacity">>)),
    %% two nodes on one machine share its capacity
    Shared = [#{node => 'x@m1', cores => 8, memory_mb => 16000, machine => <<"m1">>},
              #{node => 'y@m1', cores => 8, memory_mb => 16000, machine => <<"m1">>}],
    {ok, P6} = live_load_cluster:size(Cost#{nodes => 2}, 10, Shared),
    ?assertEqual(#{'x@m1' => 20, 'y@m1' => 20}, maps:get(capacity, P6)),
    ?assertEqual(#{'x@m1' => 5, 'y@m1' => 5}, maps:get(users_per_node, P6)),
    Text = iolist_to_binary(live_load_cluster:format_plan(P4)),
    ct:log("~ts", [Text]),
    ?assertMatch({_, _}, binary:match(Text, <<"cluster plan: 2 node(s), 50 users">>)),
    ?assertMatch({_, _}, binary:match(Text, <<"a@m1">>)),
    ?assertMatch({error, {invalid_option, node_facts, _}}, live_load_cluster:size(#{}, 5, [#{node => x}])),
    ?assertEqual({error, {invalid_option, users, 0}}, live_load_cluster:size(#{}, 0, Facts)).

formation_and_teardown(_Config) ->
    ct:comment("the guide's live_load_cluster example: 3 peer nodes formed with live_load running "
               "on each, the plan printed; stop leaves no node behind"),
    %% as in guides/distributed.md, "Cluster providers and sizing"
    {ok, C} = live_load_cluster:start(#{provider => peer, nodes => 3, amoc => false}, #{users => 9}),
    Printed = iolist_to_binary(live_load_cluster:format_plan(live_load_cluster:plan(C))),
    Nodes = live_load_cluster:nodes(C),
    Plan = live_load_cluster:plan(C),
    ct:log("~ts", [Printed]),
    ?assertMatch({match, _}, re:run(Printed, "^cluster plan: 3 node\\(s\\), 9 users, formed in [0-9]+ ms\n"
                                             "  why: nodes = 3 given: 9 users split evenly")),
    [?assertMatch({match, _}, re:run(Printed, atom_to_list(N) ++ " +3 +[0-9]+\n")) || N <- Nodes],
    try
        ?assertEqual(3, length(Nodes)),
        ?assertEqual(maps:from_list([{N, 3} || N <- Nodes]), maps:get(users_per_node, Plan)),
        ?assert(is_integer(maps:get(formation_ms, Plan))),
        [?assertMatch({_, _, _}, lists:keyfind(live_load, 1, erpc:call(N, application, which_applications, [])))
         || N <- Nodes],
        %% each node is a separate OS process, booted with the master's code path
        Pids = lists:usort([erpc:call(N, os, getpid, []) || N <- Nodes]),
        ?assertEqual(3, length(Pids)),
        ?assertEqual(code:which(live_load_cluster), erpc:call(hd(Nodes), code, which, [live_load_cluster])),
        %% the cookie is not on the nodes' command lines (`ps' shows those to every user)
        [?assertEqual(nomatch, string:find(cmdline(P), cookie())) || P <- Pids]
    after
        ok = live_load_cluster:stop(C)
    end,
    [?assertNot(lists:member(N, nodes())) || N <- Nodes],
    Names = epmd_names(),
    [?assertNot(lists:member(short(N), Names)) || N <- Nodes].

dead_node_named(Config) ->
    ct:comment("the nodes provider given a dead node fails naming it; the live given node stays up"),
    {Peer, Live} = bare_peer(),
    try
        Dead = list_to_atom("live_load_no_such_node@" ++ live_load_cluster_code:host()),
        ?assertEqual({error, {cluster_failed, Dead, not_reachable}},
                     live_load_cluster:start(#{provider => nodes, nodes => [Live, Dead], amoc => false},
                                             #{users => 2})),
        ?assertEqual(pong, net_adm:ping(Live)),
        ?assertEqual(non_existing, erpc:call(Live, code, which, [live_load_cluster]))
    after
        stop_peers([Peer], Config)
    end.

boot_timeout_named(Config) ->
    ct:comment("a node that does not boot within boot_timeout fails the formation naming it; "
               "the nodes that did boot are stopped"),
    Slow = filename:join(?config(priv_dir, Config), "slow_erl"),
    ok = file:write_file(Slow, ["#!/bin/sh\nsleep 120\nexec erl \"$@\"\n"]),
    ok = file:change_mode(Slow, 8#755),
    Before = nodes(),
    {error, {cluster_failed, Node, Reason}} =
        live_load_cluster:start(#{provider => peer, nodes => 2, erl => Slow, boot_timeout => 3000,
                                  amoc => false}, #{users => 2}),
    ct:log("~p: ~p", [Node, Reason]),
    ?assertMatch("live_load_w" ++ _, atom_to_list(Node)),
    ?assertEqual({boot_timeout, 3000}, Reason),
    ?assertEqual(Before, nodes()),
    ok.

push_to_bare_node(Config) ->
    ct:comment("a node started without live_load's code path gets the code and priv/ pushed; "
               "the NIF and the port program are found there; for an Elixir scenario the elixir "
               "application too (when elixir is installed); stop removes them, the node stays"),
    Elixir = case elixir_ebin() of
                 false -> false;
                 Ebin -> code:add_pathz(Ebin)
             end,
    {Peer, Bare} = bare_peer(),
    try push_to(Bare, Elixir)
    after stop_peers([Peer], Config)
    end.

push_to(Bare, Elixir) ->
    ?assertEqual(non_existing, erpc:call(Bare, code, which, [live_load_metrics])),
    ?assertEqual(non_existing, erpc:call(Bare, code, which, ['Elixir.Enum'])),
    %% a run of an Elixir scenario (its code calls Elixir's standard library)
    {ok, C} = live_load_cluster:start(#{provider => nodes, nodes => [Bare], amoc => false},
                                      #{users => 1, scenario => 'Elixir.MyApp.CounterScenario'}),
    Priv = erpc:call(Bare, code, priv_dir, [live_load]),
    ct:log("priv on the worker: ~ts", [Priv]),
    try
        ?assertEqual([Bare], live_load_cluster:nodes(C)),
        ?assertNotEqual(code:priv_dir(live_load), Priv),
        %% every priv artefact, byte for byte, with its mode (the port stays executable)
        Local = code:priv_dir(live_load),
        Files = [F || F <- filelib:wildcard("**", Local), filelib:is_regular(filename:join(Local, F))],
        ct:log("pushed priv files: ~p", [Files]),
        [?assert(lists:member(F, Files)) || F <- ["observer.js", "live_load_sketch_nif.so",
                                                  "report/template.html", "live_load_browser"]],
        [begin
             {ok, Bin} = file:read_file(filename:join(Local, F)),
             ?assertEqual({ok, Bin}, erpc:call(Bare, file, read_file, [filename:join(Priv, F)])),
             {ok, I1} = file:read_file_info(filename:join(Local, F)),
             {ok, I2} = erpc:call(Bare, file, read_file_info, [filename:join(Priv, F)]),
             ?assertEqual(element(8, I1) band 8#777, element(8, I2) band 8#777)
         end || F <- Files],
        %% the NIF loaded from the pushed priv: record and snapshot on the worker
        ok = erpc:call(Bare, live_load_metrics, record, [?METRIC, 42.0, #{}]),
        {ok, #{nodes := [#{status := ok, data := #{sketches := S}}]}} = live_load_collector:collect([Bare]),
        ?assertEqual([?METRIC], [M || {M, _} <- maps:keys(S)]),
        %% the port program runs from there (it exits on EOF of its command pipe)
        Port = erpc:call(Bare, erlang, open_port, [{spawn_executable, filename:join(Priv, "live_load_browser")},
                                                   [{packet, 4}, binary, exit_status]]),
        ?assert(is_port(Port)),
        case Elixir of
            true ->
                Which = erpc:call(Bare, code, which, ['Elixir.Enum']),
                ct:log("Elixir.Enum on the worker: ~ts", [Which]),
                ?assertMatch("/tmp/live_load_code_" ++ _, Which),
                ?assertEqual(6, erpc:call(Bare, 'Elixir.Enum', sum, [[1, 2, 3]]));
            false ->
                ct:comment("elixir is not installed: its push is not tested")
        end
    after
        ok = live_load_cluster:stop(C)
    end,
    ?assertEqual(pong, net_adm:ping(Bare)),
    ?assertEqual({error, enoent}, erpc:call(Bare, file, read_file_info, [Priv])).

guide_size_example(_Config) ->
    ct:comment("guides/distributed.md, Sizing: the size/3 example prints the plan shown there"),
    %% as in the guide
    {ok, P} = live_load_cluster:size(#{cost => #{cpu_ms_per_iteration => 100, iteration_ms => 1000,
                                                 pss_mb_per_user => 100}, headroom => 0.5}, 50,
        [#{node => a@m1, cores => 8, memory_mb => 16000}, #{node => b@m2, cores => 4, memory_mb => 16000},
         #{node => c@m3, cores => 2, memory_mb => 1000}]),
    Text = iolist_to_binary(live_load_cluster:format_plan(P)),
    ct:log("~ts", [Text]),
    ?assertEqual(<<"cluster plan: 2 node(s), 50 users\n"
                   "  why: sized from the cost of one user (100 CPU ms per 1000 ms iteration, 100 MB PSS, "
                   "headroom 0.5): 2 of 3 node(s) carry 50 users\n"
                   "  node                                       users  capacity\n"
                   "  a@m1                                          33        40\n"
                   "  b@m2                                          17        20\n">>, Text).

elixir_ebin() ->
    case code:lib_dir(elixir) of
        {error, bad_name} ->
            Ebin = "/usr/lib/elixir/lib/elixir/ebin",
            filelib:is_dir(Ebin) andalso Ebin;
        Dir -> filename:join(Dir, "ebin")
    end.

sized_from_node_facts(_Config) ->
    ct:comment("sizing from a given cost reads cores and memory on the node itself"),
    Cost = #{cpu_ms_per_iteration => 50, iteration_ms => 1000, pss_mb_per_user => 50},
    {ok, C} = live_load_cluster:start(#{provider => peer, cost => Cost, headroom => 0.5, amoc => false},
                                      #{users => 3}),
    try
        [N] = live_load_cluster:nodes(C),
        {ok, #{cores := Cores, memory_mb := Mem} = Facts} = live_load_cluster_size:facts(N),
        ct:log("facts ~p~n~ts", [Facts, live_load_cluster:format_plan(live_load_cluster:plan(C))]),
        ?assertEqual(erpc:call(N, erlang, system_info, [logical_processors_available]), Cores),
        Expected = min(floor(Cores * 0.5 * 1000 / 50), floor(Mem * 0.5 / 50)),
        #{capacity := #{N := Cap}, users_per_node := #{N := 3}, why := Why} = live_load_cluster:plan(C),
        ?assertEqual(Expected, Cap),
        ?assertMatch(<<"sized from the cost of one user", _/binary>>, Why)
    after
        ok = live_load_cluster:stop(C)
    end.

measured_cost(_Config) ->
    ct:comment("calibration counts the CPU and PSS of the processes below this node (a real "
               "headless Chromium); the measured cost is accepted as the cluster's cost"),
    Idle = fun() -> timer:sleep(2000), {iterations, 10} end,
    Chromium = case os:find_executable("chromium") of
                   false -> ct:fail("chromium not installed (scripts/setup.sh installs it)");
                   Exe -> Exe
               end,
    Browser = fun() ->
                      _ = os:cmd("timeout 6 " ++ Chromium ++ " --headless=new --no-sandbox --disable-gpu "
                                 "--user-data-dir=$(mktemp -d) --remote-debugging-port=0 about:blank "
                                 ">/dev/null 2>&1"),
                      {iterations, 10}
              end,
    {ok, I} = live_load_cluster_cost:measure(Idle, 2, #{sample_ms => 200}),
    {ok, B} = live_load_cluster_cost:measure(Browser, 2, #{sample_ms => 200}),
    ct:log("idle ~p~nbrowser ~p", [I, B]),
    %% the browser's own processes: far more CPU and memory than this node idling
    ?assert(maps:get(cpu_ms, B) > maps:get(cpu_ms, I) + 100),
    ?assert(maps:get(peak_pss_mb, B) > maps:get(peak_pss_mb, I) + 30),
    ?assert(maps:get(peak_pss_mb, I) > 10),
    ?assertEqual(10, maps:get(iterations, B)),
    ?assertEqual(maps:get(cpu_ms, B) / 10, maps:get(cpu_ms_per_iteration, B)),
    ?assertEqual(ok, live_load_cluster:validate(#{cost => B})),
    {ok, #{why := Why}} = live_load_cluster:size(#{cost => B}, 4,
                                                 [#{node => 'a@m', cores => 2, memory_mb => 4000}]),
    ?assertMatch(<<"sized from the cost of one user", _/binary>>, Why),
    ?assertEqual({error, {no_iterations, {iterations, 0}}},
                 live_load_cluster_cost:measure(fun() -> {iterations, 0} end, 1)).

ssh_provider(Config) ->
    ct:comment("ssh provider: 2 nodes started over a real sshd on 127.0.0.1, code pushed, torn down"),
    Sshd = ?config(sshd, Config),
    {ok, C} = live_load_cluster:start(#{provider => ssh, hosts => [<<"127.0.0.1">>], nodes => 2,
                                        ssh => ssh_opts(Sshd), boot_timeout => 60000, amoc => false},
                                      #{users => 4}),
    Nodes = live_load_cluster:nodes(C),
    try
        ?assertEqual(2, length(Nodes)),
        [begin
             %% the node was started in a session of the suite's sshd
             SshConn = erpc:call(N, os, getenv, ["SSH_CONNECTION"]),
             ct:log("~p: SSH_CONNECTION=~p", [N, SshConn]),
             ?assertMatch(["127.0.0.1", _, "127.0.0.1", _], string:lexemes(SshConn, " ")),
             ?assertEqual(integer_to_list(maps:get(port, Sshd)), lists:last(string:lexemes(SshConn, " "))),
             %% no code path from the master: the code is the pushed copy
             Which = erpc:call(N, code, which, [live_load_metrics]),
             ?assertMatch("/tmp/live_load_code_" ++ _, Which),
             ok = erpc:call(N, live_load_metrics, record, [?METRIC, 1.0, #{}]),
             %% the cookie went over ssh's standard input, not on a command line: neither the
             %% node's (same machine here) nor the ssh client's shows it
             ?assertEqual(nomatch, string:find(cmdline(erpc:call(N, os, getpid, [])), cookie()))
         end || N <- Nodes],
        Ssh = [P || P <- descendants(os:getpid()), re:run(cmdline(P), "^(/[^ ]*/)?ssh ") =/= nomatch],
        ct:log("ssh clients: ~p", [[cmdline(P) || P <- Ssh]]),
        ?assertEqual(2, length(Ssh)),
        [?assertEqual(nomatch, string:find(cmdline(P), cookie())) || P <- Ssh],
        {ok, #{nodes := Rs}} = live_load_collector:collect(Nodes),
        ?assertEqual([ok, ok], [S || #{status := S} <- Rs])
    after
        ok = live_load_cluster:stop(C)
    end,
    [?assertNot(lists:member(N, nodes())) || N <- Nodes],
    ?assertEqual([], [N || N <- Nodes, lists:member(short(N), epmd_names())]).

ssh_refused_named(Config) ->
    ct:comment("ssh refusing the key, or no erl on the host: told at once with ssh's words, "
               "naming the node and the host"),
    Sshd = ?config(sshd, Config),
    Other = filename:join(?config(priv_dir, Config), "unauthorized_key"),
    [] = os:cmd("ssh-keygen -q -t ed25519 -N '' -f " ++ Other),
    Opts = #{provider => ssh, hosts => ["127.0.0.1"], nodes => 1, amoc => false, boot_timeout => 30000},
    {error, {cluster_failed, N1, {ssh_failed, "127.0.0.1", 255, Said}}} =
        live_load_cluster:start(Opts#{ssh => (ssh_opts(Sshd))#{identity => Other}}, #{users => 1}),
    ct:log("~p: ~ts", [N1, Said]),
    ?assertMatch({_, _}, binary:match(Said, <<"Permission denied">>)),
    ?assertMatch("live_load_w1_" ++ _, atom_to_list(N1)),
    ?assertMatch({error, {cluster_failed, _, {ssh_failed, "127.0.0.1", 1, _}}},
                 live_load_cluster:start(Opts#{ssh => ssh_opts(Sshd), erl => "/no/such/erl"}, #{users => 1})),
    ?assertEqual([], [N || N <- nodes(), lists:prefix("live_load_w", atom_to_list(N))]).

ssh_amoc_run(Config) ->
    ct:comment("with amoc: a tiny live_load:run over ssh: the worker (started without any code "
               "path) gets live_load and amoc pushed, joins the master and runs the users; the "
               "cluster is gone afterwards"),
    case code:which(amoc) of
        non_existing ->
            {skip, "amoc is not on the code path: the amoc join over ssh is not tested (run "
                   "AMOC_LIBS=/path/to/libs make amoc-test, the directory holding "
                   "amoc-4.1.0/ebin and telemetry-1.3.0/ebin)"};
        _ ->
            Sshd = ?config(sshd, Config),
            Before = nodes(),
            #{live_load_runner_sleep_scenario := R} =
                live_load:run(#{scenario => live_load_runner_sleep_scenario, users => 2, browser => false,
                                scenario_duration => 3000, distributed => true,
                                cluster => #{provider => ssh, hosts => [<<"127.0.0.1">>], ssh => ssh_opts(Sshd)},
                                quiet => true}),
            #{<<"run">> := Run} = R,
            ct:log("run over ssh: ~p", [maps:with([<<"engine">>, <<"nodes">>, <<"iterations">>, <<"users">>, <<"cluster">>], Run)]),
            %% users ran by amoc_dist on the ssh worker: it joined amoc with the pushed amoc
            ?assertEqual(<<"amoc">>, maps:get(<<"engine">>, Run)),
            ?assertMatch([<<"live_load_w1_", _/binary>>], maps:get(<<"nodes">>, Run)),
            ?assertMatch(#{<<"started">> := 2, <<"failed">> := 0}, maps:get(<<"users">>, Run)),
            ?assert(maps:get(<<"ok">>, maps:get(<<"iterations">>, Run)) >= 10),
            timer:sleep(500),
            ?assertEqual([], [N || N <- nodes(), not lists:member(N, Before)])
    end.

pulls_keep_lost_node(_Config) ->
    ct:comment("periodic pulls; a node killed mid-run keeps its data up to its last pull, is "
               "marked down with down_at; the other nodes' data is complete"),
    {ok, C} = live_load_cluster:start(#{provider => peer, nodes => 3, amoc => false}, #{users => 3}),
    [NA, NB, NC] = Nodes = live_load_cluster:nodes(C),
    RunId = <<"pull-test-run">>,
    try
        [ok = erpc:call(N, live_load_metrics, start_run, [#{run_id => RunId, bucket_ms => 200}]) || N <- Nodes],
        {ok, Puller} = live_load_collector:start_pulling(Nodes, #{run_id => RunId, interval_ms => 200}),
        [record_on(N, 1000) || N <- Nodes],
        %% at least two pulls after the batch: the last pull of NC holds all of it
        timer:sleep(1000),
        KilledAt = erlang:system_time(millisecond),
        erpc:cast(NC, erlang, halt, []),
        wait_down(NC),
        %% the others keep recording after the loss; all of it must be collected
        [record_on(N, 500) || N <- [NA, NB]],
        timer:sleep(500),
        {ok, Collected} = live_load_collector:stop_pulling(Puller),
        ?assertNot(is_process_alive(Puller)),
        #{nodes := [RA, RB, RC]} = Collected,
        ?assertMatch(#{node := NC, status := down, down_at := _, data := _}, RC),
        #{down_at := DownAt} = RC,
        ?assert(DownAt >= KilledAt andalso DownAt =< erlang:system_time(millisecond)),
        ?assertMatch(#{status := ok}, RA),
        ?assertMatch(#{status := ok}, RB),
        Count = fun(#{data := #{sketches := S}}) ->
                        lists:sum([live_load_sketch:count(Sk) || {{M, _}, Sk} <- maps:to_list(S), M =:= ?METRIC])
                end,
        Counts = [Count(R) || R <- [RA, RB, RC]],
        ct:log("counts per node ~p, pulls ~p", [Counts, [maps:get(pulls, R) || R <- [RA, RB, RC]]]),
        ?assertEqual([1500, 1500, 1000], Counts),
        R = live_load_result:build(Collected, #{}),
        #{<<"metrics">> := #{?METRIC := #{<<"count">> := Total}}, <<"nodes">> := Entries} = R,
        ?assertEqual(4000, Total),
        Down = hd([E || #{<<"node">> := Nm} = E <- Entries, Nm =:= atom_to_binary(NC)]),
        ?assertMatch(#{<<"status">> := <<"down">>, <<"down_at">> := <<_/binary>>,
                       <<"metrics">> := #{?METRIC := #{<<"count">> := 1000}}}, Down),
        {ok, R} = live_load_result:from_json(live_load_result:to_json(R)),
        Md = iolist_to_binary(live_load_report_markdown:render(R)),
        %% the reason is whichever the master saw first: nodedown, or a pull's noconnection
        ?assertMatch({match, _}, re:run(Md, <<"\\| down: (nodedown|noconnection) \\(lost at 20[^)]+\\) \\|">>)),
        reliability_row("a worker node lost mid-run", pass,
                        io_lib:format("3 peers, 1 halted after 1000 values: kept ~b of 1000 (down_at ~ts), "
                                      "others ~b and ~b of 1500, merged ~b of 4000, ~b/~b/~b pulls",
                                      [lists:nth(3, Counts), maps:get(<<"down_at">>, Down),
                                       lists:nth(1, Counts), lists:nth(2, Counts), Total,
                                       maps:get(pulls, RA), maps:get(pulls, RB), maps:get(pulls, RC)]))
    catch
        Class:Reason:Stack ->
            reliability_row("a worker node lost mid-run", 'FAIL', io_lib:format("~0p", [Reason])),
            erlang:raise(Class, Reason, Stack)
    after
        ok = live_load_cluster:stop(C)
    end.

runs_do_not_mix(_Config) ->
    ct:comment("a collector for run A does not take run B's data from the same node"),
    {ok, C} = live_load_cluster:start(#{provider => peer, nodes => 1, amoc => false}, #{users => 1}),
    [N] = live_load_cluster:nodes(C),
    try
        ok = erpc:call(N, live_load_metrics, start_run, [#{run_id => <<"A">>}]),
        ?assertEqual(<<"A">>, erpc:call(N, live_load_metrics, run_id, [])),
        {ok, Puller} = live_load_collector:start_pulling([N], #{run_id => <<"A">>, interval_ms => 100}),
        record_on(N, 10),
        %% a pull has taken A's 10 values (polled, not slept: the box may be loaded)
        ok = wait_pulled(Puller, N, 10, 200),
        %% run B starts on the same node: the collector of A keeps A's last data, says why
        ok = erpc:call(N, live_load_metrics, start_run, [#{run_id => <<"B">>}]),
        record_on(N, 99),
        {ok, #{nodes := [R]}} = live_load_collector:stop_pulling(Puller),
        ?assertMatch(#{status := invalid, reason := {wrong_run, <<"B">>}}, R),
        #{data := #{sketches := S}} = R,
        ?assertEqual([10], [live_load_sketch:count(Sk) || Sk <- maps:values(S)]),
        ?assertMatch({ok, #{nodes := [#{status := invalid, reason := {wrong_run, <<"B">>}}]}},
                     live_load_collector:collect([N], #{run_id => <<"A">>})),
        ?assertMatch({ok, #{nodes := [#{status := ok}]}}, live_load_collector:collect([N], #{run_id => <<"B">>})),
        ?assertEqual({error, {invalid_option, run_id, 1.5}}, live_load_collector:start_pulling([N], #{run_id => 1.5})),
        ?assertEqual({error, {invalid_option, run_id, a}}, live_load_metrics:start_run(#{run_id => a}))
    after
        ok = live_load_cluster:stop(C)
    end.

amoc_join(Config) ->
    ct:comment("with amoc: 3 workers joined pointing at the master only; amoc_dist:do runs users "
               "on every worker"),
    {ok, C} = live_load_cluster:start(#{provider => peer, nodes => 3}, #{users => 6}),
    Nodes = live_load_cluster:nodes(C),
    ct:log("~ts", [live_load_cluster:format_plan(live_load_cluster:plan(C))]),
    try
        ?assertEqual(lists:sort(Nodes), lists:sort(maps:get(connected, amoc_cluster:get_status()))),
        [begin
             S = erpc:call(N, amoc_cluster, get_status, []),
             %% a full mesh, reached without any failed ping (no worker-to-worker stall)
             ?assertEqual(lists:sort([node() | Nodes -- [N]]), lists:sort(maps:get(connected, S))),
             ?assertEqual([], maps:get(to_ack, S)),
             ?assertEqual([], maps:get(failed_to_connect, S))
         end || N <- Nodes],
        Scenario = amoc_scenario_module(?config(priv_dir, Config)),
        [ok = erpc:call(N, live_load_metrics, start_run, [#{run_id => <<"amoc">>}]) || N <- Nodes],
        ?assertMatch({ok, _}, amoc_dist:do(Scenario, 6, [])),
        wait_users(Nodes, 6, 60000),
        {ok, #{nodes := Rs} = Collected} = live_load_collector:collect(Nodes, #{run_id => <<"amoc">>}),
        PerNode = [maps:get({<<"amoc_users">>, #{}}, Cs, 0) || #{data := #{counters := Cs}} <- Rs],
        ct:log("users per worker: ~p", [PerNode]),
        ?assertEqual([2, 2, 2], PerNode),
        #{<<"counters">> := #{<<"amoc_users">> := #{<<"total">> := 6}}} = live_load_result:build(Collected, #{}),
        _ = amoc_dist:stop()
    after
        ok = live_load_cluster:stop(C)
    end,
    ?assertEqual(false, lists:keymember(amoc, 1, application:which_applications())),
    [?assertNot(lists:member(N, nodes())) || N <- Nodes].

amoc_join_pushed(Config) ->
    ct:comment("with amoc: running nodes without live_load or amoc get both pushed and join; "
               "stop leaves them up with amoc stopped"),
    {P1, N1} = bare_peer(),
    {P2, N2} = bare_peer(),
    try join_pushed(N1, N2)
    after stop_peers([P1, P2], Config)
    end.

join_pushed(N1, N2) ->
    {ok, C} = live_load_cluster:start(#{provider => nodes, nodes => [N1, N2]}, #{users => 2}),
    try
        [begin
             ?assertMatch("/tmp/live_load_code_" ++ _, erpc:call(N, code, which, [amoc_cluster])),
             ?assert(lists:member(node(), maps:get(connected, erpc:call(N, amoc_cluster, get_status, []))))
         end || N <- [N1, N2]],
        ?assertEqual(lists:sort([N1, N2]), lists:sort(maps:get(connected, amoc_cluster:get_status())))
    after
        ok = live_load_cluster:stop(C)
    end,
    [begin
         ?assertEqual(pong, net_adm:ping(N)),
         ?assertNot(lists:keymember(amoc, 1, erpc:call(N, application, which_applications, [])))
     end || N <- [N1, N2]],
    ok.

amoc_join_timeout_named(Config) ->
    ct:comment("with amoc: a worker whose amoc_cluster does not answer fails the formation "
               "within join_timeout, naming that worker; the other worker is left as it was"),
    Path = lists:append([["-pa", D] || D <- code:get_path(), not lists:prefix(code:lib_dir(), D)]),
    Start = fun(Name) ->
                    {ok, P, N} = peer:start(#{name => peer:random_name(Name), wait_boot => 60000,
                                              args => ["-setcookie", atom_to_list(erlang:get_cookie()) | Path]}),
                    {P, N}
            end,
    {P1, Good} = Start("good"),
    {P2, Stuck} = Start("stuck"),
    try join_stuck(Good, Stuck)
    after stop_peers([P1, P2], Config)
    end.

join_stuck(Good, Stuck) ->
    {ok, _} = erpc:call(Stuck, application, ensure_all_started, [amoc]),
    ok = erpc:call(Stuck, sys, suspend, [amoc_cluster]),
    T0 = erlang:monotonic_time(millisecond),
    Result = live_load_cluster:start(#{provider => nodes, nodes => [Good, Stuck], code => path,
                                       join_timeout => 5000}, #{users => 2}),
    Took = erlang:monotonic_time(millisecond) - T0,
    ct:log("~p after ~b ms", [Result, Took]),
    ?assertMatch({error, {cluster_failed, Stuck, {amoc_join_timeout, 5000, #{worker := _}}}}, Result),
    %% given nodes stay up; amoc stopped where this formation started it
    ?assertEqual(pong, net_adm:ping(Good)),
    ?assertEqual(pong, net_adm:ping(Stuck)),
    ?assertNot(lists:keymember(amoc, 1, erpc:call(Good, application, which_applications, []))),
    ?assertNot(lists:keymember(amoc, 1, application:which_applications())),
    ok = erpc:call(Stuck, sys, resume, [amoc_cluster]).

%%% Helpers

cookie() ->
    atom_to_list(erlang:get_cookie()).

cmdline(OsPid) ->
    case file:read_file("/proc/" ++ OsPid ++ "/cmdline") of
        {ok, B} -> binary_to_list(binary:replace(B, <<0>>, <<" ">>, [global]));
        _ -> ""
    end.

%% The OS pids below OsPid, from /proc.
descendants(OsPid) ->
    {ok, All} = file:list_dir("/proc"),
    Pairs = [{P, parent(P)} || P <- All, lists:all(fun(Ch) -> Ch >= $0 andalso Ch =< $9 end, P)],
    descend([OsPid], Pairs, []).

descend([], _Pairs, Acc) -> Acc;
descend([P | Rest], Pairs, Acc) ->
    Kids = [K || {K, Pp} <- Pairs, Pp =:= P],
    descend(Kids ++ Rest, Pairs, Kids ++ Acc).

parent(P) ->
    case file:read_file("/proc/" ++ P ++ "/stat") of
        {ok, B} ->
            [_, After] = string:split(binary_to_list(B), ")", trailing),
            lists:nth(2, string:lexemes(After, " "));
        _ -> none
    end.

distributed(_) when node() =/= nonode@nohost -> ok;
distributed(Tries) ->
    _ = os:cmd("epmd -daemon"),
    case net_kernel:start([list_to_atom("ct_cluster_" ++ os:getpid()), shortnames]) of
        {ok, _} -> ok;
        {error, _} when Tries > 1 -> timer:sleep(500), distributed(Tries - 1);
        {error, Reason} -> {error, Reason}
    end.

stop_peers(Peers, _Config) ->
    [catch peer:stop(P) || P <- Peers],
    ok.

%% A running node with nothing of live_load (or amoc) on its code path.
bare_peer() ->
    {ok, Peer, Node} = peer:start(#{name => peer:random_name("bare"),
                                    args => ["-setcookie", atom_to_list(erlang:get_cookie())],
                                    env => [{"ERL_LIBS", ""}], wait_boot => 60000}),
    ?assertEqual(non_existing, erpc:call(Node, code, which, [live_load])),
    {Peer, Node}.

wait_pulled(_Puller, _Node, _Count, 0) ->
    {error, not_pulled};
wait_pulled(Puller, Node, Count, Tries) ->
    #{nodes := #{Node := R}} = sys:get_state(Puller),
    case R of
        #{data := #{sketches := S}} when map_size(S) > 0 ->
            case lists:sum([live_load_sketch:count(Sk) || Sk <- maps:values(S)]) >= Count of
                true -> ok;
                false -> timer:sleep(100), wait_pulled(Puller, Node, Count, Tries - 1)
            end;
        _ -> timer:sleep(100), wait_pulled(Puller, Node, Count, Tries - 1)
    end.

record_on(Node, N) ->
    ok = erpc:call(Node, lists, foreach,
                   [fun(V) -> live_load_metrics:record(?METRIC, float(V), #{}) end, lists:seq(1, N)]).

wait_down(Node) ->
    case lists:member(Node, nodes()) of
        true -> timer:sleep(50), wait_down(Node);
        false -> ok
    end.

epmd_names() ->
    {ok, Names} = net_adm:names(),
    [N || {N, _} <- Names].

short(Node) ->
    hd(string:split(atom_to_list(Node), "@")).

reliability_row(Row, Result, What) ->
    File = case os:getenv("RELIABILITY_OUT") of
               V when V =:= false; V =:= "" -> filename:join(root(), "_build/reliability/rows.tsv");
               V -> V
           end,
    ok = filelib:ensure_dir(File),
    Line = io_lib:format("~ts\t~ts\t~ts~n", [Row, Result, lists:flatten(What)]),
    ok = file:write_file(File, Line, [append]).

%% The repository root: the suite's source lives in <root>/test.
root() ->
    case os:getenv("LIVE_LOAD_ROOT") of
        V when V =:= false; V =:= "" ->
            Source = proplists:get_value(source, ?MODULE:module_info(compile)),
            filename:dirname(filename:dirname(Source));
        V -> V
    end.

%%% sshd for the ssh group: its own host key, client key, authorized_keys and config, on a
%%% free port of 127.0.0.1.

start_sshd(Dir0) ->
    Dir = filename:join(Dir0, "sshd"),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    case {os:find_executable("sshd", "/usr/sbin:/usr/local/sbin:/sbin"), os:find_executable("ssh-keygen"),
          os:find_executable("ssh")} of
        {false, _, _} -> {skip, "sshd not installed (openssh-server; scripts/setup.sh installs it)"};
        {_, false, _} -> {skip, "ssh-keygen not installed (openssh-client)"};
        {_, _, false} -> {skip, "ssh not installed (openssh-client)"};
        {Sshd, Keygen, _} ->
            [] = os:cmd(Keygen ++ " -q -t ed25519 -N '' -f " ++ Dir ++ "/host_key"),
            [] = os:cmd(Keygen ++ " -q -t ed25519 -N '' -f " ++ Dir ++ "/client_key"),
            {ok, Pub} = file:read_file(Dir ++ "/client_key.pub"),
            ok = file:write_file(Dir ++ "/authorized_keys", Pub),
            ok = file:change_mode(Dir ++ "/authorized_keys", 8#600),
            _ = file:make_dir("/run/sshd"),  % privilege separation directory
            Port = free_port(),
            User = string:trim(os:cmd("id -un")),
            Conf = [io_lib:format("~ts~n", [L]) ||
                       L <- ["Port " ++ integer_to_list(Port), "ListenAddress 127.0.0.1",
                             "HostKey " ++ Dir ++ "/host_key",
                             "AuthorizedKeysFile " ++ Dir ++ "/authorized_keys",
                             "PidFile " ++ Dir ++ "/sshd.pid", "UsePAM no", "StrictModes no",
                             "PermitRootLogin yes", "PasswordAuthentication no",
                             "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
                             "AllowUsers " ++ User, "LogLevel VERBOSE"]],
            ok = file:write_file(Dir ++ "/sshd_config", Conf),
            case os:cmd(Sshd ++ " -t -f " ++ Dir ++ "/sshd_config 2>&1") of
                [] ->
                    %% sshd daemonises itself (pid file), logging to a file of the suite
                    _ = os:cmd(Sshd ++ " -f " ++ Dir ++ "/sshd_config -E " ++ Dir ++ "/sshd.log"),
                    Sshd1 = #{dir => Dir, port => Port},
                    case wait_ssh(Sshd1, 40) of
                        ok -> {ok, Sshd1};
                        {error, Out} ->
                            _ = stop_sshd(Sshd1),
                            {skip, lists:flatten(io_lib:format("sshd on 127.0.0.1:~b does not accept "
                                                               "our key: ~ts", [Port, Out]))}
                    end;
                Err ->
                    {skip, "sshd refuses its test config: " ++ Err}
            end
    end.

ssh_opts(#{dir := Dir, port := Port}) ->
    #{port => Port, identity => Dir ++ "/client_key",
      options => ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=" ++ Dir ++ "/known_hosts"]}.

ssh_cmd(#{dir := Dir, port := Port}, Remote) ->
    lists:flatten(io_lib:format("ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=~ts/known_hosts "
                                "-i ~ts/client_key -p ~b 127.0.0.1 ~ts 2>&1", [Dir, Dir, Port, Remote])).

wait_ssh(Sshd, Tries) ->
    case os:cmd(ssh_cmd(Sshd, "echo ssh-ok")) of
        "ssh-ok\n" ++ _ -> ok;
        Out when Tries =< 1 -> {error, Out};
        _ -> timer:sleep(250), wait_ssh(Sshd, Tries - 1)
    end.

stop_sshd(#{dir := Dir}) ->
    case file:read_file(Dir ++ "/sshd.pid") of
        {ok, Pid} -> _ = os:cmd("kill " ++ string:trim(binary_to_list(Pid))), ok;
        {error, _} -> ok
    end.

free_port() ->
    {ok, S} = gen_tcp:listen(0, [{ip, {127, 0, 0, 1}}]),
    {ok, Port} = inet:port(S),
    ok = gen_tcp:close(S),
    Port.

%%% amoc

%% A minimal amoc scenario, compiled here (it needs amoc's behaviour, which the test build
%% must not): each user counts itself in live_load's metrics. Written to a directory on the
%% code path so amoc_code_server can upload it to the workers.
amoc_scenario_module(PrivDir) ->
    Mod = live_load_cluster_amoc_probe,
    Src = filename:join(PrivDir, atom_to_list(Mod) ++ ".erl"),
    ok = file:write_file(Src, [
        "-module(", atom_to_list(Mod), ").\n",
        "-behaviour(amoc_scenario).\n",
        "-export([init/0, start/2]).\n",
        "init() -> ok.\n",
        "start(_Id, _State) -> live_load_metrics:count(<<\"amoc_users\">>, 1, #{}).\n"]),
    {ok, Mod} = compile:file(Src, [{outdir, PrivDir}, return_errors]),
    true = code:add_patha(PrivDir),
    {module, Mod} = code:ensure_loaded(Mod),
    _ = amoc_code_server:add_module(Mod),
    Mod.

wait_users(Nodes, N, Timeout) when Timeout > 0 ->
    {ok, #{nodes := Rs}} = live_load_collector:collect(Nodes),
    Got = lists:sum([maps:get({<<"amoc_users">>, #{}}, Cs, 0) || #{data := #{counters := Cs}} <- Rs]),
    case Got >= N of
        true -> ok;
        false -> timer:sleep(200), wait_users(Nodes, N, Timeout - 200)
    end;
wait_users(_Nodes, N, _) ->
    ct:fail({users_not_started, N}).
