%% EUnit: the pure parts of the CI features — threshold parser and evaluation, JUnit (parsed back
%% with xmerl), compare's noise rule, saved runs, the data file readers and strategies, the
%% Prometheus text format and the CLI flags.
-module(live_load_ci_tests).
-include_lib("eunit/include/eunit.hrl").
-include_lib("xmerl/include/xmerl.hrl").

%%% Thresholds

parse_ok_test() ->
    {ok, T1} = live_load_threshold:parse("liveview.event{event=inc}.p95 < 100ms"),
    ?assertMatch(#{metric := <<"liveview.event">>, dim := {<<"event">>, <<"inc">>}, statistic := <<"p95">>,
                   op := <<"<">>, limit := 100}, T1),
    ?assertMatch({ok, #{metric := <<"iterations">>, statistic := <<"failed_rate">>, limit := 1}},
                 live_load_threshold:parse("iterations.failed_rate < 1%")),
    ?assertMatch({ok, #{statistic := <<"p99">>, op := <<"<=">>, limit := 1000}},
                 live_load_threshold:parse("liveview.connect.p99 <= 1s")),
    ?assertMatch({ok, #{dim := {<<"status">>, <<"500">>}, statistic := <<"count">>, op := <<"==">>, limit := 0}},
                 live_load_threshold:parse(<<"http.requests{status=500}.count == 0">>)),
    ?assertMatch({ok, #{statistic := <<"p99.9">>, limit := 2000}}, live_load_threshold:parse("liveview.event.p99.9 < 2s")),
    ?assertMatch({ok, #{metric := <<"my.metric">>, limit := 1.5e6}}, live_load_threshold:parse("my.metric.max < 1.5MB")),
    ?assertMatch({ok, #{metric := <<"http.bytes">>, limit := 1.5e3}}, live_load_threshold:parse("http.bytes.p50 < 1.5kB")),
    ?assertMatch({ok, #{statistic := <<"rate">>, limit := 5}}, live_load_threshold:parse("iterations.rate >= 5/s")).

parse_errors_test() ->
    Msg = fun(E) ->
                  {error, R} = live_load_threshold:parse(E),
                  iolist_to_binary(live_load_threshold:format_error(R))
          end,
    ?assertEqual(<<"'liveview.evnt.p95 < 100ms': no metric liveview.evnt (did you mean liveview.event?)">>,
                 Msg("liveview.evnt.p95 < 100ms")),
    ?assertMatch(<<"'liveview.event.p42x < 1': statistic p42x (expected", _/binary>>, Msg("liveview.event.p42x < 1")),
    ?assertMatch(<<"'liveview.event.p101 < 1': statistic p101", _/binary>>, Msg("liveview.event.p101 < 1")),
    ?assertMatch(<<"'liveview.event.p95 =< 1': comparison =< ", _/binary>>, Msg("liveview.event.p95 =< 1")),
    ?assertMatch(<<"'liveview.event.p95 = 1': comparison = ", _/binary>>, Msg("liveview.event.p95 = 1")),
    ?assertMatch(<<"'liveview.event.p95 < 10xs': unit xs (expected ms, s or m for a time)">>, Msg("liveview.event.p95 < 10xs")),
    ?assertMatch(<<"'iterations.failed_rate < 1ms': unit ms (expected % for failed_rate)">>, Msg("iterations.failed_rate < 1ms")),
    ?assertMatch(<<"'liveview.event.p95 100': no comparison", _/binary>>, Msg("liveview.event.p95 100")),
    ?assertMatch(<<"'liveview.event < 100': liveview.event has no statistic", _/binary>>, Msg("liveview.event < 100")),
    ?assertMatch(<<"'x.p95 < abc': value abc", _/binary>>, Msg("x.p95 < abc")),
    ?assertMatch(<<"'liveview.event{a=1,b=2}.p95 < 1': {a=1,b=2}: one dimension", _/binary>>,
                 Msg("liveview.event{a=1,b=2}.p95 < 1")),
    %% a custom metric far from every documented name is accepted (checked on the result)
    ?assertMatch({ok, _}, live_load_threshold:parse("checkout.total.p95 < 3s")),
    ?assertMatch({error, {invalid_threshold, _, _}}, live_load_threshold:parse_all(["iterations.count > 0", "bad"])),
    ?assertMatch({error, {invalid_threshold, _, {no_metric, <<"liveview.evnt">>, _}}},
                 live_load_options:validate(#{scenario => live_load_runner_sleep_scenario,
                                              thresholds => ["liveview.evnt.p95 < 1s"]})).

documented_names_match_events_guide_test() ->
    {ok, Guide} = file:read_file(filename:join(root(), "guides/events.md")),
    [_, Section] = binary:split(Guide, <<"## Metrics recorded">>),
    {match, Cells} = re:run(Section, <<"^\\| ([^|]+) \\|">>, [global, multiline, {capture, all_but_first, binary}]),
    Listed = lists:usort([N || [Cell] <- Cells, {match, Ns} <- [re:run(Cell, <<"`([a-z_.]+)`">>, [global, {capture, all_but_first, binary}])],
                               [N] <- Ns]),
    Runner = [<<"iteration.duration">>, <<"iterations">>],   %% named in the guide's last paragraph
    ?assertEqual(Listed, lists:usort(live_load_threshold:documented_names() -- Runner)),
    [?assertNotEqual(nomatch, binary:match(Section, <<"`", N/binary, "`">>)) || N <- Runner].

evaluate_test() ->
    R = result(#{<<"liveview.event">> => {100, 2, 40.0, #{<<"event">> => #{<<"inc">> => {60, 0, 30.0}}}}},
               #{<<"iterations">> => {10, #{<<"result">> => #{<<"ok">> => 9, <<"failed">> => 1}}},
                 <<"http.requests">> => {50, #{<<"status">> => #{<<"200">> => 50}}}}),
    {ok, Ts} = live_load_threshold:parse_all(
                 ["liveview.event.p95 < 50ms", "liveview.event{event=inc}.p95 < 20ms", "iterations.failed_rate < 5%",
                  "http.requests{status=500}.count == 0", "liveview.event.count >= 100", "liveview.event.rate > 9",
                  "liveview.event.failed_rate < 1%", "liveview.connect.p95 < 1s", "mine.p50 < 1", "liveview.event.p99.9 < 1s"]),
    Vs = live_load_threshold_eval:evaluate(Ts, R),
    Pass = [maps:get(<<"pass">>, V) || V <- Vs],
    Obs = [maps:get(<<"observed">>, V) || V <- Vs],
    ?assertEqual([true, false, false, true, true, true, false, false, false, true], Pass),
    ?assertEqual([40.0, 30.0, 10.0, 0, 100, 10.0, 100 * 2 / 102, null, null, 40.0], Obs),
    ?assertEqual(<<"no metric mine in the result">>, maps:get(<<"reason">>, lists:nth(9, Vs))),
    %% the section survives JSON
    R1 = R#{<<"thresholds">> => Vs},
    ?assertEqual({ok, R1}, live_load_result:from_json(iolist_to_binary(live_load_result:to_json(R1)))),
    Md = iolist_to_binary(live_load_report_markdown:render(R1)),
    {Thr, _} = binary:match(Md, <<"## Thresholds: 5 of 10 failed">>),
    {Metrics, _} = binary:match(Md, <<"## Metrics">>),
    ?assert(Thr < Metrics).

%%% JUnit

junit_parses_test() ->
    R = (result(#{}, #{}))#{<<"thresholds">> =>
                                [#{<<"expression">> => <<"a.p95 < 1ms & <x>">>, <<"pass">> => false, <<"observed">> => 2.5,
                                   <<"unit">> => <<"ms">>, <<"reason">> => null},
                                 #{<<"expression">> => <<"b.count == 0">>, <<"pass">> => true, <<"observed">> => 0,
                                   <<"unit">> => <<"count">>, <<"reason">> => null}]},
    Xml = binary_to_list(iolist_to_binary(live_load_junit:render([{my_scenario, R}, {other, {error, boom}}]))),
    {Doc, _} = xmerl_scan:string(Xml),
    ?assertEqual("4", attr(Doc, tests)),
    ?assertEqual("2", attr(Doc, failures)),
    Cases = xmerl_xpath:string("//testcase", Doc),
    ?assertEqual(["iterations succeed", "threshold a.p95 < 1ms & <x>", "threshold b.count == 0", "run"],
                 [attr(C, name) || C <- Cases]),
    Failures = [attr(F, message) || F <- xmerl_xpath:string("//testcase/failure", Doc)],
    ?assertEqual(["threshold failed: a.p95 < 1ms & <x>", "the scenario did not run"], Failures).

attr(#xmlElement{attributes = As}, Name) ->
    hd([V || #xmlAttribute{name = N, value = V} <- As, N =:= Name]).

%%% Compare

compare_rule_test() ->
    Base = result(#{<<"liveview.event">> => {600, 0, 100.0, #{}}, <<"liveview.connect">> => {200, 0, 100.0, #{}},
                    <<"small">> => {5, 0, 10.0, #{}}}, #{}),
    Same = result(#{<<"liveview.event">> => {600, 0, 101.5, #{}}, <<"liveview.connect">> => {200, 0, 103.0, #{}},
                    <<"small">> => {5, 0, 100.0, #{}}}, #{}),
    Slow = result(#{<<"liveview.event">> => {600, 0, 400.0, #{}}, <<"liveview.connect">> => {200, 0, 60.0, #{}},
                    <<"small">> => {5, 0, 10.0, #{}}}, #{}),
    Opts = live_load_compare:defaults(),
    %% within 10 % and 5 ms: nothing flagged; 5 samples: never flagged
    ?assertMatch(#{regressions := 0, flagged := 0}, live_load_compare:compare([Base], [Same], Opts)),
    #{regressions := N, markdown := Md} = live_load_compare:compare([Base], [Slow], Opts),
    ?assertEqual(3, N),   %% liveview.event p50, p95, p99 up 300 % (600 values: p99 has 6 beyond it)
    MdB = iolist_to_binary(Md),
    ?assertNotEqual(nomatch, binary:match(MdB, <<"| liveview.event | p95 | 100 | 400 | +300.0% | **regression** |">>)),
    ?assertNotEqual(nomatch, binary:match(MdB, <<"| liveview.connect | p95 | 100 | 60.00 | -40.0% | improvement |">>)),
    %% 200 values: p99 has 2 beyond it, not compared
    ?assertNotEqual(nomatch, binary:match(MdB, <<"| liveview.connect | p99 | 100 | 60.00 | -40.0% |  |">>)),
    %% the absolute floor: +300 % of 1 ms is 3 ms < 10 ms
    Tiny = result(#{<<"liveview.event">> => {600, 0, 1.0, #{}}}, #{}),
    Tiny4 = result(#{<<"liveview.event">> => {600, 0, 4.0, #{}}}, #{}),
    ?assertMatch(#{regressions := 0}, live_load_compare:compare([Tiny], [Tiny4], Opts)),
    ?assertMatch(#{regressions := 3}, live_load_compare:compare([Tiny], [Tiny4], Opts#{min_delta_ms := 1})).

%%% Saved runs

runs_save_index_test() ->
    Dir = filename:join(tmp(), "runs"),
    R = result(#{<<"liveview.event">> => {10, 0, 5.0, #{}}}, #{}),
    {ok, F1} = live_load_runs:save(Dir, R),
    {ok, F2} = live_load_runs:save(Dir, R),
    ?assertNotEqual(F1, F2),   %% same second: a counter is appended
    {ok, [E1, E2]} = live_load_runs:index(Dir),
    ?assertEqual(<<"20261201T190000Z-demo">>, maps:get(<<"id">>, E1)),
    ?assertEqual(<<"20261201T190000Z-demo-2">>, maps:get(<<"id">>, E2)),
    {ok, [{_, R}, {_, R}]} = live_load_runs:load_dir(Dir),
    ?assertMatch({ok, [_, _]}, live_load_trend:load([Dir])),
    {ok, Runs} = live_load_trend:load([Dir, F1]),
    Md = iolist_to_binary(live_load_trend:markdown(Runs)),
    ?assertNotEqual(nomatch, binary:match(Md, <<"## Trend: demo (3 runs, oldest first)">>)).

%%% Data

csv_test() ->
    Csv = <<16#EF, 16#BB, 16#BF, "username,password,note\r\nuser1,pw1,\"a, b\"\r\n\r\nuser2,\"p\"\"w\",\"two\nlines\"\nuser3,x,\n">>,
    ?assertEqual({ok, [#{<<"username">> => <<"user1">>, <<"password">> => <<"pw1">>, <<"note">> => <<"a, b">>},
                       #{<<"username">> => <<"user2">>, <<"password">> => <<"p\"w">>, <<"note">> => <<"two\nlines">>},
                       #{<<"username">> => <<"user3">>, <<"password">> => <<"x">>, <<"note">> => <<>>}]},
                 live_load_data_csv:parse_csv(Csv)),
    ?assertEqual({error, {csv, 2, {fields, 2, expected, 3}}}, live_load_data_csv:parse_csv(<<"a,b,c\n1,2\n">>)),
    ?assertEqual({error, {csv, 2, unterminated_quote}}, live_load_data_csv:parse_csv(<<"a\n\"x\n">>)),
    ?assertEqual({error, {csv, 1, duplicate_column}}, live_load_data_csv:parse_csv(<<"a,a\n1,2\n">>)),
    ?assertEqual({ok, [#{<<"u">> => <<"x">>, <<"n">> => 1}]}, live_load_data_csv:parse_jsonl(<<"{\"u\":\"x\",\"n\":1}\n\n">>)),
    ?assertEqual({error, {jsonl, 2, not_an_object}}, live_load_data_csv:parse_jsonl(<<"{}\n[1]\n">>)).

data_strategies_test() ->
    Rows = [#{<<"i">> => I} || I <- lists:seq(1, 3)],
    {ok, PerUser} = live_load_data:load(#{rows => Rows}),
    ?assertEqual([{ok, #{<<"i">> => 2}}, {ok, #{<<"i">> => 2}}], [live_load_data:row(PerUser, 2, N) || N <- [1, 7]]),
    ?assertEqual({error, {data_exhausted, 4, 3}}, live_load_data:row(PerUser, 4, 1)),
    ?assertEqual({error, {invalid_option, data, {not_enough_rows, 3, 4}}}, live_load_data:check_users(PerUser, 4)),
    {ok, Cycle} = live_load_data:load(#{rows => Rows, cycle => true}),
    ?assertEqual(ok, live_load_data:check_users(Cycle, 4)),
    ?assertEqual({ok, #{<<"i">> => 1}}, live_load_data:row(Cycle, 4, 1)),
    {ok, PerIt} = live_load_data:load(#{rows => Rows, strategy => per_iteration}),
    ?assertEqual([1, 2, 3, 1], [maps:get(<<"i">>, element(2, live_load_data:row(PerIt, 1, N))) || N <- lists:seq(1, 4)]),
    {ok, Rand} = live_load_data:load(#{rows => Rows, strategy => random, seed => 7}),
    Draw = fun(F) -> [maps:get(<<"i">>, element(2, live_load_data:row(F, U, N))) || U <- [1, 2], N <- lists:seq(1, 20)] end,
    {ok, Rand2} = live_load_data:load(#{rows => Rows, strategy => random, seed => 7}),
    ?assertEqual(Draw(Rand), Draw(Rand2)),          %% seeded: the same draws
    ?assertEqual([1, 2, 3], lists:usort(Draw(Rand))),
    [live_load_data:unload(F) || F <- [PerUser, Cycle, PerIt, Rand, Rand2]],
    ?assertEqual({error, {invalid_option, data, {strategy, sometimes}}}, live_load_data:load(#{rows => Rows, strategy => sometimes})),
    ?assertEqual({error, {invalid_option, data, {unknown_key, colour}}}, live_load_data:load(#{rows => Rows, colour => red})),
    ?assertEqual({error, {invalid_option, data, missing_source}}, live_load_data:load(#{})),
    ?assertMatch({error, {invalid_option, data, {cannot_read, "/nonexistent.csv", enoent}}},
                 live_load_data:load(#{source => "/nonexistent.csv"})),
    Bad = filename:join(tmp(), "bad.csv"),
    ok = file:write_file(Bad, <<"a,b\n1\n">>),
    ?assertEqual({error, {invalid_option, data, {csv, Bad, 2, {fields, 1, expected, 2}}}}, live_load_data:load(#{source => Bad})).

%%% Prometheus

prometheus_text_test() ->
    R = result(#{<<"liveview.event">> => {10, 1, 5.0, #{}}},
               #{<<"http.requests">> => {3, #{<<"status">> => #{<<"200">> => 2, <<"a\"b\\c\nd">> => 1}}}}),
    Text = iolist_to_binary(live_load_prometheus_text:render(R, #{users_active => 4})),
    Lines = binary:split(Text, <<"\n">>, [global, trim]),
    %% every sample line: a valid name, optional labels, a number
    [?assertMatch({match, _}, re:run(L, <<"^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\\n]|\\\\.)*\"(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\\n]|\\\\.)*\")*\\})? (-?[0-9.e+-]+|NaN)$">>))
     || L <- Lines, binary:first(L) =/= $#],
    [?assertNotEqual(nomatch, binary:match(Text, S)) || S <- [<<"live_load_users_active 4\n">>,
                                                           <<"live_load_http_requests_total 3\n">>,
                                                           <<"live_load_http_requests_by_status_total{status=\"a\\\"b\\\\c\\nd\"} 1\n">>,
                                                           <<"# TYPE live_load_liveview_event summary\n">>,
                                                           <<"live_load_liveview_event{quantile=\"0.95\"} 5.0\n">>,
                                                           <<"live_load_liveview_event_count 10\n">>,
                                                           <<"live_load_liveview_event_errors_total 1\n">>]],
    ?assertEqual({ok, {{127, 0, 0, 1}, 9568}}, live_load_prometheus:parse_address("127.0.0.1:9568")),
    ?assertEqual({ok, {{0, 0, 0, 0, 0, 0, 0, 1}, 80}}, live_load_prometheus:parse_address("[::1]:80")),
    ?assertMatch({error, {invalid_option, prometheus, _}}, live_load_prometheus:parse_address("localhost")),
    ?assertMatch({error, {invalid_option, prometheus, _}}, live_load_prometheus:parse_address("1.2.3.4:99999")).

%%% CLI

cli_flags_test() ->
    {ok, Cmd} = live_load_cli:parse(["run", "x.erl", "--threshold", "iterations.failed_rate < 1%",
                                     "--threshold", "liveview.event.p95 < 100ms", "--junit", "j.xml",
                                     "--save", "live_load_runs", "--baseline", "b.json", "--max-regression", "15%",
                                     "--min-delta", "20ms", "--prometheus", "127.0.0.1:9568", "--data", "u.csv",
                                     "--data-strategy", "random"]),
    ?assertEqual(#{thresholds => ["iterations.failed_rate < 1%", "liveview.event.p95 < 100ms"],
                   prometheus => "127.0.0.1:9568", data => #{source => "u.csv", strategy => random}},
                 maps:get(opts, Cmd)),
    ?assertMatch(#{junit := "j.xml", save := "live_load_runs", baseline := "b.json", min_delta_ms := 20}, Cmd),
    ?assert(abs(maps:get(max_regression, Cmd) - 0.15) < 1.0e-9),
    ?assertMatch({error, {invalid_threshold, _, {no_metric, _, <<"liveview.event">>}}},
                 live_load_cli:parse(["run", "x", "--threshold", "liveview.evnt.p95 < 100ms"])),
    ?assertEqual({error, {invalid_option, "--prometheus", "nowhere"}}, live_load_cli:parse(["run", "x", "--prometheus", "nowhere"])),
    ?assertEqual({error, {invalid_option, "--max-regression", "lots"}},
                 live_load_cli:parse(["run", "x", "--max-regression", "lots"])),
    ?assertMatch({ok, #{command := compare, base := "a.json", new := "b.json", max_regression := _}},
                 live_load_cli:parse(["compare", "a.json", "b.json", "--max-regression", "10%"])),
    ?assertEqual({error, {compare_needs, "BASE.json NEW.json"}}, live_load_cli:parse(["compare", "a.json"])),
    ?assertMatch({ok, #{command := report, paths := ["runs", "x.json"], html := "t.html"}},
                 live_load_cli:parse(["report", "runs", "x.json", "--html", "t.html"])),
    Usage = iolist_to_binary(live_load_cli:usage()),
    [?assertNotEqual(nomatch, binary:match(Usage, F))
     || F <- [<<"--threshold">>, <<"--junit">>, <<"--save">>, <<"--baseline">>, <<"--max-regression">>,
              <<"--prometheus">>, <<"--data">>, <<"compare BASE.json">>, <<"4 when a threshold failed">>]].

%%% Helpers

%% A result with metrics #{Name => {Count, Errors, EveryQuantile, By}} (By: #{Key => #{Value =>
%% {Count, Errors, Q}}}) and counters #{Name => {Total, By}}.
result(Metrics, Counters) ->
    Points = live_load_result_stats:quantile_points(),
    Summary = fun(C, E, Q) -> #{<<"count">> => C, <<"errors">> => E, <<"sum">> => C * Q, <<"min">> => Q,
                                <<"max">> => Q, <<"mean">> => Q, <<"p99.9">> => Q,
                                <<"quantiles">> => [Q || _ <- Points]} end,
    #{<<"format">> => <<"live_load.result/1">>,
      <<"run">> => #{<<"scenario">> => <<"demo">>, <<"started_at">> => <<"2026-12-01T19:00:00.000Z">>,
                     <<"duration_ms">> => 10000, <<"iterations">> => #{<<"ok">> => 9, <<"failed">> => 1, <<"halted">> => 0}},
      <<"quantile_points">> => Points,
      <<"metrics">> => maps:map(fun(_, {C, E, Q, By}) ->
                                        (Summary(C, E, Q))#{<<"unit">> => <<"ms">>, <<"description">> => <<>>,
                                                            <<"by">> => maps:map(fun(_, Vs) -> maps:map(fun(_, {C1, E1, Q1}) -> Summary(C1, E1, Q1) end, Vs) end, By)}
                                end, Metrics),
      <<"counters">> => maps:map(fun(_, {T, By}) -> #{<<"total">> => T, <<"by">> => By} end, Counters),
      <<"time_series">> => #{<<"bucket_ms">> => 5000, <<"buckets">> => []},
      <<"nodes">> => [], <<"errors">> => []}.

tmp() ->
    Dir = filename:join(["/tmp", "live_load_ci_tests", os:getpid() ++ "-" ++ integer_to_list(erlang:unique_integer([positive]))]),
    _ = file:del_dir_r(Dir),
    ok = filelib:ensure_path(Dir),
    Dir.

root() -> live_load_test_checkout:root().
