%% Load tests in CI and over time, end to end: per-user data (N distinct Chromium sign-ins
%% through /login), thresholds in the result of a real run (with several dimensions), a
%% scenario's thresholds/1, abort_on_fail stopping a run (API and CLI), the Prometheus endpoint
%% scraped mid-run and checked against the final result, test/ci/ci_check.sh (the run: steps of
%% guides/ci.md's CI examples: thresholds and exit codes, JUnit parsed with xmerl, saved runs,
%% compare on a rerun and on an injected slowdown), and the HTML trend view in Chromium.
-module(live_load_ci_SUITE).
-include_lib("common_test/include/ct.hrl").
-include_lib("eunit/include/eunit.hrl").
-include_lib("xmerl/include/xmerl.hrl").
-compile([export_all, nowarn_export_all]).

all() ->
    [data_feeder_logs_in_distinct_users, data_feeder_checks_rows_before_the_run,
     thresholds_section_in_the_result, scenario_thresholds_callback, abort_on_fail_stops_the_run,
     thresholds_on_the_amoc_engine, prometheus_scraped_mid_run, ci_script, trend_view_in_chromium].

suite() ->
    [{timetrap, {minutes, 12}}].

init_per_suite(Config) ->
    case os:find_executable("chromium") of
        false -> {skip, "chromium is not installed (make setup)"};
        _ ->
            {ok, _} = application:ensure_all_started(live_load),
            {ok, _} = application:ensure_all_started(inets),
            Root = root(),
            [compile_scenario(filename:join([Root, "scenarios", F]))
             || F <- ["live_load_login_scenario.erl", "live_load_counter_scenario.erl"]],
            {ok, #{url := Url}} = live_load_demo_target:start(#{port => 0}),
            [{url, Url}, {root, Root} | Config]
    end.

end_per_suite(_Config) ->
    %% the target's supervisor ignores a shutdown from a process other than its parent: bound it
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

%% ---------------------------------------------------------------------------------------------
data_feeder_logs_in_distinct_users() ->
    [{doc, "6 Chromium users sign in through the demo's /login with their own row of a CSV file "
      "(header, quoted fields with commas), once each (the login scenario's iterations => 1: the "
      "run lasts as long as the sign-ins, not a fixed duration): the target sees 6 distinct "
      "accounts signed in, one sign-in each, every iteration ok or halted."}].
data_feeder_logs_in_distinct_users(Config) ->
    Users = 6,
    Csv = write_users(Config, "users.csv", Users),
    Before = live_load_demo_login:logins(),
    #{live_load_login_scenario := R} =
        live_load:run(#{scenario => live_load_login_scenario, users => Users, scenario_duration => 120000,
                        iterations => 1, base_url => ?config(url, Config), quiet => true, data => #{source => Csv}}),
    After = live_load_demo_login:logins(),
    New = maps:filter(fun(K, V) -> V > maps:get(K, Before, 0) end, After),
    #{<<"run">> := #{<<"iterations">> := #{<<"ok">> := Ok, <<"failed">> := Failed, <<"halted">> := Halted}}} = R,
    ct:pal("~b users: ~b ok, ~b failed, ~b halted iterations; sign-ins per account ~p; errors ~p",
           [Users, Ok, Failed, Halted, New, maps:get(<<"errors">>, R)]),
    ?assertEqual(lists:sort([name(I) || I <- lists:seq(1, Users)]), lists:sort(maps:keys(New))),
    ?assertEqual({Users, 0, Users}, {Ok, Failed, Halted}),
    %% one sign-in per account: each user signed in with its own row, never another's
    ?assertEqual([1], lists:usort([V - maps:get(K, Before, 0) || {K, V} <- maps:to_list(New)])).

write_users(Config, Name, Users) ->
    Csv = filename:join(?config(priv_dir, Config), Name),
    Rows = [io_lib:format("user~b,~s,\"note, for user ~b\"\r\n", [I, live_load_demo_login:password(name(I)), I])
            || I <- lists:seq(1, Users)],
    ok = file:write_file(Csv, ["username,password,note\r\n" | Rows]),
    Csv.

data_feeder_checks_rows_before_the_run() ->
    [{doc, "per_user data with fewer rows than users is refused before anything starts; a bad "
      "file names the file and line; with cycle => true the users share rows."}].
data_feeder_checks_rows_before_the_run(Config) ->
    Dir = ?config(priv_dir, Config),
    Two = filename:join(Dir, "two.csv"),
    ok = file:write_file(Two, "username,password\nuser1,a\nuser2,b\n"),
    Bad = filename:join(Dir, "bad.csv"),
    ok = file:write_file(Bad, "username,password\nuser1\n"),
    Opts = #{scenario => live_load_runner_sleep_scenario, users => 3, scenario_duration => 1000,
             browser => false, quiet => true},
    ?assertEqual({error, {invalid_option, data, {not_enough_rows, 2, 3}}}, live_load:run(Opts#{data => #{source => Two}})),
    ?assertEqual({error, {invalid_option, data, {csv, Bad, 2, {fields, 1, expected, 2}}}},
                 live_load:run(Opts#{data => #{source => Bad}})),
    ?assertEqual({error, {invalid_option, data, {strategy, each}}},
                 live_load:run(Opts#{data => #{source => Two, strategy => each}})),
    #{live_load_runner_sleep_scenario := R} = live_load:run(Opts#{data => #{source => Two, cycle => true}}),
    ?assertMatch(#{<<"run">> := #{<<"iterations">> := #{<<"failed">> := 0}}}, R).

thresholds_section_in_the_result() ->
    [{doc, "thresholds => [...] are checked on the result of a real 2-user Chromium run (the login "
      "scenario, 2 sign-ins per user): the result's thresholds section has each expression with its "
      "observed value (equal to the result's own figure, also for two dimensions at once and for "
      "http.requests' failed share) and pass/fail; a statistic that means nothing for a metric is "
      "refused before the run."}].
thresholds_section_in_the_result(Config) ->
    Opts = #{scenario => live_load_login_scenario, users => 2, scenario_duration => 120000, iterations => 2,
             data => #{source => write_users(Config, "two_users.csv", 2)},
             base_url => ?config(url, Config), quiet => true,
             thresholds => ["liveview.event.count > 0", "liveview.event.p50 < 0ms",
                            "iterations.failed_rate < 50%", "http.requests{status=500}.count == 0",
                            "liveview.event{event=login,connection=browser}.count > 0",
                            "liveview.event{event=login,connection=protocol}.count == 0",
                            "http.requests.failed_rate == 0%"]},
    #{live_load_login_scenario := R} = live_load:run(Opts),
    [Count, P50, FailedRate, Http500, LoginBrowser, LoginProtocol, HttpFailed] = Vs = maps:get(<<"thresholds">>, R),
    ct:pal("thresholds: ~p", [Vs]),
    Event = maps:get(<<"liveview.event">>, maps:get(<<"metrics">>, R)),
    ?assertMatch(#{<<"pass">> := true}, Count),
    ?assertEqual(maps:get(<<"count">>, Event), maps:get(<<"observed">>, Count)),
    ?assertMatch(#{<<"pass">> := false, <<"unit">> := <<"ms">>}, P50),
    ?assertEqual(lists:nth(51, maps:get(<<"quantiles">>, Event)), maps:get(<<"observed">>, P50)),
    %% 4 ok and 2 halted iterations
    ?assertMatch(#{<<"pass">> := true, <<"unit">> := <<"percent">>, <<"observed">> := 0.0}, FailedRate),
    ?assertMatch(#{<<"pass">> := true, <<"observed">> := 0}, Http500),
    %% every event of a browser user is recorded with connection=browser: the two-dimension row
    %% is the event=login row; none with connection=protocol
    #{<<"by">> := #{<<"event">> := #{<<"login">> := Login}, <<"connection">> := Connections}} = Event,
    ?assertEqual([<<"browser">>], maps:keys(Connections)),
    ?assertMatch(#{<<"pass">> := true, <<"dimensions">> := #{<<"event">> := <<"login">>, <<"connection">> := <<"browser">>}},
                 LoginBrowser),
    ?assertEqual(maps:get(<<"count">>, Login), maps:get(<<"observed">>, LoginBrowser)),
    ?assertMatch(#{<<"pass">> := true, <<"observed">> := 0}, LoginProtocol),
    %% the failed share of http.requests: no response, or a status outside 200..399 (Chromium's
    %% /favicon.ico is a 404 on the demo target)
    #{<<"total">> := Requests, <<"by">> := #{<<"status">> := Statuses}} =
        maps:get(<<"http.requests">>, maps:get(<<"counters">>, R)),
    FailedRequests = lists:sum([N || {S, N} <- maps:to_list(Statuses),
                                     S =:= <<"failed">> orelse binary_to_integer(S) < 200 orelse binary_to_integer(S) >= 400]),
    ?assert(Requests > 0),
    ?assertEqual(100 * FailedRequests / Requests, maps:get(<<"observed">>, HttpFailed)),
    ?assertEqual(FailedRequests =:= 0, maps:get(<<"pass">>, HttpFailed)),
    ?assertMatch({error, {invalid_threshold, <<"liveview.evnt.p95 < 1s">>, {no_metric, _, <<"liveview.event">>}}},
                 live_load:run(Opts#{thresholds => ["liveview.evnt.p95 < 1s"]})),
    ?assertMatch({error, {invalid_threshold, <<"iteration.duration.failed_rate < 1%">>, {no_failed_rate, metric, _}}},
                 live_load:run(Opts#{thresholds => ["iteration.duration.failed_rate < 1%"]})).

scenario_thresholds_callback() ->
    [{doc, "A scenario's thresholds/1 (live_load_ci_metric_scenario, no browser) gets the map config/1 "
      "gets and its thresholds (maps with abort_on_fail too) are checked after the run's own, in the "
      "result's thresholds section; a failing one does not stop the run, nor an abort_on_fail one that "
      "passes or has no values yet; a bad one, or a callback that returns no list, is refused before "
      "the run."}].
scenario_thresholds_callback(_Config) ->
    %% 2.5 s: the abort_on_fail thresholds are checked once, at 2 s
    Opts = #{scenario => live_load_ci_metric_scenario, users => 2, scenario_duration => 2500, browser => false,
             quiet => true, thresholds => ["iterations.count > 0",
                                           #{expr => "liveview.event.p50 < 1ms", abort_on_fail => true}],
             own_thresholds => [#{expr => "ci.value.max < 1s", abort_on_fail => true},
                                "ci.value{user=odd,phase=1}.count > 0", "ci.value.p50 > 1s"]},
    #{live_load_ci_metric_scenario := R} = live_load:run(Opts),
    Vs = maps:get(<<"thresholds">>, R),
    ct:pal("thresholds: ~p", [Vs]),
    %% a failing threshold stops nothing; an abort_on_fail one without values (no browser: no
    %% liveview.event) or passing neither
    ?assertEqual([{<<"iterations.count > 0">>, true}, {<<"liveview.event.p50 < 1ms">>, false},
                  {<<"ci.value.max < 1s">>, true}, {<<"ci.value{user=odd,phase=1}.count > 0">>, true},
                  {<<"ci.value.p50 > 1s">>, false}],
                 [{E, P} || #{<<"expression">> := E, <<"pass">> := P} <- Vs]),
    ?assertMatch(#{<<"reason">> := <<"no values recorded">>, <<"abort_on_fail">> := true}, lists:nth(2, Vs)),
    Value = maps:get(<<"ci.value">>, maps:get(<<"metrics">>, R)),
    %% every value of user 1 is in phase 1
    ?assertEqual(maps:get(<<"count">>, maps:get(<<"odd">>, maps:get(<<"user">>, maps:get(<<"by">>, Value)))),
                 maps:get(<<"observed">>, lists:nth(4, Vs))),
    ?assertMatch(#{<<"run">> := #{<<"interrupted">> := false}}, R),
    ?assertNot(maps:is_key(<<"aborted_by">>, maps:get(<<"run">>, R))),
    ?assert(maps:get(<<"duration_ms">>, maps:get(<<"run">>, R)) >= 2500),
    ?assertMatch({error, {invalid_threshold, <<"iterations.p95 < 1">>, {counter_statistic, _, _}}},
                 live_load:run(Opts#{own_thresholds => ["iterations.p95 < 1"]})),
    ?assertMatch({error, {thresholds_failed, live_load_ci_metric_scenario, {not_a_list, oops}}},
                 live_load:run(Opts#{own_thresholds => oops})).

abort_on_fail_stops_the_run() ->
    [{doc, "An abort_on_fail threshold that fails stops a 60 s run within seconds, not before its "
      "delay_abort_eval: run.interrupted and run.aborted_by in the result, that threshold failed with "
      "the reason, the next scenario not run; bin/live_load --abort-on-fail exits 4 (not 130)."}].
abort_on_fail_stops_the_run(Config) ->
    %% the command line's run goes on at the same time, in its own VM (both stop on a threshold
    %% that fails whatever the machine's speed)
    Root = ?config(root, Config),
    Json = filename:join(?config(priv_dir, Config), "abort.json"),
    Cli = sh_start([filename:join(Root, "bin/live_load"), " run ",
                    filename:join(Root, "test/live_load_ci_metric_scenario.erl"),
                    " --users 1 --duration 60s --quiet --set browser=false",
                    " --abort-on-fail 'ci.value.p50 < 1ms' --json ", Json]),
    T0 = erlang:monotonic_time(millisecond),
    Results = live_load:run(#{scenarios => [live_load_ci_metric_scenario, live_load_runner_sleep_scenario],
                              users => 2, scenario_duration => 60000, browser => false, quiet => true,
                              phases => [{0, 600000, 200}],
                              thresholds => ["iterations.count > 0",
                                             #{expr => "ci.value.p50 < 100ms", abort_on_fail => true,
                                               delay_abort_eval => 1000}]}),
    Took = erlang:monotonic_time(millisecond) - T0,
    #{live_load_ci_metric_scenario := R} = Results,
    %% the run's thresholds, then the scenario's own (thresholds/1: ci.value.count > 0)
    #{<<"run">> := Run, <<"thresholds">> := [Count, Abort, _Own]} = R,
    ct:pal("took ~b ms; run ~p~nthresholds ~p", [Took, Run, [Count, Abort]]),
    ?assertNot(maps:is_key(live_load_runner_sleep_scenario, Results)),
    ?assert(Took < 30000),
    ?assertMatch(#{<<"interrupted">> := true,
                   <<"aborted_by">> := #{<<"expression">> := <<"ci.value.p50 < 100ms">>}}, Run),
    #{<<"aborted_by">> := #{<<"observed">> := Observed, <<"at_ms">> := At}} = Run,
    ?assert(Observed >= 199 andalso Observed =< 215),
    ?assert(At >= 1000),
    ?assertMatch(#{<<"pass">> := true}, Count),
    ?assertMatch(#{<<"pass">> := false, <<"abort_on_fail">> := true, <<"reason">> := <<"aborted the run ", _/binary>>}, Abort),
    %% the command line: the same with --abort-on-fail, exit status 4
    {Status, Log} = sh_collect(Cli, []),
    ct:pal("bin/live_load exit ~b:~n~ts", [Status, Log]),
    ?assertEqual(4, Status),
    ?assertNotEqual(nomatch, string:find(Log, "stopped")),
    {ok, Bin} = file:read_file(Json),
    {ok, [CliR]} = live_load_result:read_results(Bin),
    ?assertMatch(#{<<"run">> := #{<<"interrupted">> := true, <<"aborted_by">> := #{<<"expression">> := <<"ci.value.p50 < 1ms">>}},
                   <<"thresholds">> := [#{<<"pass">> := false} | _]}, CliR),
    ?assert(maps:get(<<"duration_ms">>, maps:get(<<"run">>, CliR)) < 30000).

thresholds_on_the_amoc_engine() ->
    [{doc, "With engine => amoc (users run by amoc:do/3, no browser) the thresholds are checked on the "
      "merged data too (two dimensions at once) and an abort_on_fail one stops the run. Skipped, "
      "saying why, when amoc is not on the code path."}].
thresholds_on_the_amoc_engine(_Config) ->
    case code:which(amoc) of
        non_existing ->
            {skip, "amoc is not on the code path (code:which(amoc) =:= non_existing): run with "
                   "ERL_LIBS=/path/to/built/libs (guides/distributed.md)"};
        _ ->
            #{live_load_ci_metric_scenario := R} =
                live_load:run(#{scenario => live_load_ci_metric_scenario, engine => amoc, users => 2,
                                scenario_duration => 60000, browser => false, quiet => true,
                                thresholds => ["ci.value{user=odd,phase=1}.count > 0",
                                               #{expr => "ci.value.p50 < 1ms", abort_on_fail => true}]}),
            #{<<"run">> := Run, <<"thresholds">> := [Odd, Abort, _Own]} = R,
            ct:pal("run ~p~nthresholds ~p", [Run, [Odd, Abort]]),
            ?assertMatch(#{<<"engine">> := <<"amoc">>, <<"interrupted">> := true,
                           <<"aborted_by">> := #{<<"expression">> := <<"ci.value.p50 < 1ms">>}}, Run),
            Value = maps:get(<<"ci.value">>, maps:get(<<"metrics">>, R)),
            ?assertEqual(maps:get(<<"count">>, maps:get(<<"odd">>, maps:get(<<"user">>, maps:get(<<"by">>, Value)))),
                         maps:get(<<"observed">>, Odd)),
            ?assertMatch(#{<<"pass">> := false, <<"reason">> := <<"aborted the run ", _/binary>>}, Abort),
            ?assert(maps:get(<<"duration_ms">>, Run) < 30000)
    end.

prometheus_scraped_mid_run() ->
    [{doc, "With prometheus => \"127.0.0.1:PORT\", /metrics answers during a real 2-user run (no "
      "browser, ci.value recorded in two phases 5 s apart) in the text exposition format: valid "
      "samples, 2 active users; scraped after the last value, the summary quantiles equal the final "
      "result's and the _latest gauges the final result's last time bucket (within sketch accuracy, "
      "and that bucket's values); counters at most the final ones; gone after the run."}].
prometheus_scraped_mid_run(_Config) ->
    Port = free_port(),
    Self = self(),
    Runner = spawn_link(fun() ->
                                Self ! {done, live_load:run(#{scenario => live_load_ci_metric_scenario, users => 2,
                                                               scenario_duration => 7000, browser => false,
                                                               quiet => true, report => Self,
                                                               phases => [{0, 600, 10}, {5200, 5500, 100}],
                                                               prometheus => "127.0.0.1:" ++ integer_to_list(Port)})}
                        end),
    Url = "http://127.0.0.1:" ++ integer_to_list(Port) ++ "/metrics",
    %% both users recorded their last value: ci.value does not change any more
    [receive {phases_done, U} -> ok after 60000 -> ct:fail({no_phases_done, U}) end || U <- [1, 2]],
    #{text := Text, samples := Samples} = scrape_when(Url, fun(_) -> true end, 10),
    {ok, {{_, 404, _}, _, _}} = httpc:request(get, {"http://127.0.0.1:" ++ integer_to_list(Port) ++ "/other", []}, [], []),
    Final = receive {done, #{live_load_ci_metric_scenario := R}} -> R after 120000 -> ct:fail(run_did_not_end) end,
    unlink(Runner),
    ct:pal("scrape after the last value (~b bytes):~n~ts", [byte_size(Text), binary:part(Text, 0, min(3000, byte_size(Text)))]),
    ?assert(maps:get(<<"live_load_users_active">>, Samples) == 2),
    Points = maps:get(<<"quantile_points">>, Final),
    Value = maps:get(<<"ci.value">>, maps:get(<<"metrics">>, Final)),
    At = fun(Q, Qs) -> hd([V || {P, V} <- lists:zip(Points, Qs), abs(P - Q) < 1.0e-9]) end,
    Close = fun(A, B) -> abs(A - B) =< 0.02 * abs(B) end,   %% two estimates within 1 % each
    %% the summary: the same values as the result's curve
    [?assert(Close(maps:get(<<"live_load_ci_value{quantile=\"", L/binary, "\"}">>, Samples),
                   At(Q, maps:get(<<"quantiles">>, Value))))
     || {L, Q} <- [{<<"0.5">>, 0.5}, {<<"0.9">>, 0.9}, {<<"0.95">>, 0.95}, {<<"0.99">>, 0.99}]],
    ?assert(maps:get(<<"count">>, Value) == maps:get(<<"live_load_ci_value_count">>, Samples)),
    %% _latest: the final result's last bucket with ci.value (phase 2, values 100..109), not the run's
    Buckets = [B || #{<<"metrics">> := #{<<"ci.value">> := B}} <- maps:get(<<"buckets">>, maps:get(<<"time_series">>, Final)),
                    maps:get(<<"count">>, B) > 0],
    Last = lists:last(Buckets),
    [begin
         Latest = maps:get(<<"live_load_ci_value_latest{quantile=\"", L/binary, "\"}">>, Samples),
         ?assert(Close(Latest, maps:get(K, Last))),
         ?assert(Latest >= 100 * 0.99 andalso Latest =< 109 * 1.01)
     end || {L, K} <- [{<<"0.5">>, <<"p50">>}, {<<"0.95">>, <<"p95">>}, {<<"0.99">>, <<"p99">>}]],
    ?assert(maps:get(<<"live_load_ci_value{quantile=\"0.5\"}">>, Samples) < 20 * 1.01),
    %% every counter at the scrape is at most its final total
    Counters = maps:get(<<"counters">>, Final),
    Iterations = maps:get(<<"live_load_iterations_total">>, Samples),
    ?assert(Iterations > 0 andalso Iterations =< maps:get(<<"total">>, maps:get(<<"iterations">>, Counters))),
    [?assert(V =< maps:get(<<"total">>, maps:get(Name, Counters)))
     || {Name, _} <- maps:to_list(Counters),
        {ok, V} <- [maps:find(live_load_prometheus_text:name(<<Name/binary, "_total">>), Samples)]],
    %% every summary family is a metric of the final result
    Metrics = maps:get(<<"metrics">>, Final),
    Summaries = [N || [N] <- element(2, re:run(Text, <<"^# TYPE (\\S+) summary$">>, [global, multiline, {capture, all_but_first, binary}]))],
    ByName = maps:from_list([{live_load_prometheus_text:name(M), M} || M <- maps:keys(Metrics)]),
    ?assert(lists:member(<<"live_load_ci_value">>, Summaries)),
    [?assert(maps:is_key(S, ByName)) || S <- Summaries],
    ?assertMatch({error, _}, httpc:request(get, {Url, []}, [{timeout, 5000}], [])).

ci_script() ->
    [{doc, "test/ci/ci_check.sh runs the run: steps of guides/ci.md's CI examples verbatim against the "
      "demo target (2 users; runs of 4 s, or 3 x what 2 browser users take to come up and sign in "
      "once when that is longer: a loaded machine; CI_DURATION in the environment sets it): the first run and a rerun pass, the injected latency is a regression "
      "(exit 5, also for compare with the default 10 %), a failing threshold exits 4 and is the one "
      "failed testcase of the JUnit file (parsed with xmerl) and of the thresholds section."}].
ci_script(Config) ->
    Root = ?config(root, Config),
    Out = filename:join(?config(priv_dir, Config), "ci_check"),
    Duration = ci_duration(Config),
    {Status, Log} = sh(["CI_OUT=", Out, " CI_USERS=2 CI_DURATION=", Duration, " bash ", filename:join(Root, "test/ci/ci_check.sh")]),
    ct:pal("ci_check.sh exit ~b:~n~ts", [Status, Log]),
    [?assertNotEqual(nomatch, string:find(Log, ["ci_check: ", Step, " ok"]), Step)
     || Step <- ["start expected 0 got 0", "first expected 0 got 0", "rerun expected 0 got 0",
                 "latency expected 0 got 0", "slowdown expected 5 got 5", "thresholds expected 4 got 4",
                 "trend expected 0 got 0", "compare-rerun expected 0 got 0", "compare-slowdown expected 5 got 5",
                 "trend-list expected 0 got 0"]],
    ?assertEqual(0, Status),
    %% JUnit: the failing threshold is the one failure
    {Doc, _} = xmerl_scan:file(filename:join(Out, "junit.xml")),
    Cases = xmerl_xpath:string("//testsuite[@name='live_load_counter_scenario']/testcase", Doc),
    ?assertEqual(["iterations succeed", "threshold iterations.failed_rate < 50%",
                  "threshold liveview.event.count > 100000000"], [attr(C, name) || C <- Cases]),
    ?assertEqual(["threshold failed: liveview.event.count > 100000000"],
                 [attr(F, message) || F <- xmerl_xpath:string("//testcase/failure", Doc)]),
    ?assertEqual("1", attr(hd(xmerl_xpath:string("/testsuites", Doc)), failures)),
    %% the guide's step wrote a JUnit file with its two thresholds, both passed
    {First, _} = xmerl_scan:file(filename:join(Out, "junit_first.xml")),
    ?assertEqual(["iterations succeed", "threshold iterations.failed_rate < 1%", "threshold liveview.event.p95 < 1s"],
                 [attr(C, name) || C <- xmerl_xpath:string("//testcase", First)]),
    ?assertEqual([], xmerl_xpath:string("//testcase/failure", First)),
    %% the thresholds section of the failing run
    {ok, Bin} = file:read_file(filename:join(Out, "thresholds.json")),
    {ok, [R]} = live_load_result:read_results(Bin),
    ?assertMatch([#{<<"expression">> := <<"iterations.failed_rate < 50%">>, <<"pass">> := true},
                  #{<<"expression">> := <<"liveview.event.count > 100000000">>, <<"pass">> := false}],
                 maps:get(<<"thresholds">>, R)),
    {ok, Md} = file:read_file(filename:join(Out, "thresholds.md")),
    ?assertMatch({match, _}, re:run(Md, <<"^# live_load run: live_load_counter_scenario\n\n## Thresholds: 1 of 2 failed">>)),
    %% the slowdown is flagged on liveview.event (the default 10 %), the rerun not at all
    {ok, Slow} = file:read_file(filename:join(Out, "compare_slowdown.md")),
    ?assertMatch({match, _}, re:run(Slow, <<"^\\| liveview.event \\| p50 \\| .* \\*\\*regression\\*\\* \\|$">>, [multiline])),
    {ok, Rerun} = file:read_file(filename:join(Out, "compare_rerun.md")),
    ?assertEqual(nomatch, binary:match(Rerun, <<"**regression**">>)),
    ?assertNotEqual(nomatch, binary:match(Rerun, <<"No regression beyond noise">>)),
    %% the guide's step printed its inline comparison: none for the rerun, a regression for the slowdown
    {ok, RerunOut} = file:read_file(filename:join(Out, "rerun.out")),
    ?assertNotEqual(nomatch, binary:match(RerunOut, <<"No regression beyond noise">>)),
    {ok, SlowOut} = file:read_file(filename:join(Out, "slowdown.out")),
    ?assertNotEqual(nomatch, binary:match(SlowOut, <<"regression(s)** beyond noise">>)),
    %% three saved runs in the index, oldest first
    {ok, Runs} = live_load_runs:index(filename:join([Out, "work", "live_load_runs"])),
    ?assertEqual(3, length(Runs)),
    ?assert(filelib:is_regular(filename:join(Out, "trend.html"))).

%% How long ci_check.sh's runs last: 4 s on a quiet machine; on a loaded one the browsers take
%% seconds to come up, so 3 x the time 2 browser users take to start and sign in once (a run of
%% fewer seconds would have no iteration to compare). CI_DURATION in the environment wins.
ci_duration(Config) ->
    case os:getenv("CI_DURATION") of
        false ->
            T0 = erlang:monotonic_time(millisecond),
            #{live_load_login_scenario := #{<<"run">> := #{<<"iterations">> := #{<<"ok">> := 2}}}} =
                live_load:run(#{scenario => live_load_login_scenario, users => 2, scenario_duration => 120000,
                                iterations => 1, base_url => ?config(url, Config), quiet => true,
                                data => #{source => write_users(Config, "calibration.csv", 2)}}),
            Took = erlang:monotonic_time(millisecond) - T0,
            Seconds = max(4, min(60, (3 * Took + 999) div 1000)),
            ct:pal("2 browser users came up and signed in in ~b ms: ~b s runs", [Took, Seconds]),
            integer_to_list(Seconds) ++ "s";
        Given -> Given
    end.

trend_view_in_chromium() ->
    [{doc, "bin/live_load --html OUT DIR (the trend of a directory of saved runs) renders in Chromium "
      "(playwright-core): the page starts with the trend section, its chart is drawn and its table "
      "shows each run's id and p95 of liveview.event as in the files; the list form of the same "
      "files writes the same page. Skipped, saying why, without node or playwright-core."}].
trend_view_in_chromium(Config) ->
    Root = ?config(root, Config),
    case {os:find_executable("node"), filelib:is_dir(filename:join(Root, "node_modules/playwright-core"))} of
        {false, _} -> {skip, "node is not installed: the trend page cannot be opened in Chromium"};
        {_, false} -> {skip, "node_modules/playwright-core is missing (npm ci): the trend page cannot be opened in Chromium"};
        {Node, true} ->
            Dir = filename:join(?config(priv_dir, Config), "trend"),
            Runs = filename:join(Dir, "live_load_runs"),
            Files = [begin
                         R0 = live_load_report_html_fixture:result(#{duration_ms => 20000, scale => Scale}),
                         R = R0#{<<"run">> := (maps:get(<<"run">>, R0))#{<<"started_at">> := Start}},
                         {ok, F} = live_load_runs:save(Runs, R),
                         F
                     end || {Scale, Start} <- [{1.0, <<"2026-11-22T05:10:00.000Z">>}, {1.5, <<"2026-11-23T05:10:00.000Z">>},
                                               {0.8, <<"2026-11-24T05:10:00.000Z">>}]],
            {ok, Saved} = live_load_trend:load([Runs]),
            %% the list of the saved files is the same report as their directory (same runs, order
            %% and labels: a saved file's id is its name)
            [DirHtml, ListHtml] = [begin
                                       Html = filename:join(Dir, "trend_" ++ Name ++ ".html"),
                                       {0, _} = sh([filename:join(Root, "bin/live_load"), " --html ", Html,
                                                    [[" ", A] || A <- Args]]),
                                       {ok, Page} = file:read_file(Html),
                                       Page
                                   end || {Name, Args} <- [{"dir", [Runs]}, {"list", Files}]],
            ?assertEqual(DirHtml, ListHtml),
            check_trend(Node, Root, Dir, "dir", Saved)
    end.

check_trend(Node, Root, Dir, Name, Saved) ->
    Html = filename:join(Dir, "trend_" ++ Name ++ ".html"),
    Port = open_port({spawn_executable, Node},
                     [{args, [filename:join(Root, "test/js/report_check.js"), Html, filename:join(Dir, Name ++ ".png")]},
                      exit_status, binary, {env, [{"LIVE_LOAD_ROOT", Root}]}]),
    {ok, Page} = live_load_json:decode(collect(Port, [])),
    #{<<"sections">> := Sections, <<"checks">> := Checks, <<"console_errors">> := CE,
      <<"page_errors">> := PE, <<"charts">> := Charts} = Page,
    ct:pal("trend page (~s): sections ~p, errors ~p ~p", [Name, Sections, CE, PE]),
    ?assertEqual({[], []}, {CE, PE}),
    ?assertEqual(<<"trend">>, hd(Sections)),
    ?assertMatch([#{<<"drawn">> := true}], [C || #{<<"name">> := <<"trend">>} = C <- Charts]),
    [begin
         I = integer_to_binary(Idx - 1),
         ?assertMatch(#{<<"text">> := Id}, maps:get(<<"trend|", I/binary, "|id">>, Checks)),
         Want = lists:nth(96, maps:get(<<"quantiles">>, maps:get(<<"liveview.event">>, maps:get(<<"metrics">>, R)))),
         #{<<"value">> := Shown} = maps:get(<<"trend|", I/binary, "|liveview.event">>, Checks),
         ?assert(abs(binary_to_number(Shown) - Want) < 1.0e-6)
     end || {Idx, {Id, R}} <- lists:zip(lists:seq(1, length(Saved)), Saved)],
    ok.

%%% Helpers

name(I) -> iolist_to_binary(["user", integer_to_list(I)]).

binary_to_number(B) when is_binary(B) ->
    try binary_to_float(B) catch error:badarg -> float(binary_to_integer(B)) end;
binary_to_number(N) when is_number(N) -> float(N).

attr(#xmlElement{attributes = As}, Name) ->
    hd([V || #xmlAttribute{name = N, value = V} <- As, N =:= Name]).

%% Scrapes until Ready(Samples) or Tries seconds passed; Samples = #{SeriesWithLabels => Number}.
scrape_when(_Url, _Ready, 0) -> ct:fail(prometheus_never_ready);
scrape_when(Url, Ready, Tries) ->
    case httpc:request(get, {Url, []}, [{timeout, 10000}], [{body_format, binary}]) of
        {ok, {{_, 200, _}, Headers, Body}} ->
            ?assertMatch("text/plain; version=0.0.4" ++ _, proplists:get_value("content-type", Headers)),
            Samples = samples(Body),
            case Ready(Samples) of
                true -> #{text => Body, samples => Samples};
                false -> timer:sleep(1000), scrape_when(Url, Ready, Tries - 1)
            end;
        _ -> timer:sleep(1000), scrape_when(Url, Ready, Tries - 1)
    end.

%% Every non-comment line must be a valid sample.
samples(Body) ->
    Lines = [L || L <- binary:split(Body, <<"\n">>, [global, trim]), L =/= <<>>, binary:first(L) =/= $#],
    Re = <<"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\.)*\"(?:,[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\.)*\")*\\})? (\\S+)$">>,
    maps:from_list(
      [case re:run(L, Re, [{capture, all_but_first, binary}]) of
           {match, [Name, Labels, V]} ->
               {<<Name/binary, Labels/binary>>, case V of <<"NaN">> -> nan; _ -> binary_to_number(V) end};
           nomatch -> ct:fail({bad_sample_line, L})
       end || L <- Lines]).

free_port() ->
    {ok, L} = gen_tcp:listen(0, [{ip, {127, 0, 0, 1}}]),
    {ok, P} = inet:port(L),
    ok = gen_tcp:close(L),
    P.

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, [D | Acc]);
        {Port, {exit_status, 0}} -> iolist_to_binary(lists:reverse(Acc));
        {Port, {exit_status, S}} -> ct:fail({report_check_failed, S, iolist_to_binary(lists:reverse(Acc))})
    after 300000 -> catch port_close(Port), ct:fail(report_check_timeout)
    end.

sh(Cmd) ->
    sh_collect(sh_start(Cmd), []).

sh_start(Cmd) ->
    open_port({spawn_executable, "/bin/sh"}, [{args, ["-c", lists:flatten([Cmd, " 2>&1"])]},
                                              exit_status, binary, stderr_to_stdout]).

sh_collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> sh_collect(Port, [D | Acc]);
        {Port, {exit_status, S}} -> {S, unicode:characters_to_list(lists:reverse(Acc))}
    after 600000 -> ct:fail(ci_script_timeout)
    end.

compile_scenario(File) ->
    {ok, M, Bin} = compile:file(File, [binary, debug_info, report]),
    {module, M} = code:load_binary(M, File, Bin),
    M.

root() -> live_load_test_checkout:root().
