%% EUnit: the pure parts of the CI features — threshold parser and evaluation, JUnit (parsed back
%% with xmerl), compare's noise rule, saved runs, the data file readers and strategies, the
%% Prometheus text format and the CLI flags.
-module(live_load_ci_tests).
-include_lib("eunit/include/eunit.hrl").
-include_lib("xmerl/include/xmerl.hrl").

%%% Thresholds

parse_ok_test() ->
    {ok, T1} = live_load_threshold:parse("liveview.event{event=inc}.p95 < 100ms"),
    ?assertMatch(#{metric := <<"liveview.event">>, dims := #{<<"event">> := <<"inc">>}, statistic := <<"p95">>,
                   op := <<"<">>, limit := 100, abort_on_fail := false, delay_abort_eval := 0}, T1),
    ?assertMatch({ok, #{metric := <<"iterations">>, statistic := <<"failed_rate">>, limit := 1}},
                 live_load_threshold:parse("iterations.failed_rate < 1%")),
    ?assertMatch({ok, #{statistic := <<"p99">>, op := <<"<=">>, limit := 1000}},
                 live_load_threshold:parse("liveview.connect.p99 <= 1s")),
    ?assertMatch({ok, #{dims := #{<<"status">> := <<"500">>}, statistic := <<"count">>, op := <<"==">>, limit := 0}},
                 live_load_threshold:parse(<<"http.requests{status=500}.count == 0">>)),
    ?assertMatch({ok, #{statistic := <<"failed_rate">>}}, live_load_threshold:parse("http.requests.failed_rate < 1%")),
    %% several dimensions: the values recorded with all of them
    ?assertEqual({ok, #{<<"event">> => <<"inc">>, <<"route">> => <<"/counter">>, <<"connection">> => <<"browser">>}},
                 dims("liveview.event{event=inc, route=/counter,connection=browser}.p95 < 1s")),
    ?assertMatch({ok, #{statistic := <<"p99.9">>, limit := 2000}}, live_load_threshold:parse("liveview.event.p99.9 < 2s")),
    ?assertMatch({ok, #{metric := <<"my.metric">>, limit := 1.5e6}}, live_load_threshold:parse("my.metric.max < 1.5MB")),
    ?assertMatch({ok, #{metric := <<"http.bytes">>, limit := 1.5e3}}, live_load_threshold:parse("http.bytes.p50 < 1.5kB")),
    ?assertMatch({ok, #{statistic := <<"rate">>, limit := 5}}, live_load_threshold:parse("iterations.rate >= 5/s")),
    %% a custom metric may have failed_rate (its errors recorded with live_load_metrics:error/4)
    ?assertMatch({ok, #{statistic := <<"failed_rate">>}}, live_load_threshold:parse("checkout.step.failed_rate < 5%")),
    %% the map form: abort_on_fail, delay_abort_eval
    ?assertMatch({ok, #{expression := <<"liveview.event.p95 < 1s">>, abort_on_fail := true, delay_abort_eval := 5000}},
                 live_load_threshold:parse(#{expr => "liveview.event.p95 < 1s", abort_on_fail => true,
                                             delay_abort_eval => 5000})),
    ?assertMatch({ok, #{abort_on_fail := false}}, live_load_threshold:parse(#{expr => <<"iterations.count > 0">>})).

dims(Expr) ->
    case live_load_threshold:parse(Expr) of
        {ok, #{dims := D}} -> {ok, D};
        E -> E
    end.

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
    ?assertEqual(<<"'liveview.event{a=1,a=2}.p95 < 1': {a=1,a=2}: a dimension named twice">>,
                 Msg("liveview.event{a=1,a=2}.p95 < 1")),
    ?assertMatch(<<"'liveview.event{a=1,b}.p95 < 1': {a=1,b}: expected {name=value}", _/binary>>,
                 Msg("liveview.event{a=1,b}.p95 < 1")),
    %% statistics that mean nothing for a documented name are refused, not evaluated to a constant
    ?assertEqual(<<"'iteration.duration.failed_rate < 1%': iteration.duration has no failed_rate: no built-in metric "
                   "records failed operations (failures are counted in iterations and http.requests: use "
                   "iterations.failed_rate or http.requests.failed_rate)">>,
                 Msg("iteration.duration.failed_rate < 1%")),
    ?assertMatch(<<"'liveview.event.failed_rate < 1%': liveview.event has no failed_rate", _/binary>>,
                 Msg("liveview.event.failed_rate < 1%")),
    ?assertMatch(<<"'ws.opened.failed_rate < 1%': ws.opened has no failed_rate: failed_rate is the share", _/binary>>,
                 Msg("ws.opened.failed_rate < 1%")),
    ?assertEqual(<<"'iterations.p95 < 1': iterations is a counter: statistic p95 means nothing for it "
                   "(a counter has count and rate and failed_rate)">>, Msg("iterations.p95 < 1")),
    ?assertMatch(<<"'page.crashes.max < 1': page.crashes is a counter: statistic max means nothing for it "
                   "(a counter has count and rate)">>, Msg("page.crashes.max < 1")),
    ?assertMatch(<<"'iterations.count > 0': abort_on_fail yes (expected true or false)">>,
                 Msg(#{expr => "iterations.count > 0", abort_on_fail => yes})),
    ?assertMatch(<<"'iterations.count > 0': delay_abort_eval -1 (expected milliseconds", _/binary>>,
                 Msg(#{expr => "iterations.count > 0", delay_abort_eval => -1})),
    ?assertMatch(<<"'iterations.count > 0': abort (a threshold map has expr, abort_on_fail and delay_abort_eval)">>,
                 Msg(#{expr => "iterations.count > 0", abort => true})),
    ?assertMatch(<<"'#{abort_on_fail => true}': a threshold map needs expr => Expression">>, Msg(#{abort_on_fail => true})),
    %% a custom metric far from every documented name is accepted (checked on the result)
    ?assertMatch({ok, _}, live_load_threshold:parse("checkout.total.p95 < 3s")),
    ?assertMatch({error, {invalid_threshold, _, _}}, live_load_threshold:parse_all(["iterations.count > 0", "bad"])),
    ?assertMatch({error, {invalid_threshold, _, {no_metric, <<"liveview.evnt">>, _}}},
                 live_load_options:validate(#{scenario => live_load_runner_sleep_scenario,
                                              thresholds => ["liveview.evnt.p95 < 1s"]})).

%% The metric and counter tables of guides/events.md are the documented metrics and counters.
documented_names_match_events_guide_test() ->
    {ok, Guide} = file:read_file(filename:join(root(), "guides/events.md")),
    [_, Section0] = binary:split(Guide, <<"## Metrics recorded">>),
    [Section | _] = binary:split(Section0, <<"\n## ">>),
    [MetricTable, CounterTable] = binary:split(Section, <<"| counter |">>),
    Names = fun(Table) ->
                    {match, Cells} = re:run(Table, <<"^\\| ([^|]+) \\|">>, [global, multiline, {capture, all_but_first, binary}]),
                    lists:usort([N || [Cell] <- Cells, {match, Ns} <- [re:run(Cell, <<"`([a-z_.]+)`">>, [global, {capture, all_but_first, binary}])],
                                      [N] <- Ns])
            end,
    %% recorded by the user loop, named in the section's last paragraph
    ?assertEqual(Names(MetricTable), lists:usort(live_load_threshold:documented_metrics() -- [<<"iteration.duration">>])),
    ?assertEqual(Names(CounterTable), lists:usort(live_load_threshold:documented_counters() -- [<<"iterations">>])),
    [?assertNotEqual(nomatch, binary:match(Section0, <<"`", N/binary, "`">>)) || N <- [<<"iteration.duration">>, <<"iterations">>]],
    %% every counter that counts failures is a documented counter
    ?assertEqual([], [C || C <- [<<"liveview.events_lost">>, <<"liveview.disconnects">>, <<"liveview.errors">>,
                                 <<"page.js_errors">>, <<"page.crashes">>, <<"observer.dropped">>, <<"events.invalid">>,
                                 <<"http.failures">>],
                           not live_load_failures:counts_failures(C) orelse not lists:member(C, live_load_threshold:documented_counters())]).

%% Thresholds observe the run's data: no dimension or one gives exactly the result's figure,
%% several the combination rows; failed_rate is the counter's failed share.
evaluate_test() ->
    Data = data([{<<"liveview.event">>, #{<<"event">> => <<"inc">>, <<"route">> => <<"/counter">>}, lists:seq(1, 60)},
                 {<<"liveview.event">>, #{<<"event">> => <<"inc">>, <<"route">> => <<"/other">>}, lists:seq(101, 120)},
                 {<<"liveview.event">>, #{<<"event">> => <<"dec">>, <<"route">> => <<"/counter">>}, lists:seq(201, 220)},
                 {<<"mine">>, #{}, [5, 6]}],
                [{<<"iterations">>, #{<<"result">> => <<"ok">>, <<"connection">> => <<"browser">>}, 6},
                 {<<"iterations">>, #{<<"result">> => <<"failed">>, <<"connection">> => <<"browser">>}, 2},
                 {<<"iterations">>, #{<<"result">> => <<"ok">>, <<"connection">> => <<"protocol">>}, 10},
                 {<<"iterations">>, #{<<"result">> => <<"halted">>, <<"connection">> => <<"protocol">>}, 2},
                 {<<"http.requests">>, #{<<"status">> => <<"200">>}, 40},
                 {<<"http.requests">>, #{<<"status">> => <<"302">>}, 5},
                 {<<"http.requests">>, #{<<"status">> => <<"404">>}, 2},
                 {<<"http.requests">>, #{<<"status">> => <<"500">>}, 2},
                 {<<"http.requests">>, #{<<"status">> => <<"failed">>}, 1}],
                [{<<"mine">>, #{}, 2}]),
    R = live_load_result:build(#{nodes => [], merged => Data}, #{duration_ms => 10000}),
    Event = maps:get(<<"liveview.event">>, maps:get(<<"metrics">>, R)),
    Inc = maps:get(<<"inc">>, maps:get(<<"event">>, maps:get(<<"by">>, Event))),
    IncCounter = only(data([{<<"liveview.event">>, #{<<"event">> => <<"inc">>, <<"route">> => <<"/counter">>}, lists:seq(1, 60)}], [], [])),
    Cases = [{"liveview.event.p95 < 1s", true, lists:nth(96, maps:get(<<"quantiles">>, Event))},
             {"liveview.event{event=inc}.p95 < 1s", true, lists:nth(96, maps:get(<<"quantiles">>, Inc))},
             %% two dimensions: only the 60 values recorded with both
             {"liveview.event{event=inc,route=/counter}.p95 < 1s", true, lists:nth(96, maps:get(<<"quantiles">>, IncCounter))},
             {"liveview.event{route=/counter,event=inc}.count == 60", true, 60},
             {"liveview.event{event=dec,route=/other}.count == 0", true, 0},
             {"liveview.event{event=dec,route=/other}.p50 < 1s", false, null},
             {"liveview.event.max <= 220ms", true, 220.0},
             {"liveview.event.count >= 100", true, 100},
             {"liveview.event.rate > 9", true, 10.0},
             {"liveview.event.p99.9 < 1s", true, maps:get(<<"p99.9">>, Event)},
             %% iterations: failed / all (ok, failed, halted); per dimension: that row only
             {"iterations.failed_rate < 5%", false, 10.0},
             {"iterations{connection=browser}.failed_rate < 5%", false, 25.0},
             {"iterations{connection=protocol}.failed_rate < 5%", true, 0.0},
             {"iterations{connection=protocol,result=ok}.count == 10", true, 10},
             {"iterations{result=failed}.count == 0", false, 2},
             %% http.requests: no response or a status outside 200..399 (k6's http_req_failed)
             {"http.requests.failed_rate < 1%", false, 10.0},
             {"http.requests{status=500}.failed_rate == 100%", true, 100.0},
             {"http.requests{status=302}.failed_rate == 0%", true, 0.0},
             {"http.requests{status=500}.count == 0", false, 2},
             {"http.requests{status=503}.count == 0", true, 0},
             {"http.requests.rate >= 5/s", true, 5.0},
             %% a custom metric: its errors / (values + errors)
             {"mine.failed_rate < 10%", false, 50.0},
             {"liveview.connect.p95 < 1s", false, null},
             {"nothing.count == 0", true, 0},
             {"mien.p50 < 1", false, null}],
    {ok, Ts} = live_load_threshold:parse_all([E || {E, _, _} <- Cases]),
    Vs = live_load_threshold_eval:evaluate(Ts, Data, 10000),
    [?assertEqual({E, Pass, Obs}, {E, maps:get(<<"pass">>, V), maps:get(<<"observed">>, V)})
     || {{E, Pass, Obs}, V} <- lists:zip(Cases, Vs)],
    ?assertEqual(<<"no metric mien in the result (did you mean mine?)">>, maps:get(<<"reason">>, lists:last(Vs))),
    ?assertEqual(<<"no values recorded">>, maps:get(<<"reason">>, lists:nth(6, Vs))),
    ?assertMatch(#{<<"dimensions">> := #{<<"event">> := <<"inc">>, <<"route">> := <<"/counter">>}}, lists:nth(3, Vs)),
    %% a custom counter has no failed_rate, no quantile: said, and failed
    {ok, Custom} = live_load_threshold:parse_all(["orders.failed_rate < 1%", "orders.p95 < 1"]),
    CustomData = data([], [{<<"orders">>, #{}, 3}], []),
    ?assertMatch([#{<<"pass">> := false, <<"observed">> := null, <<"reason">> := <<"orders is a counter without failed_rate", _/binary>>},
                  #{<<"pass">> := false, <<"reason">> := <<"orders is a counter: it has count, rate and failed_rate, not p95">>}],
                 live_load_threshold_eval:evaluate(Custom, CustomData, 1000)),
    %% the section survives JSON and comes first in the Markdown report
    R1 = R#{<<"thresholds">> => Vs},
    ?assertEqual({ok, R1}, live_load_result:from_json(iolist_to_binary(live_load_result:to_json(R1)))),
    Md = iolist_to_binary(live_load_report_markdown:render(R1)),
    {Thr, _} = binary:match(Md, <<"## Thresholds: 9 of 25 failed">>),
    {Metrics, _} = binary:match(Md, <<"## Metrics">>),
    ?assert(Thr < Metrics),
    %% an abort: that threshold failed, its reason says when
    [A, _] = live_load_threshold_eval:aborted(lists:sublist(Vs, 2), #{expression => <<"liveview.event.p95 < 1s">>,
                                                                       observed => 95.5, at_ms => 4200}),
    ?assertMatch(#{<<"pass">> := false, <<"reason">> := <<"aborted the run 4.2 s in: observed 95.5">>}, A).

%% The one metric row of a data set with one metric series.
only(Data) ->
    R = live_load_result:build(#{nodes => [], merged => Data}, #{duration_ms => 1000}),
    [Row] = maps:values(maps:get(<<"metrics">>, R)),
    Row.

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

%% Counters: failed iterations and 500s that appear are regressions (error rate, and the failed
%% dimension rows), throughput that drops too; a rerun with the same counts flags nothing.
compare_counters_test() ->
    Counters = fun(Ok, Failed, S200, S500) ->
                       #{<<"iterations">> => {Ok + Failed, #{<<"result">> => maps:filter(fun(_, N) -> N > 0 end,
                                                                                          #{<<"ok">> => Ok, <<"failed">> => Failed})}},
                         <<"http.requests">> => {S200 + S500, #{<<"status">> => maps:filter(fun(_, N) -> N > 0 end,
                                                                                            #{<<"200">> => S200, <<"500">> => S500})}},
                         <<"ws.frames_sent">> => {1000 + Ok, #{}}}
               end,
    Opts = live_load_compare:defaults(),
    Base = result(#{}, Counters(100, 0, 200, 0)),
    Rerun = result(#{}, Counters(98, 0, 196, 0)),
    ?assertMatch(#{regressions := 0, flagged := 0}, live_load_compare:compare([Base], [Rerun], Opts)),
    %% 30 failed iterations of 100, 60 requests answered 500: error rates and the failed rows
    Broken = result(#{}, Counters(70, 30, 140, 60)),
    #{regressions := N, markdown := Md} = live_load_compare:compare([Base], [Broken], Opts),
    MdB = iolist_to_binary(Md),
    [?assertNotEqual(nomatch, binary:match(MdB, Line), Line)
     || Line <- [<<"| iterations | error rate % | 0.00 | 30.00 | new | **regression** |">>,
                 <<"| &nbsp;&nbsp;result=failed | rate /s | 0.00 | 3.00 | new | **regression** |">>,
                 <<"| &nbsp;&nbsp;result=ok | rate /s | 10.00 | 7.00 | -30.0% | **regression** |">>,
                 <<"| http.requests | error rate % | 0.00 | 30.00 | new | **regression** |">>,
                 <<"| &nbsp;&nbsp;status=500 | rate /s | 0.00 | 6.00 | new | **regression** |">>,
                 <<"| &nbsp;&nbsp;status=200 | rate /s | 20.00 | 14.00 | -30.0% | **regression** |">>,
                 %% other counters are shown, never flagged
                 <<"| ws.frames_sent | rate /s | 110 | 107 | -2.7% |  |">>]],
    ?assertEqual(6, N),
    %% throughput: half the iterations and requests per second, no failures
    Slow = result(#{}, Counters(50, 0, 100, 0)),
    SlowMd = iolist_to_binary(maps:get(markdown, live_load_compare:compare([Base], [Slow], Opts))),
    [?assertNotEqual(nomatch, binary:match(SlowMd, Line), Line)
     || Line <- [<<"| iterations | throughput /s | 10.00 | 5.00 | -50.0% | **regression** |">>,
                 <<"| http.requests | throughput /s | 20.00 | 10.00 | -50.0% | **regression** |">>]],
    %% a counter of failures that appears (page.crashes), and one too rare to tell (4 of them)
    Crashes = fun(C) -> result(#{}, (Counters(100, 0, 200, 0))#{<<"page.crashes">> => {C, #{}}}) end,
    ?assertMatch(#{regressions := 1}, live_load_compare:compare([Base], [Crashes(12)], Opts)),
    ?assertMatch(#{regressions := 0, flagged := 0}, live_load_compare:compare([Base], [Crashes(4)], Opts)),
    %% too few iterations in either run: neither error rate nor throughput is compared
    Few = result(#{}, Counters(10, 0, 10, 0)),
    FewBroken = result(#{}, Counters(5, 5, 5, 0)),
    #{markdown := FewMd} = live_load_compare:compare([Few], [FewBroken], Opts),
    ?assertNotEqual(nomatch, binary:match(iolist_to_binary(FewMd), <<"| iterations | error rate % | 0.00 | 50.00 | new |  |">>)).

%% Metric dimension rows are listed, under their metric, only when flagged.
compare_dimension_rows_test() ->
    By = fun(Inc, Dec) -> #{<<"event">> => #{<<"inc">> => {300, 0, Inc}, <<"dec">> => {300, 0, Dec}},
                            %% every value: the metric's own row, not repeated
                            <<"connection">> => #{<<"browser">> => {600, 0, Inc}}} end,
    Base = result(#{<<"liveview.event">> => {600, 0, 100.0, By(100.0, 100.0)}}, #{}),
    New = result(#{<<"liveview.event">> => {600, 0, 100.0, By(300.0, 100.0)}}, #{}),
    #{markdown := Md, regressions := N} = live_load_compare:compare([Base], [New], live_load_compare:defaults()),
    MdB = iolist_to_binary(Md),
    ?assertNotEqual(nomatch, binary:match(MdB, <<"| &nbsp;&nbsp;event=inc | p95 | 100 | 300 | +200.0% | **regression** |">>)),
    ?assertEqual(nomatch, binary:match(MdB, <<"event=dec">>)),
    ?assertEqual(nomatch, binary:match(MdB, <<"connection=browser">>)),
    ?assertEqual(2, N).   %% event=inc p50 and p95 (300 values: p99 has 3 beyond it)

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

%% A corrupt index is a precise error (before a run: live_load_runs:check/1), never a crash.
runs_bad_index_test() ->
    Dir = filename:join(tmp(), "runs"),
    ok = filelib:ensure_path(Dir),
    Index = filename:join(Dir, "index.json"),
    R = result(#{<<"liveview.event">> => {10, 0, 5.0, #{}}}, #{}),
    Bad = fun(Content) ->
                  ok = file:write_file(Index, Content),
                  {error, Reason} = live_load_runs:check(Dir),
                  ?assertEqual({error, Reason}, live_load_runs:save(Dir, R)),
                  iolist_to_binary(live_load_runs:format_error(Reason))
          end,
    ?assertMatch(<<"/", _/binary>>, Bad(<<"{\"format\": \"live_load.runs/1\", \"runs\": [">>)),
    ?assertNotEqual(nomatch, binary:match(Bad(<<"{\"format\": \"live_load.runs/1\", \"runs\": [">>),
                                          [<<"index.json is not a runs index (not JSON">>])),
    ?assertNotEqual(nomatch, binary:match(Bad(<<"{\"format\": \"other/1\", \"runs\": []}">>),
                                          <<"is not a runs index (format <<\"other/1\">>)">>)),
    ?assertNotEqual(nomatch, binary:match(Bad(<<"{\"format\": \"live_load.runs/1\", \"runs\": [{\"id\": 1}]}">>),
                                          <<"an entry without id and file">>)),
    ok = file:write_file(Index, <<"{\"format\": \"live_load.runs/1\", \"runs\": []}">>),
    ?assertEqual(ok, live_load_runs:check(Dir)),
    ?assertMatch({ok, _}, live_load_runs:save(Dir, R)),
    %% a directory that cannot be made
    File = filename:join(tmp(), "a_file"),
    ok = file:write_file(File, <<>>),
    ?assertMatch({error, {cannot_write, _, _}}, live_load_runs:check(filename:join(File, "runs"))).

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
                                     "--save=runs", "--baseline", "b.json", "--max-regression", "15%",
                                     "--min-delta", "20ms", "--prometheus", "127.0.0.1:9568", "--data", "u.csv",
                                     "--data-strategy", "random"]),
    ?assertEqual(#{thresholds => ["iterations.failed_rate < 1%", "liveview.event.p95 < 100ms"],
                   prometheus => "127.0.0.1:9568", data => #{source => "u.csv", strategy => random}},
                 maps:get(opts, Cmd)),
    ?assertMatch(#{targets := ["x.erl"], junit := "j.xml", save := "runs", baseline := "b.json", min_delta_ms := 20}, Cmd),
    ?assert(abs(maps:get(max_regression, Cmd) - 0.15) < 1.0e-9),
    %% --flag=value for every flag
    ?assertMatch({ok, #{junit := "j.xml", opts := #{thresholds := ["iterations.count == 0"]}}},
                 live_load_cli:parse(["run", "x.erl", "--junit=j.xml", "--threshold=iterations.count == 0"])),
    %% --save alone: live_load_runs/; a word after it is a scenario (with a hint if it is not one)
    ?assertMatch({ok, #{save := "live_load_runs", targets := ["x.erl"]}}, live_load_cli:parse(["run", "x.erl", "--save"])),
    ?assertMatch({ok, #{save := "live_load_runs", targets := ["x.erl"], opts := #{quiet := true}}},
                 live_load_cli:parse(["run", "--save", "--quiet", "x.erl"])),
    {ok, Legacy} = live_load_cli:parse(["run", "x.erl", "--save", "my_runs"]),
    ?assertMatch(#{save := "live_load_runs", targets := ["x.erl", "my_runs"]}, Legacy),
    ?assertEqual(<<" (--save takes no separate value: --save=my_runs saves into my_runs)">>,
                 iolist_to_binary(live_load_cli_ci:load_hint({unknown_scenario, "my_runs"}, Legacy))),
    ?assertEqual({error, {invalid_option, "--save", ""}}, live_load_cli:parse(["run", "x.erl", "--save="])),
    %% abort_on_fail thresholds, their delay given before or after them
    {ok, Abort} = live_load_cli:parse(["run", "x.erl", "--abort-on-fail", "liveview.event.p95 < 1s",
                                       "--delay-abort-eval", "10s", "--threshold", "iterations.count > 0",
                                       "--abort-on-fail", "iterations.failed_rate < 5%"]),
    ?assertEqual([#{expr => "liveview.event.p95 < 1s", abort_on_fail => true, delay_abort_eval => 10000},
                  "iterations.count > 0",
                  #{expr => "iterations.failed_rate < 5%", abort_on_fail => true, delay_abort_eval => 10000}],
                 maps:get(thresholds, maps:get(opts, Abort))),
    ?assertMatch({ok, [#{abort_on_fail := true, delay_abort_eval := 10000}, #{abort_on_fail := false}, _]},
                 live_load_threshold:parse_all(maps:get(thresholds, maps:get(opts, Abort)))),
    ?assertEqual({error, {invalid_option, "--delay-abort-eval", "soon"}},
                 live_load_cli:parse(["run", "x", "--delay-abort-eval", "soon"])),
    ?assertMatch({error, {invalid_threshold, <<"iterations.p95 < 1">>, {counter_statistic, _, _}}},
                 live_load_cli:parse(["run", "x", "--abort-on-fail", "iterations.p95 < 1"])),
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
    %% the trend report as `live_load --html OUT DIR|FILE...'
    ?assertMatch({ok, #{command := report, paths := ["runs", "x.json"], html := "t.html"}},
                 live_load_cli:parse(["--html", "t.html", "runs", "x.json"])),
    ?assertEqual({error, {missing_value, "--html"}}, live_load_cli:parse(["report", "runs", "--html"])),
    ?assertEqual({error, {report_needs, "a runs directory or result files"}}, live_load_cli:parse(["--html", "t.html"])),
    Usage = iolist_to_binary(live_load_cli:usage()),
    [?assertNotEqual(nomatch, binary:match(Usage, F))
     || F <- [<<"--threshold">>, <<"--abort-on-fail">>, <<"--delay-abort-eval">>, <<"--junit">>, <<"--save[=DIR]">>,
              <<"--baseline">>, <<"--max-regression">>, <<"--prometheus">>, <<"--data">>, <<"compare BASE.json">>,
              <<"live_load --html OUT.html">>, <<"4 when a threshold failed">>]].

%% Before a run: a corrupt runs index and an unreadable baseline stop it (exit status 2) with a
%% sentence naming the flag and the file.
cli_before_run_test() ->
    Dir = tmp(),
    Runs = filename:join(Dir, "runs"),
    ok = filelib:ensure_path(Runs),
    ok = file:write_file(filename:join(Runs, "index.json"), <<"{\"format\": 1">>),
    Msg = fun(Cmd) ->
                  {error, Reason} = live_load_cli_ci:before_run(Cmd),
                  iolist_to_binary(live_load_cli_ci:format_error(Reason))
          end,
    ?assertMatch(<<"--save=", _/binary>>, Msg(#{save => Runs})),
    ?assertNotEqual(nomatch, binary:match(Msg(#{save => Runs}), <<"runs/index.json is not a runs index (not JSON">>)),
    Missing = filename:join(Dir, "missing.json"),
    ?assertEqual(iolist_to_binary(["--baseline ", Missing, ": no such file or directory"]), Msg(#{baseline => Missing})),
    NotResult = filename:join(Dir, "not_result.json"),
    ok = file:write_file(NotResult, <<"{\"format\": \"something/1\"}">>),
    ?assertEqual(iolist_to_binary(["--baseline ", NotResult, ": not a live_load results file (format <<\"something/1\">>)"]),
                 Msg(#{baseline => NotResult})),
    Good = filename:join(Dir, "good.json"),
    R = result(#{}, #{}),
    ok = file:write_file(Good, live_load_result:results_to_json([R])),
    ?assertEqual({ok, #{baseline => Good, baseline_results => [R]}}, live_load_cli_ci:before_run(#{baseline => Good})),
    %% the CLI: exit status 2 before anything runs
    ?assertEqual(2, live_load_cli:run_modules([live_load_runner_sleep_scenario],
                                              #{targets => [], set => [], opts => #{}, save => Runs})).

%%% The CI examples

%% The CI examples of guides/ci.md: ci_steps.escript hands their run: steps to ci_check.sh and
%% refuses a GitLab example that drifted from the GitHub one.
ci_steps_guide_test_() ->
    {timeout, 120, fun ci_steps_guide/0}.   %% two escript VMs on a loaded machine

ci_steps_guide() ->
    Escript = filename:join(root(), "test/ci/ci_steps.escript"),
    Guide = filename:join(root(), "guides/ci.md"),
    {0, Out} = run_escript(Escript, Guide),
    Fields = binary:split(Out, <<0>>, [global, trim]),
    Records = records(Fields),
    ?assertEqual([{<<"ENV">>, <<"APP_PORT">>}, {<<"ENV">>, <<"LOAD_USERS">>}, {<<"ENV">>, <<"LOAD_DURATION">>},
                  {<<"STEP">>, <<"setup and build">>}, {<<"STEP">>, <<"start the application">>},
                  {<<"STEP">>, <<"load test">>}, {<<"STEP">>, <<"trend">>}],
                 [{K, N} || {K, N, _} <- Records]),
    {_, _, LoadTest} = lists:keyfind(<<"load test">>, 2, Records),
    ?assertMatch({match, _}, re:run(LoadTest, <<"^bin/live_load run scenarios/live_load_counter_scenario.erl --users \\$LOAD_USERS \\\\$">>,
                                    [multiline])),
    {ok, Text} = file:read_file(Guide),
    [Before, After] = binary:split(Text, <<"### GitLab CI">>),
    Drifted = filename:join(tmp(), "ci.md"),
    ok = file:write_file(Drifted, [Before, <<"### GitLab CI">>,
                                   binary:replace(After, <<"--threshold 'iterations.failed_rate < 1%'">>,
                                                  <<"--threshold 'iterations.failed_rate < 2%'">>)]),
    {1, Why} = run_escript(Escript, Drifted),
    ?assertNotEqual(nomatch, binary:match(Why, <<"is not GitHub's run: steps">>)).

records([K, N, V | Rest]) -> [{K, N, V} | records(Rest)];
records([]) -> [].

run_escript(Escript, Guide) ->
    Port = open_port({spawn_executable, os:find_executable("escript")},
                     [{args, [Escript, Guide]}, exit_status, binary, stderr_to_stdout]),
    collect(Port, []).

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, [D | Acc]);
        {Port, {exit_status, S}} -> {S, iolist_to_binary(lists:reverse(Acc))}
    after 60000 -> error(escript_timeout)
    end.

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

%% Merged run data: metric series [{Name, Dims, Values}], counters [{Name, Dims, N}], metric
%% errors [{Name, Dims, N}].
data(Series, Counters, Errors) ->
    (live_load_snapshot:empty())#{
      sketches => maps:from_list([{{N, D}, sketch(Vs)} || {N, D, Vs} <- Series]),
      counters => maps:from_list([{{N, D}, C} || {N, D, C} <- Counters]),
      metric_errors => maps:from_list([{{N, D}, C} || {N, D, C} <- Errors])}.

sketch(Values) ->
    S = live_load_sketch:new(),
    [ok = live_load_sketch:insert(S, V) || V <- Values],
    S.

tmp() ->
    Dir = filename:join(["/tmp", "live_load_ci_tests", os:getpid() ++ "-" ++ integer_to_list(erlang:unique_integer([positive]))]),
    _ = file:del_dir_r(Dir),
    ok = filelib:ensure_path(Dir),
    Dir.

root() -> live_load_test_checkout:root().
