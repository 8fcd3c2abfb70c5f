%% @doc The HTML report, end to end: render results with live_load_report_html, open the page
%% from a file:// URL in headless Chromium (test/js/report_check.js, playwright-core driving
%% /usr/bin/chromium) and compare what the page shows with the result.
-module(live_load_report_html_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([record_on_node/1]).
-export([result_made_by_the_tool/0, result_made_by_the_tool/1,
         single_run_report/0, single_run_report/1,
         comparison_report/0, comparison_report/1,
         bad_result_beside_a_good_one/0, bad_result_beside_a_good_one/1,
         unlabelled_results_and_result_lists/0, unlabelled_results_and_result_lists/1,
         malformed_results_show_a_message/0, malformed_results_show_a_message/1,
         empty_run_renders/0, empty_run_renders/1,
         odd_values_do_not_break_the_page/0, odd_values_do_not_break_the_page/1,
         large_run_stays_under_1mb/0, large_run_stays_under_1mb/1,
         render_file_reports_errors/0, render_file_reports_errors/1,
         lost_node_shown_with_its_data/0, lost_node_shown_with_its_data/1]).

-define(F, live_load_report_html_fixture).
-define(SECTIONS, [<<"overview">>, <<"metrics">>, <<"timeseries">>, <<"breakdowns">>, <<"nodes">>,
                   <<"errors">>, <<"counters">>, <<"options">>]).

all() ->
    [result_made_by_the_tool, single_run_report, comparison_report, bad_result_beside_a_good_one,
     unlabelled_results_and_result_lists, malformed_results_show_a_message,
     empty_run_renders, odd_values_do_not_break_the_page, large_run_stays_under_1mb, render_file_reports_errors,
     lost_node_shown_with_its_data].

init_per_suite(Config) ->
    Root = project_root(filename:dirname(code:which(?MODULE))),
    Node = os:find_executable("node"),
    Chromium = "/usr/bin/chromium",
    case {Node, filelib:is_regular(Chromium), filelib:is_dir(filename:join(Root, "node_modules/playwright-core"))} of
        {false, _, _} -> {skip, "node is not installed (make setup)"};
        {_, false, _} -> {skip, "/usr/bin/chromium is not installed (make setup)"};
        {_, _, false} -> {skip, "node_modules/playwright-core is missing (make setup)"};
        _ -> [{root, Root}, {node, Node} | Config]
    end.

end_per_suite(_Config) ->
    ok.

%% ---------------------------------------------------------------------------------------------
result_made_by_the_tool() ->
    [{doc, "Values recorded with live_load_metrics on 3 real peer nodes, collected and merged by "
      "live_load_collector, built by live_load_result: the report shows that result's numbers."}].
result_made_by_the_tool(Config) ->
    Dist = distributed(),
    Peers = [start_peer(I) || I <- [1, 2, 3]],
    try
        Nodes = [N || {_, N} <- Peers],
        [ok = erpc:call(N, ?MODULE, record_on_node, [I]) || {I, {_, N}} <- lists:zip([1, 2, 3], Peers)],
        %% a node that is not there: reported as down, everyone else's data still shown
        Gone = list_to_atom("gone_" ++ os:getpid() ++ "@127.0.0.1"),
        {ok, Collected} = live_load_collector:collect(Nodes ++ [Gone], #{timeout => 10000}),
        R = live_load_result:build(Collected, #{scenario => live_load_demo_counter, duration_ms => 400,
                                                mode => faithful,
                                                users => #{target => 6, started => 6, failed => 0},
                                                options => #{users => 6, mode => faithful}}),
        ct:log("result: ~p bytes of JSON", [iolist_size(live_load_result:to_json(R))]),
        Page = open(Config, "tool", R, false),
        clean_page(Page),
        ?assertEqual(?SECTIONS, maps:get(<<"sections">>, Page)),
        Checks = maps:get(<<"checks">>, Page),
        check_overview(Checks, 0, R),
        check_metrics(Checks, 0, R),
        check_nodes(Checks, 0, R),
        check_breakdowns(Checks, 0, R),
        check_errors(Checks, 0, R),
        check_counters_and_options(Checks, 0, R),
        Down = get_check(Checks, key([<<"node-status">>, 0, atom_to_binary(Gone)])),
        ?assertEqual(<<"down">>, maps:get(<<"text">>, Down)),
        ?assertEqual(<<"bad">>, maps:get(<<"class">>, Down)),
        [number_matches(Checks, key([<<"node-iterations">>, 0, atom_to_binary(N)]), 20) || N <- Nodes],
        %% node 3 recorded the slowest events: its p95 cell is marked
        Slow = get_check(Checks, key([<<"node">>, 0, atom_to_binary(lists:last(Nodes)), <<"liveview.event">>, <<"p95">>])),
        ?assertEqual(<<"slowest">>, maps:get(<<"class">>, Slow)),
        [check_chart(C) || C <- maps:get(<<"charts">>, Page)],
        ?assert(length(maps:get(<<"charts">>, Page)) >= 3 + 3),
        non_blank(maps:get(<<"screenshot">>, Page))
    after
        [peer:stop(P) || {P, _} <- Peers],
        Dist =:= started andalso net_kernel:stop()
    end.

lost_node_shown_with_its_data() ->
    [{doc, "A node lost mid-run (periodic pulls, live_load_collector:start_pulling/2): the page "
      "shows it down with the time it was lost, and its figures up to the last pull beside the others'."}].
lost_node_shown_with_its_data(Config) ->
    Dist = distributed(),
    Peers = [start_peer(I) || I <- [1, 2]],
    try
        [N1, N2] = Nodes = [N || {_, N} <- Peers],
        [ok = erpc:call(N, ?MODULE, record_on_node, [I]) || {I, N} <- lists:zip([1, 2], Nodes)],
        {ok, Puller} = live_load_collector:start_pulling(Nodes, #{interval_ms => 100}),
        timer:sleep(500),
        erpc:cast(N2, erlang, halt, []),
        timer:sleep(500),
        {ok, Collected} = live_load_collector:stop_pulling(Puller),
        R = live_load_result:build(Collected, #{scenario => lost_node, duration_ms => 1000}),
        #{<<"down_at">> := DownAt} = Lost = hd([E || #{<<"node">> := Nm} = E <- maps:get(<<"nodes">>, R),
                                                     Nm =:= atom_to_binary(N2)]),
        ?assertEqual(<<"down">>, maps:get(<<"status">>, Lost)),
        Checks = maps:get(<<"checks">>, open(Config, "lost", R, false)),
        check_nodes(Checks, 0, R),
        At = get_check(Checks, key([<<"node-down-at">>, 0, atom_to_binary(N2)])),
        ?assertEqual(DownAt, maps:get(<<"text">>, At)),
        ?assertEqual(<<"bad">>, maps:get(<<"class">>, At)),
        ?assertEqual(<<"ok">>, check_text(Checks, key([<<"node-status">>, 0, atom_to_binary(N1)]))),
        %% the lost node's figures are compared with the others'
        number_matches(Checks, key([<<"node">>, 0, atom_to_binary(N2), <<"liveview.event">>, <<"p95">>]),
                       maps:get(<<"p95">>, maps:get(<<"liveview.event">>, maps:get(<<"metrics">>, Lost))))
    after
        [catch peer:stop(P) || {P, _} <- Peers],
        Dist =:= started andalso net_kernel:stop()
    end.

%% Runs on peer I: a short run whose values grow with I, across several 50 ms buckets.
record_on_node(I) ->
    case live_load_metrics_store:start() of
        {ok, _} -> ok;
        {error, {already_started, _}} -> ok
    end,
    ok = live_load_metrics:declare(<<"http.bytes">>, #{unit => bytes}),
    ok = live_load_metrics:start_run(#{bucket_ms => 50}),
    lists:foreach(
      fun(Round) ->
              [begin
                   Event = lists:nth(K rem 3 + 1, [<<"inc">>, <<"dec">>, <<"save">>]),
                   ok = live_load_metrics:record(<<"liveview.event">>, I * (1 + K rem 20) * (1 + K rem 3) / 2,
                                                 #{<<"event">> => Event, <<"type">> => <<"click">>}),
                   ok = live_load_metrics:record(<<"liveview.connect">>, 20 + I * K rem 37, #{<<"route">> => <<"/counter">>}),
                   ok = live_load_metrics:record(<<"http.bytes">>, 1000 + 10 * K, #{<<"route">> => <<"/counter">>})
               end || K <- lists:seq(1, 60)],
              Result = if Round =:= 2, I =:= 2 -> <<"failed">>; true -> <<"ok">> end,
              ok = live_load_metrics:count(<<"iterations">>, 5, #{<<"result">> => Result}),
              timer:sleep(60)
      end, lists:seq(1, 4)),
    ok = live_load_metrics:error(<<"navigation_error">>, <<"net::ERR_CONNECTION_REFUSED">>, undefined),
    ok = live_load_metrics:error(<<"timeout">>, <<"no patch within 5000 ms">>, <<"liveview.event">>),
    ok.

distributed() ->
    case node() of
        nonode@nohost ->
            _ = os:cmd("epmd -daemon"),
            Name = list_to_atom("report_ct_" ++ os:getpid()),
            case net_kernel:start([Name, shortnames]) of
                {ok, _} -> started;
                {error, Reason} -> ct:fail({no_distribution, Reason})
            end;
        _ -> already
    end.

start_peer(I) ->
    Name = list_to_atom(peer:random_name("report_" ++ integer_to_list(I))),
    {ok, Pid, Node} = peer:start_link(#{name => Name, args => ["-pa" | code:get_path()], wait_boot => 60000}),
    {Pid, Node}.

single_run_report() ->
    [{doc, "A 10-minute, 3-node, 50-metric result: every section with the result's numbers, all "
      "charts drawn, no console error, no request, a non-blank screenshot, a page that fits paper."}].
single_run_report(Config) ->
    R = ?F:result(#{duration_ms => 600000, nodes => 3, metrics => 50}),
    Page = open(Config, "single", R, true),
    clean_page(Page),
    ?assertEqual(?SECTIONS, maps:get(<<"sections">>, Page)),
    ?assertEqual([], maps:get(<<"messages">>, Page)),
    Checks = maps:get(<<"checks">>, Page),
    check_overview(Checks, 0, R),
    check_metrics(Checks, 0, R),
    check_nodes(Checks, 0, R),
    check_breakdowns(Checks, 0, R),
    check_errors(Checks, 0, R),
    check_counters_and_options(Checks, 0, R),
    %% breakdown tables start sorted by p95, slowest first
    Rows = maps:get(<<"breakdown|liveview.event|event">>, maps:get(<<"tables">>, Page)),
    ?assertEqual([<<"save">>, <<"validate">>, <<"inc">>, <<"search">>, <<"dec">>], [hd(Row) || Row <- Rows]),
    %% filtering by name narrows the table and the curves; sorting by p95 puts the slowest first
    #{<<"filtered">> := #{<<"rows">> := FRows, <<"charts">> := FCharts}, <<"unfiltered_rows">> := 50,
      <<"unfiltered_charts">> := 50, <<"sorted_by_p95">> := ByP95} = maps:get(<<"interactions">>, Page),
    LiveView = lists:sort([N || N <- maps:keys(maps:get(<<"metrics">>, R)), binary:match(N, <<"liveview.">>) =/= nomatch]),
    ?assertEqual(4, length(LiveView)),
    ?assertEqual(LiveView, lists:sort(FRows)),
    ?assertEqual([<<"quantiles|", N/binary>> || N <- LiveView], lists:sort(FCharts)),
    Slowest = [N || {_, N} <- lists:reverse(lists:sort([{expected(R, N, <<"p95">>), N} || N <- maps:keys(maps:get(<<"metrics">>, R))]))],
    ?assertEqual(Slowest, ByP95),
    %% 50 quantile curves + throughput + errors + latency over time, all drawn on a canvas
    Charts = maps:get(<<"charts">>, Page),
    ?assertEqual(53, length(Charts)),
    [check_chart(C) || C <- Charts],
    Names = [maps:get(<<"name">>, C) || C <- Charts],
    ?assert(lists:member(<<"quantiles|liveview.event">>, Names)),
    ?assert(lists:member(<<"throughput">>, Names)),
    ?assert(lists:member(<<"errors">>, Names)),
    ?assert(lists:member(<<"latency">>, Names)),
    non_blank(maps:get(<<"screenshot">>, Page)),
    Print = maps:get(<<"print">>, Page),
    non_blank(Print),
    ?assert(maps:get(<<"hidden_nav">>, Print)),
    ?assert(maps:get(<<"widest_chart">>, Print) =< 700),
    ?assert(maps:get(<<"scroll_width">>, Print) =< 700),
    ok.

comparison_report() ->
    [{doc, "Two results in one report: both runs' numbers side by side, deltas in percent coloured "
      "by better/worse, labels shown as given (escaped), one curve per run."}].
comparison_report(Config) ->
    Base = ?F:result(#{duration_ms => 120000, nodes => 2, metrics => 15}),
    Cur = ?F:result(#{duration_ms => 120000, nodes => 2, metrics => 15, scale => 1.25}),
    Label = <<"current <b>\"A&B\"</b>">>,
    Page = open(Config, "compare", [{<<"baseline">>, json(Base)}, {Label, json(Cur)}], false),
    clean_page(Page),
    ?assertEqual(?SECTIONS, maps:get(<<"sections">>, Page)),
    Subtitle = maps:get(<<"subtitle">>, Page),
    ?assertNotEqual(nomatch, binary:match(Subtitle, Label)),
    ?assertNotEqual(nomatch, binary:match(Subtitle, <<"baseline">>)),
    Checks = maps:get(<<"checks">>, Page),
    check_overview(Checks, 0, Base),
    check_overview(Checks, 1, Cur),
    %% the metrics table compares p95 by default
    Metrics = maps:get(<<"metrics">>, Cur),
    [begin
         B = expected(Base, Name, <<"p95">>),
         C = expected(Cur, Name, <<"p95">>),
         number_matches(Checks, key([<<"metric">>, 0, Name, <<"p95">>]), B),
         number_matches(Checks, key([<<"metric">>, 1, Name, <<"p95">>]), C),
         D = get_check(Checks, key([<<"metric-delta">>, 1, Name, <<"p95">>])),
         ?assert(abs(maps:get(<<"value">>, D) - 25.0) < 0.01),
         ?assert(parse_number(maps:get(<<"text">>, D)) == 25),
         ?assertNotEqual(nomatch, binary:match(maps:get(<<"class">>, D), <<"worse">>))
     end || Name <- maps:keys(Metrics)],
    %% details below are for the last run (the current one)
    check_nodes(Checks, 1, Cur),
    Charts = maps:get(<<"charts">>, Page),
    ?assertEqual(15 + 3, length(Charts)),
    [check_chart(C) || C <- Charts],
    non_blank(maps:get(<<"screenshot">>, Page)),
    ok.

bad_result_beside_a_good_one() ->
    [{doc, "A malformed result next to a good one: the good one is shown, the bad one named with why."}].
bad_result_beside_a_good_one(Config) ->
    Good = ?F:result(#{duration_ms => 60000, nodes => 1, metrics => 5}),
    Page = open(Config, "partial", [{<<"broken">>, <<"{\"format\":">>}, {<<"good">>, json(Good)}], false),
    clean_page(Page),
    [Msg] = maps:get(<<"messages">>, Page),
    ?assertNotEqual(nomatch, binary:match(Msg, <<"“broken”"/utf8>>)),
    ?assertNotEqual(nomatch, binary:match(Msg, <<"not valid JSON">>)),
    ?assertEqual(?SECTIONS, maps:get(<<"sections">>, Page)),
    check_overview(maps:get(<<"checks">>, Page), 0, Good),
    ok.

unlabelled_results_and_result_lists() ->
    [{doc, "Results given without labels (as the CLI does) are named by scenario, or \"run N\" when "
      "scenarios repeat; a JSON array of results (the CLI's file for several scenarios) shows each. "
      "Different scenarios are shown side by side without deltas: a delta between unrelated "
      "scenarios would read as a regression verdict that means nothing."}].
unlabelled_results_and_result_lists(Config) ->
    A = ?F:result(#{duration_ms => 60000, metrics => 3}),
    B = with_scenario(?F:result(#{duration_ms => 60000, metrics => 3, scale => 2.0}), <<"live_load_demo_form">>),
    ?assertEqual(<<"2 scenarios side by side (different scenarios: no deltas): live_load_demo_counter, live_load_demo_form"/utf8>>,
                 maps:get(<<"subtitle">>, open(Config, "by_scenario", [A, B], false))),
    ?assertEqual(<<"Comparing 2 runs against the baseline “run 1”: run 1, run 2"/utf8>>,
                 maps:get(<<"subtitle">>, open(Config, "by_number", [A, A], false))),
    Page = open(Config, "array", <<"[", (json(A))/binary, ",", (json(B))/binary, "]">>, false),
    clean_page(Page),
    ?assertEqual(<<"2 scenarios side by side (different scenarios: no deltas): "
                   "run #1 live_load_demo_counter, run #2 live_load_demo_form"/utf8>>, maps:get(<<"subtitle">>, Page)),
    Checks = maps:get(<<"checks">>, Page),
    check_overview(Checks, 0, A),
    check_overview(Checks, 1, B),
    number_matches(Checks, <<"metric|1|liveview.event|p95">>, expected(B, <<"liveview.event">>, <<"p95">>)),
    ?assertEqual(error, maps:find(<<"metric-delta|1|liveview.event|p95">>, Checks)),
    ?assertEqual(error, maps:find(<<"overview-delta|1|iterations_ok">>, Checks)),
    %% The CLI's results file (live_load.results/1) shows each result, named by its scenario.
    File = iolist_to_binary(live_load_result:results_to_json([A, B])),
    Env = open(Config, "envelope", File, false),
    clean_page(Env),
    ?assertEqual(<<"2 scenarios side by side (different scenarios: no deltas): "
                   "live_load_demo_counter, live_load_demo_form"/utf8>>, maps:get(<<"subtitle">>, Env)),
    check_overview(maps:get(<<"checks">>, Env), 1, B),
    %% The same scenario twice is a comparison: deltas against the first run.
    Same = open(Config, "same_scenario", [A, with_scenario(B, <<"live_load_demo_counter">>)], false),
    D = get_check(maps:get(<<"checks">>, Same), <<"metric-delta|1|liveview.event|p95">>),
    ?assert(abs(maps:get(<<"value">>, D) - 100) < 0.01),
    ?assertEqual(<<"+100 %">>, maps:get(<<"text">>, D)),
    ok.

with_scenario(R = #{<<"run">> := Run}, S) -> R#{<<"run">> := Run#{<<"scenario">> := S}}.

malformed_results_show_a_message() ->
    [{doc, "Empty, non-JSON, wrong-format and incomplete results, and a report without any result, "
      "each render a page that says what is wrong instead of a blank page."}].
malformed_results_show_a_message(Config) ->
    %% one result alone
    Empty = open(Config, "empty", <<>>, false),
    clean_page(Empty),
    ?assertEqual([], maps:get(<<"sections">>, Empty)),
    ?assertEqual([<<"This result could not be shown: The embedded result is empty.">>], maps:get(<<"messages">>, Empty)),
    non_blank(maps:get(<<"screenshot">>, Empty)),
    %% no result at all
    None = open(Config, "none", [], false),
    clean_page(None),
    [NoneMsg] = maps:get(<<"messages">>, None),
    ?assertNotEqual(nomatch, binary:match(NoneMsg, <<"contains no result">>)),
    %% several bad ones: one message each, in order
    Bad = [{<<"a">>, <<"not json at all">>, <<"not valid JSON">>},
           {<<"b">>, <<"{}">>, <<"The result is empty">>},
           {<<"c">>, <<"[1,2,3]">>, <<"not a JSON object">>},
           {<<"d">>, <<"{\"format\":\"other/9\",\"run\":{}}">>, <<"Unsupported result format \"other/9\"">>},
           {<<"e">>, <<"{\"format\":\"live_load.result/1\"}">>, <<"no \"run\" object">>},
           {<<"f">>, <<"{\"run\":{}}">>, <<"no \"format\" field">>}],
    Page = open(Config, "malformed", [{L, J} || {L, J, _} <- Bad], false),
    clean_page(Page),
    Msgs = maps:get(<<"messages">>, Page),
    ?assertEqual(length(Bad), length(Msgs)),
    [begin
         ?assertNotEqual(nomatch, binary:match(M, <<"“"/utf8, L/binary, "”"/utf8>>), {L, M}),
         ?assertNotEqual(nomatch, binary:match(M, Why), {L, M})
     end || {{L, _, Why}, M} <- lists:zip(Bad, Msgs)],
    ok.

empty_run_renders() ->
    [{doc, "A valid result of a run that recorded nothing shows every section with a note, no error."}].
empty_run_renders(Config) ->
    R = #{<<"format">> => <<"live_load.result/1">>,
          <<"run">> => #{<<"scenario">> => <<"idle">>, <<"duration_ms">> => 1000,
                         <<"users">> => #{<<"target">> => 0, <<"started">> => 0, <<"failed">> => 0},
                         <<"iterations">> => #{<<"ok">> => 0, <<"failed">> => 0, <<"halted">> => 0},
                         <<"nodes">> => [<<"nonode@nohost">>], <<"options">> => #{}},
          <<"quantile_points">> => [I / 100 || I <- lists:seq(0, 100)],
          <<"metrics">> => #{}, <<"counters">> => #{},
          <<"time_series">> => #{<<"bucket_ms">> => 5000, <<"buckets">> => []},
          <<"nodes">> => [], <<"errors">> => []},
    Page = open(Config, "idle", json(R), false),
    clean_page(Page),
    ?assertEqual(?SECTIONS, maps:get(<<"sections">>, Page)),
    ?assertEqual([], maps:get(<<"charts">>, Page)),
    Checks = maps:get(<<"checks">>, Page),
    ?assertEqual(<<"–"/utf8>>, maps:get(<<"text">>, get_check(Checks, <<"overview|0|error_rate">>))),
    ?assertEqual(<<"0">>, maps:get(<<"text">>, get_check(Checks, <<"overview|0|iterations_ok">>))),
    non_blank(maps:get(<<"screenshot">>, Page)),
    ok.

odd_values_do_not_break_the_page() ->
    [{doc, "A result in the right format with nulls, wrong types and missing parts where numbers "
      "should be (empty sketches, failed nodes, strings for counts) still draws every section, "
      "shows '–' for what it cannot read and draws the charts it can."}].
odd_values_do_not_break_the_page(Config) ->
    {ok, Json} = file:read_file(filename:join(?config(data_dir, Config), "odd_values.json")),
    Page = open(Config, "odd", Json, false),
    clean_page(Page),
    ?assertEqual(?SECTIONS, maps:get(<<"sections">>, Page)),
    ?assertEqual([], maps:get(<<"messages">>, Page)),
    Checks = maps:get(<<"checks">>, Page),
    ?assertEqual(<<"–"/utf8>>, check_text(Checks, <<"metric|0|liveview.event|p95">>)),
    ?assertEqual(<<"–"/utf8>>, check_text(Checks, <<"metric|0|x.weird|count">>)),
    number_matches(Checks, <<"metric|0|y.bytes|max">>, 2.0),
    ?assertEqual(<<"invalid">>, check_text(Checks, <<"node-status|0|a@h">>)),
    number_matches(Checks, <<"counter|0|c">>, 3),
    Charts = maps:get(<<"charts">>, Page),
    Drawn = lists:sort([maps:get(<<"name">>, C) || C <- Charts, maps:get(<<"kind">>, C) =:= <<"canvas">>]),
    ?assertEqual([<<"errors">>, <<"quantiles|y.bytes">>], Drawn),
    [?assertEqual(<<"No data points for this chart.">>, maps:get(<<"note">>, C))
     || C <- Charts, maps:get(<<"kind">>, C) =:= null],
    ok.

large_run_stays_under_1mb() ->
    [{doc, "A 10-minute, 3-node, 50-metric result with full-precision numbers renders under 1 MB."}].
large_run_stays_under_1mb(_Config) ->
    R = ?F:full_precision(?F:result(#{duration_ms => 600000, bucket_ms => 5000, nodes => 3, metrics => 50})),
    Json = json(R),
    Html = iolist_to_binary(live_load_report_html:render(Json)),
    ct:pal("10 min / 3 nodes / 50 metrics: result JSON ~p bytes, report ~p bytes (template ~p bytes)",
           [byte_size(Json), byte_size(Html), byte_size(live_load_report_html:template())]),
    ?assert(byte_size(Json) > 800000),  % a realistic amount of data
    ?assert(byte_size(Html) < 1000000),
    ok.

render_file_reports_errors() ->
    [{doc, "render_file/2 writes the page or returns {error, {file, Path, Reason}}; "
      "render/1 rejects terms that are not results."}].
render_file_reports_errors(Config) ->
    Path = filename:join(?config(priv_dir, Config), "written.html"),
    ok = live_load_report_html:render_file(<<"{}">>, Path),
    {ok, Written} = file:read_file(Path),
    ?assertEqual(Written, iolist_to_binary(live_load_report_html:render(<<"{}">>))),
    Bad = "/nonexistent-dir/report.html",
    ?assertEqual({error, {file, Bad, enoent}}, live_load_report_html:render_file(<<"{}">>, Bad)),
    ?assertError(badarg, live_load_report_html:render(not_a_result)),
    ?assertError(badarg, live_load_report_html:render([{<<"x">>, 42}])),
    ok.

%% ---------------------------------------------------------------------------------------------
%% checks of page content against the result

check_overview(Checks, I, R) ->
    Run = maps:get(<<"run">>, R),
    It = maps:get(<<"iterations">>, Run),
    [Ok, Failed, Halted] = [maps:get(K, It, 0) || K <- [<<"ok">>, <<"failed">>, <<"halted">>]],
    Total = Ok + Failed + Halted,
    Users = maps:get(<<"users">>, Run),
    Expect = [{<<"iterations_ok">>, Ok}, {<<"iterations_failed">>, Failed}, {<<"iterations_halted">>, Halted},
              {<<"users_target">>, maps:get(<<"target">>, Users)}, {<<"users_started">>, maps:get(<<"started">>, Users)},
              {<<"users_failed">>, maps:get(<<"failed">>, Users)},
              {<<"nodes">>, length(maps:get(<<"nodes">>, Run))},
              {<<"duration_ms">>, maps:get(<<"duration_ms">>, Run)},
              {<<"error_rate">>, Failed / Total * 100},
              {<<"throughput">>, Total / (maps:get(<<"duration_ms">>, Run) / 1000)}],
    [number_matches(Checks, key([<<"overview">>, I, K]), V) || {K, V} <- Expect],
    ?assertEqual(maps:get(<<"scenario">>, Run), check_text(Checks, key([<<"overview">>, I, <<"scenario">>]))),
    ?assertEqual(shown_time(maps:get(<<"started_at">>, Run)), check_text(Checks, key([<<"overview">>, I, <<"started_at">>]))),
    ?assertEqual(maps:get(<<"mode">>, Run), check_text(Checks, key([<<"overview">>, I, <<"mode">>]))).

check_metrics(Checks, I, R) ->
    [[number_matches(Checks, key([<<"metric">>, I, Name, Stat]), expected(R, Name, Stat))
      || Stat <- [<<"count">>, <<"errors">>, <<"mean">>, <<"p50">>, <<"p95">>, <<"p99">>, <<"max">>]]
     || Name <- maps:keys(maps:get(<<"metrics">>, R))].

expected(R, Name, Stat) ->
    stat(R, maps:get(Name, maps:get(<<"metrics">>, R)), Stat).

stat(_R, Summary, <<"p", N/binary>>) ->
    lists:nth(binary_to_integer(N) + 1, maps:get(<<"quantiles">>, Summary));
stat(_R, Summary, Stat) ->
    maps:get(Stat, Summary).

check_nodes(Checks, I, R) ->
    [begin
         ?assertEqual(maps:get(<<"status">>, N), check_text(Checks, key([<<"node-status">>, I, maps:get(<<"node">>, N)]))),
         [number_matches(Checks, key([<<"node">>, I, maps:get(<<"node">>, N), M, <<"p95">>]), maps:get(<<"p95">>, S))
          || {M, S} <- maps:to_list(maps:get(<<"metrics">>, N, #{}))]
     end || N <- maps:get(<<"nodes">>, R)].

check_breakdowns(Checks, I, R) ->
    Found = [[[[number_matches(Checks, key([<<"breakdown">>, I, Name, Dim, V, Stat]), stat(R, S, Stat))
                || Stat <- [<<"count">>, <<"p50">>, <<"p95">>, <<"p99">>, <<"max">>]]
               || {V, S} <- maps:to_list(Values)]
              || {Dim, Values} <- maps:to_list(maps:get(<<"by">>, M))]
             || {Name, M} <- maps:to_list(maps:get(<<"metrics">>, R))],
    ?assert(length(lists:flatten(Found)) > 0).

%% One row per kind: the sum of its counts, first/last seen spanning all its messages.
check_errors(Checks, I, R) ->
    Groups = lists:foldl(fun(#{<<"kind">> := K, <<"count">> := N, <<"first_at">> := F, <<"last_at">> := L}, Acc) ->
                                 maps:update_with(K, fun({N0, F0, L0}) -> {N0 + N, min(F0, F), max(L0, L)} end,
                                                  {N, F, L}, Acc)
                         end, #{}, maps:get(<<"errors">>, R)),
    ?assert(map_size(Groups) > 0),
    [begin
         number_matches(Checks, key([<<"error">>, I, K, <<"count">>]), N),
         ?assertEqual(shown_time(F), check_text(Checks, key([<<"error">>, I, K, <<"first_at">>]))),
         ?assertEqual(shown_time(L), check_text(Checks, key([<<"error">>, I, K, <<"last_at">>])))
     end || {K, {N, F, L}} <- maps:to_list(Groups)].

%% "2026-11-22T05:10:01.250Z" is shown as "2026-11-22 05:10:01 UTC".
shown_time(<<Date:10/binary, "T", Time:8/binary, _/binary>>) ->
    <<Date/binary, " ", Time/binary, " UTC">>.

check_counters_and_options(Checks, I, R) ->
    [number_matches(Checks, key([<<"counter">>, I, K]), maps:get(<<"total">>, C)) || {K, C} <- maps:to_list(maps:get(<<"counters">>, R))],
    Opts = maps:get(<<"options">>, maps:get(<<"run">>, R)),
    ?assert(map_size(Opts) > 0),
    [?assertEqual(if is_binary(V) -> V; true -> json(V) end, check_text(Checks, key([<<"option">>, I, K])))
     || {K, V} <- maps:to_list(Opts)].

%% The element's raw value is the result's number, and its text shows that number (3 significant
%% digits, whole numbers from 1000 up) with its unit.
number_matches(Checks, Key, Expected) ->
    #{<<"text">> := Text, <<"value">> := Value} = get_check(Checks, Key),
    ?assert(is_number(Value), {Key, no_value}),
    ?assert(abs(Value - Expected) =< 1.0e-9 * max(1, abs(Expected)), {Key, Value, Expected}),
    Shown = parse_number(Text),
    Tolerance = max(0.0051 * abs(Expected), case abs(Expected) >= 1000 of true -> 0.5; false -> 0 end) + 1.0e-9,
    ?assert(abs(Shown - Expected) =< Tolerance, {Key, Text, Expected}).

get_check(Checks, Key) ->
    case maps:find(Key, Checks) of
        {ok, C} -> C;
        error -> ct:fail({missing_in_page, Key})
    end.

check_text(Checks, Key) -> maps:get(<<"text">>, get_check(Checks, Key)).

key(Parts) ->
    iolist_to_binary(lists:join(<<"|">>, [if is_integer(P) -> integer_to_binary(P); true -> P end || P <- Parts])).

%% "1,234 ms" -> 1234; "3.52 kB" -> 3520; "+25 %" -> 25; "600 s (10:00)" -> 600000 (ms).
parse_number(Text) ->
    Plain = binary:replace(Text, [<<",">>, <<"−"/utf8>>], <<>>, [global]),
    {Sign, Num, Unit} =
        case re:run(Plain, "^([+±-]?)\\s*([0-9]+(?:\\.[0-9]+)?)\\s*(ms|s|B|kB|MB|GB|%|iterations/s)?",
                    [unicode, {capture, all_but_first, binary}]) of
            {match, [S, N0, U]} -> {S, N0, U};
            {match, [S, N0]} -> {S, N0, <<>>}
        end,
    N = binary_to_number(Num),
    Scale = case Unit of
                <<"s">> -> 1000; <<"kB">> -> 1.0e3; <<"MB">> -> 1.0e6; <<"GB">> -> 1.0e9; _ -> 1
            end,
    case {Sign, binary:match(Text, <<"−"/utf8>>)} of
        {<<"-">>, _} -> -N * Scale;
        {_, {0, _}} -> -N * Scale;
        _ -> N * Scale
    end.

binary_to_number(B) ->
    case binary:match(B, <<".">>) of
        nomatch -> binary_to_integer(B);
        _ -> binary_to_float(B)
    end.

check_chart(C) ->
    Name = maps:get(<<"name">>, C),
    ?assertEqual(<<"canvas">>, maps:get(<<"kind">>, C), Name),
    ?assert(maps:get(<<"width">>, C) > 200, Name),
    ?assert(maps:get(<<"height">>, C) > 100, Name),
    ?assert(maps:get(<<"drawn">>, C), Name).

clean_page(Page) ->
    ?assert(maps:get(<<"ready">>, Page)),
    ?assertEqual([], maps:get(<<"console_errors">>, Page)),
    ?assertEqual([], maps:get(<<"page_errors">>, Page)),
    ?assertEqual([], maps:get(<<"requests">>, Page)).

%% Not one flat colour: many colours and a real share of non-background pixels.
non_blank(Shot) ->
    ?assert(maps:get(<<"colors">>, Shot) > 10, Shot),
    ?assert(maps:get(<<"non_background">>, Shot) > 0.01, Shot).

%% ---------------------------------------------------------------------------------------------
%% rendering and opening a report

open(Config, Name, Input, Print) ->
    Dir = ?config(priv_dir, Config),
    Html = filename:join(Dir, Name ++ ".html"),
    ok = live_load_report_html:render_file(Input, Html),
    Png = filename:join(Dir, Name ++ ".png"),
    Args = [script(Config), Html, Png] ++ [filename:join(Dir, Name ++ "-print.png") || Print],
    ct:log("report ~s: ~p bytes, screenshot ~s", [Html, filelib:file_size(Html), Png]),
    Out = run_node(Config, Args),
    {ok, Page} = live_load_json:decode(Out),
    ct:pal("report ~s: ~p bytes, drawn in ~p ms (load to ready, headless Chromium)",
           [Name, filelib:file_size(Html), maps:get(<<"ready_ms">>, Page)]),
    Page.

json(Term) ->
    iolist_to_binary(live_load_json:encode(Term)).

script(Config) ->
    filename:join(?config(root, Config), "test/js/report_check.js").

run_node(Config, Args) ->
    Port = open_port({spawn_executable, ?config(node, Config)},
                     [{args, Args}, exit_status, binary, {env, [{"LIVE_LOAD_ROOT", ?config(root, Config)}]}]),
    collect(Port, []).

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, [D | Acc]);
        {Port, {exit_status, 0}} -> iolist_to_binary(lists:reverse(Acc));
        {Port, {exit_status, S}} -> ct:fail({report_check_failed, S, iolist_to_binary(lists:reverse(Acc))})
    after 300000 ->
        catch port_close(Port),
        ct:fail(report_check_timeout)
    end.

project_root(Dir) ->
    case filelib:is_regular(filename:join(Dir, "rebar.config")) of
        true -> Dir;
        false when Dir =:= "/" -> error(no_project_root);
        false -> project_root(filename:dirname(Dir))
    end.
