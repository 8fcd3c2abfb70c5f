%% Collector against real peer nodes (OTP `peer'): each peer runs the real metrics store and
%% NIF, records a known data set, and the primary collects over erpc.
-module(live_load_collector_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([merged_quantiles_within_accuracy/1, per_node_figures/1, down_node_reported/1,
         corrupted_sketch_rejected/1, single_node/1, time_series_aligned/1, bad_options/1]).

-define(ALPHA, 0.01).
-define(METRIC, <<"liveview.event">>).

all() ->
    [merged_quantiles_within_accuracy, per_node_figures, down_node_reported,
     corrupted_sketch_rejected, single_node, time_series_aligned, bad_options].

init_per_suite(Config) ->
    ok = distributed(10),
    {ok, _} = application:ensure_all_started(live_load),
    Config.

%% Peers need distribution; epmd may take a moment to come up after `epmd -daemon'.
distributed(_) when node() =/= nonode@nohost -> ok;
distributed(Tries) ->
    _ = os:cmd("epmd -daemon"),
    case net_kernel:start([list_to_atom("ct_collector_" ++ os:getpid()), shortnames]) of
        {ok, _} -> ok;
        {error, _} when Tries > 1 -> timer:sleep(500), distributed(Tries - 1);
        {error, Reason} -> {error, Reason}
    end.

end_per_suite(_Config) ->
    ok.

init_per_testcase(_Case, Config) ->
    ok = live_load_metrics:reset(),
    Config.

end_per_testcase(_Case, Config) ->
    [catch peer:stop(P) || P <- proplists:get_value(peers, Config, [])],
    ok.

%%% Cases

merged_quantiles_within_accuracy(_Config) ->
    ct:comment("three nodes record known data sets; every quantile of the merge is within the "
               "sketch accuracy of the exact quantile of the union"),
    Sets = data_sets(),
    {Peers, Nodes} = start_peers(length(Sets)),
    try
        record_all(Nodes, Sets),
        {ok, #{nodes := NodeResults} = Collected} = live_load_collector:collect(Nodes),
        ?assertEqual([ok, ok, ok], [S || #{status := S} <- NodeResults]),
        R = live_load_result:build(Collected, #{scenario => <<"known_sets">>}),
        #{<<"metrics">> := #{?METRIC := M}, <<"quantile_points">> := Points} = R,
        Union = lists:sort(lists:append(Sets)),
        N = length(Union),
        ?assertEqual(N, maps:get(<<"count">>, M)),
        ?assertEqual(float(hd(Union)), maps:get(<<"min">>, M)),
        ?assertEqual(float(lists:last(Union)), maps:get(<<"max">>, M)),
        ?assert(abs(lists:sum(Union) - maps:get(<<"sum">>, M)) < 1.0e-6 * lists:sum(Union)),
        [assert_close(Q, exact(Q, list_to_tuple(Union)), Est)
         || {Q, Est} <- lists:zip(Points, maps:get(<<"quantiles">>, M))],
        %% Dimension rows: node k recorded event = "e<k>", so each row is one data set.
        #{<<"by">> := #{<<"event">> := Rows}} = M,
        [begin
             Row = maps:get(event(I), Rows),
             Sorted = list_to_tuple(lists:sort(Set)),
             ?assertEqual(length(Set), maps:get(<<"count">>, Row)),
             [assert_close(Q, exact(Q, Sorted), Est)
              || {Q, Est} <- lists:zip(Points, maps:get(<<"quantiles">>, Row))]
         end || {I, Set} <- lists:zip(lists:seq(1, length(Sets)), Sets)]
    after
        stop_peers(Peers)
    end.

per_node_figures(_Config) ->
    ct:comment("each node's own figures in the result match that node's own data"),
    Sets = data_sets(),
    {Peers, Nodes} = start_peers(length(Sets)),
    try
        record_all(Nodes, Sets),
        [count_on(N, length(Values)) || {N, Values} <- lists:zip(Nodes, Sets)],
        {ok, Collected} = live_load_collector:collect(Nodes),
        #{<<"nodes">> := NodeEntries} = live_load_result:build(Collected, #{}),
        ByName = maps:from_list([{binary_to_atom(Name), E} || #{<<"node">> := Name} = E <- NodeEntries]),
        [begin
             #{<<"status">> := <<"ok">>, <<"metrics">> := #{?METRIC := M},
               <<"counters">> := #{<<"iterations">> := Iter}} = maps:get(Node, ByName),
             Sorted = list_to_tuple(lists:sort(Set)),
             ?assertEqual(length(Set), maps:get(<<"count">>, M)),
             ?assertEqual(length(Set), Iter),
             ?assertEqual(float(lists:max(Set)), maps:get(<<"max">>, M)),
             [assert_close(Q, exact(Q, Sorted), maps:get(K, M))
              || {Q, K} <- [{0.5, <<"p50">>}, {0.9, <<"p90">>}, {0.95, <<"p95">>}, {0.99, <<"p99">>}]]
         end || {Node, Set} <- lists:zip(Nodes, Sets)]
    after
        stop_peers(Peers)
    end.

down_node_reported(_Config) ->
    ct:comment("a node killed before collection is reported down; the others' data is merged"),
    [A, B, C] = data_sets(),
    {[PA, PB, PC], [NA, NB, NC]} = start_peers(3),
    try
        record_all([NA, NB, NC], [A, B, C]),
        peer:stop(PC),
        {ok, Collected} = live_load_collector:collect([NA, NB, NC], #{timeout => 20000}),
        R = live_load_result:build(Collected, #{}),
        Statuses = maps:from_list([{Node, S} || #{<<"node">> := Node, <<"status">> := S} <- maps:get(<<"nodes">>, R)]),
        ?assertEqual(#{atom_to_binary(NA) => <<"ok">>, atom_to_binary(NB) => <<"ok">>,
                       atom_to_binary(NC) => <<"down">>}, Statuses),
        #{<<"metrics">> := #{?METRIC := M}} = R,
        ?assertEqual(length(A) + length(B), maps:get(<<"count">>, M)),
        Sorted = list_to_tuple(lists:sort(A ++ B)),
        [assert_close(Q, exact(Q, Sorted), Est)
         || {Q, Est} <- lists:zip(maps:get(<<"quantile_points">>, R), maps:get(<<"quantiles">>, M))]
    after
        stop_peers([PA, PB])
    end.

corrupted_sketch_rejected(_Config) ->
    ct:comment("a node whose snapshot carries a corrupted sketch is reported invalid and left "
               "out of the merge"),
    [A, B, C] = data_sets(),
    {Peers, [NA, NB, NC]} = start_peers(3),
    try
        record_all([NA, NB, NC], [A, B, C]),
        %% Fault injection on NC: its real snapshot with the bytes of one sketch damaged
        %% (cut short, as from a buggy build), served by NC itself.
        Real = erpc:call(NC, live_load_metrics, snapshot, []),
        #{sketches := [{M, D, Bin} | Rest]} = Real,
        Corrupt = Real#{sketches := [{M, D, truncate(Bin)} | Rest]},
        ?assertMatch({error, {invalid_snapshot, {sketches, _}}}, live_load_snapshot:decode(Corrupt)),
        serve_snapshot(NC, Corrupt),
        {ok, Collected} = live_load_collector:collect([NA, NB, NC]),
        R = live_load_result:build(Collected, #{}),
        Nodes = maps:from_list([{Node, E} || #{<<"node">> := Node} = E <- maps:get(<<"nodes">>, R)]),
        ?assertMatch(#{<<"status">> := <<"invalid">>, <<"reason">> := <<"{invalid_snapshot,{sketches", _/binary>>},
                     maps:get(atom_to_binary(NC), Nodes)),
        ?assertMatch(#{<<"status">> := <<"ok">>}, maps:get(atom_to_binary(NA), Nodes)),
        #{<<"metrics">> := #{?METRIC := Metric}} = R,
        ?assertEqual(length(A) + length(B), maps:get(<<"count">>, Metric))
    after
        stop_peers(Peers)
    end.

single_node(_Config) ->
    ct:comment("collect([node()]) on a single node gives the node's data merged and per node"),
    [live_load_metrics:record(?METRIC, V, #{}) || V <- lists:seq(1, 100)],
    {ok, #{nodes := [#{node := Self, status := ok}], merged := Merged}} =
        live_load_collector:collect([node()]),
    ?assertEqual(node(), Self),
    R = live_load_result:build(#{nodes => [], merged => Merged}, #{}),
    ?assertEqual(100, maps:get(<<"count">>, maps:get(?METRIC, maps:get(<<"metrics">>, R)))).

time_series_aligned(_Config) ->
    ct:comment("buckets of nodes started at different times align on wall clock time; "
               "bucket counts add up to the totals"),
    {Peers, [NA, NB]} = start_peers(2),
    try
        ok = erpc:call(NA, live_load_metrics, start_run, [#{bucket_ms => 100}]),
        timer:sleep(250),
        ok = erpc:call(NB, live_load_metrics, start_run, [#{bucket_ms => 100}]),
        record_on(NA, 1, lists:seq(1, 50)),
        record_on(NB, 2, lists:seq(1, 70)),
        {ok, Collected} = live_load_collector:collect([NA, NB]),
        #{<<"time_series">> := #{<<"bucket_ms">> := 100, <<"buckets">> := Buckets}} =
            live_load_result:build(Collected, #{}),
        Counts = [{T, maps:get(<<"count">>, maps:get(?METRIC, Ms, #{}), 0)}
                  || #{<<"t_ms">> := T, <<"metrics">> := Ms} <- Buckets],
        ct:log("buckets: ~p", [Counts]),
        ?assertEqual(120, lists:sum([C || {_, C} <- Counts])),
        %% NB started >= 250 ms after NA: its values sit in a bucket at t >= 200 ms.
        ?assert(lists:any(fun({T, C}) -> T >= 200 andalso C >= 70 end, Counts)),
        ?assertEqual(lists:seq(0, 100 * (length(Buckets) - 1), 100), [T || {T, _} <- Counts])
    after
        stop_peers(Peers)
    end.

bad_options(_Config) ->
    ?assertEqual({error, {invalid_option, timeout, 0}}, live_load_collector:collect([node()], #{timeout => 0})),
    ?assertEqual({error, {invalid_option, nodes, [<<"a">>]}}, live_load_collector:collect([<<"a">>])),
    ?assertEqual({error, {invalid_option, colour, red}}, live_load_collector:collect([node()], #{colour => red})).

%%% Helpers

%% Three known, differently shaped data sets (deterministic).
data_sets() ->
    rand:seed(exsss, {1, 2, 3}),
    [[math:exp(rand:normal(3.0, 1.0)) || _ <- lists:seq(1, 20000)],
     [float(I) || I <- lists:seq(1, 15000)],
     [-math:log(1.0 - rand:uniform()) * 50.0 || _ <- lists:seq(1, 25000)]].

event(I) -> <<"e", (integer_to_binary(I))/binary>>.

start_peers(N) ->
    Paths = lists:usort([filename:dirname(code:which(M)) || M <- [live_load_metrics, live_load_sketch, ?MODULE]]),
    Args = lists:append([["-pa", P] || P <- Paths]),
    Started = [begin
                   {ok, Peer, Node} = peer:start_link(#{name => peer:random_name(), args => Args,
                                                        wait_boot => 60000}),
                   {ok, _} = erpc:call(Node, live_load_metrics_store, start, []),
                   {Peer, Node}
               end || _ <- lists:seq(1, N)],
    lists:unzip(Started).

stop_peers(Peers) ->
    [catch peer:stop(P) || P <- Peers],
    ok.

record_all(Nodes, Sets) ->
    [record_on(N, I, Values) || {I, N, Values} <- lists:zip3(lists:seq(1, length(Nodes)), Nodes, Sets)].

%% The k-th data set is recorded with event "e<k>".
record_on(Node, I, Values) ->
    ok = erpc:call(Node, fun() ->
                                 Dims = #{<<"event">> => event(I)},
                                 lists:foreach(fun(V) -> live_load_metrics:record(?METRIC, V, Dims) end, Values)
                         end).

count_on(Node, N) ->
    ok = erpc:call(Node, fun() ->
                                 lists:foreach(fun(_) -> live_load_metrics:count(<<"iterations">>, 1, #{<<"result">> => <<"ok">>}) end,
                                               lists:seq(1, N))
                         end).

%% Value of rank floor(q * (n - 1)), the rank the sketch estimates.
exact(Q, Sorted) ->
    element(floor(Q * (tuple_size(Sorted) - 1) + 1.0e-9) + 1, Sorted).

assert_close(Q, Exact, Est) ->
    case abs(Est - Exact) =< ?ALPHA * abs(Exact) + 1.0e-9 of
        true -> ok;
        false -> ct:fail({quantile_out_of_bound, Q, Exact, Est})
    end.

truncate(Bin) ->
    binary_part(Bin, 0, byte_size(Bin) - 3).

%% Make Node answer snapshot/0 with Term: a stand-in module loaded on that node only.
serve_snapshot(Node, Term) ->
    ok = erpc:call(Node, persistent_term, put, [live_load_test_snapshot, Term]),
    Forms = [{attribute, 1, module, live_load_metrics},
             {attribute, 2, export, [{snapshot, 0}]},
             {function, 3, snapshot, 0,
              [{clause, 3, [], [],
                [{call, 3, {remote, 3, {atom, 3, persistent_term}, {atom, 3, get}},
                  [{atom, 3, live_load_test_snapshot}]}]}]}],
    {ok, Mod, Bin} = compile:forms(Forms),
    {module, Mod} = erpc:call(Node, code, load_binary, [Mod, "stand_in", Bin]),
    ok.
