%% Load tests in CI and over time, end to end with real Chromium users against the demo target:
%% per-user data (N distinct sign-ins through /login), thresholds in the result, the Prometheus
%% endpoint scraped mid-run, and test/ci/ci_check.sh — the steps of guides/ci.md's CI examples
%% (thresholds and exit codes, JUnit parsed with xmerl, saved runs, compare on a rerun and on an
%% injected slowdown, the HTML trend checked in Chromium).
-module(live_load_ci_SUITE).
-include_lib("common_test/include/ct.hrl").
-include_lib("eunit/include/eunit.hrl").
-include_lib("xmerl/include/xmerl.hrl").
-compile([export_all, nowarn_export_all]).

all() ->
    [data_feeder_logs_in_distinct_users, data_feeder_checks_rows_before_the_run,
     thresholds_section_in_the_result, prometheus_scraped_mid_run, ci_script].

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
      "(header, quoted fields with commas): the target sees 6 distinct accounts signed in, every "
      "iteration ok; each user signs in with the same account every iteration (per_user)."}].
data_feeder_logs_in_distinct_users(Config) ->
    Users = 6,
    Csv = filename:join(?config(priv_dir, Config), "users.csv"),
    Rows = [io_lib:format("user~b,~s,\"note, for user ~b\"\r\n", [I, live_load_demo_login:password(name(I)), I])
            || I <- lists:seq(1, Users)],
    ok = file:write_file(Csv, ["username,password,note\r\n" | Rows]),
    Before = live_load_demo_login:logins(),
    #{live_load_login_scenario := R} =
        live_load:run(#{scenario => live_load_login_scenario, users => Users, scenario_duration => 15000,
                        base_url => ?config(url, Config), quiet => true, data => #{source => Csv}}),
    After = live_load_demo_login:logins(),
    New = maps:filter(fun(K, V) -> V > maps:get(K, Before, 0) end, After),
    #{<<"run">> := #{<<"iterations">> := #{<<"ok">> := Ok, <<"failed">> := Failed}}} = R,
    ct:pal("~b users: ~b ok, ~b failed iterations; sign-ins per account ~p; errors ~p",
           [Users, Ok, Failed, New, maps:get(<<"errors">>, R)]),
    ?assertEqual(lists:sort([name(I) || I <- lists:seq(1, Users)]), lists:sort(maps:keys(New))),
    ?assertEqual(0, Failed),
    ?assert(Ok >= Users),
    %% every sign-in the target saw was an ok iteration: one account per user, never another's
    ?assertEqual(Ok, lists:sum([V - maps:get(K, Before, 0) || {K, V} <- maps:to_list(New)])).

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
    [{doc, "thresholds => [...] and a scenario's thresholds/1 are checked on the result of a real "
      "run: the result's thresholds section has each expression with its observed value (equal to "
      "the result's own figure) and pass/fail; a bad expression is refused before the run."}].
thresholds_section_in_the_result(Config) ->
    Opts = #{scenario => live_load_counter_scenario, users => 2, scenario_duration => 8000, clicks => 2,
             base_url => ?config(url, Config), quiet => true,
             thresholds => ["liveview.event.count > 0", "liveview.event.p50 < 0ms",
                            "iterations.failed_rate < 50%", "http.requests{status=500}.count == 0"]},
    #{live_load_counter_scenario := R} = live_load:run(Opts),
    [Count, P50, FailedRate, Http500] = Vs = maps:get(<<"thresholds">>, R),
    ct:pal("thresholds: ~p", [Vs]),
    Event = maps:get(<<"liveview.event">>, maps:get(<<"metrics">>, R)),
    ?assertMatch(#{<<"pass">> := true}, Count),
    ?assertEqual(maps:get(<<"count">>, Event), maps:get(<<"observed">>, Count)),
    ?assertMatch(#{<<"pass">> := false, <<"unit">> := <<"ms">>}, P50),
    ?assertEqual(lists:nth(51, maps:get(<<"quantiles">>, Event)), maps:get(<<"observed">>, P50)),
    ?assertMatch(#{<<"pass">> := true, <<"unit">> := <<"percent">>}, FailedRate),
    ?assertMatch(#{<<"pass">> := true, <<"observed">> := 0}, Http500),
    ?assertMatch({error, {invalid_threshold, <<"liveview.evnt.p95 < 1s">>, {no_metric, _, <<"liveview.event">>}}},
                 live_load:run(Opts#{thresholds => ["liveview.evnt.p95 < 1s"]})).

prometheus_scraped_mid_run() ->
    [{doc, "With prometheus => \"127.0.0.1:PORT\", /metrics answers during a real 2-user run in the "
      "text exposition format: valid names and samples, 2 active users, counters no larger than "
      "the final result's and every metric family one of the result's metrics; it is gone after."}].
prometheus_scraped_mid_run(Config) ->
    Port = free_port(),
    Self = self(),
    Runner = spawn_link(fun() ->
                                Self ! {done, live_load:run(#{scenario => live_load_counter_scenario, users => 2,
                                                               scenario_duration => 20000, clicks => 2, quiet => true,
                                                               base_url => ?config(url, Config),
                                                               prometheus => "127.0.0.1:" ++ integer_to_list(Port)})}
                        end),
    Url = "http://127.0.0.1:" ++ integer_to_list(Port) ++ "/metrics",
    Scrape = scrape_when(Url, fun(Samples) -> maps:get(<<"live_load_iterations_total">>, Samples, 0) > 0 end, 60),
    {ok, {{_, 404, _}, _, _}} = httpc:request(get, {"http://127.0.0.1:" ++ integer_to_list(Port) ++ "/other", []}, [], []),
    Final = receive {done, #{live_load_counter_scenario := R}} -> R after 120000 -> ct:fail(run_did_not_end) end,
    unlink(Runner),
    #{text := Text, samples := Samples} = Scrape,
    ct:pal("mid-run scrape (~b bytes):~n~ts", [byte_size(Text), binary:part(Text, 0, min(3000, byte_size(Text)))]),
    ?assert(maps:get(<<"live_load_users_active">>, Samples) == 2),
    Iterations = maps:get(<<"live_load_iterations_total">>, Samples),
    FinalIterations = maps:get(<<"total">>, maps:get(<<"iterations">>, maps:get(<<"counters">>, Final))),
    ?assert(Iterations > 0 andalso Iterations =< FinalIterations),
    %% every counter at the scrape is at most its final total
    Counters = maps:get(<<"counters">>, Final),
    [?assert(V =< maps:get(<<"total">>, maps:get(Name, Counters)))
     || {Name, _} <- maps:to_list(Counters),
        {ok, V} <- [maps:find(live_load_prometheus_text:name(<<Name/binary, "_total">>), Samples)]],
    %% every summary family is a metric of the final result, with a count no larger than its final one
    Metrics = maps:get(<<"metrics">>, Final),
    Summaries = [N || [N] <- element(2, re:run(Text, <<"^# TYPE (\\S+) summary$">>, [global, multiline, {capture, all_but_first, binary}]))],
    ?assert(length(Summaries) >= 3),
    ByName = maps:from_list([{live_load_prometheus_text:name(M), M} || M <- maps:keys(Metrics)]),
    [begin
         ?assert(maps:is_key(S, ByName)),
         ?assert(maps:get(<<S/binary, "_count">>, Samples) =< maps:get(<<"count">>, maps:get(maps:get(S, ByName), Metrics)))
     end || S <- Summaries],
    ?assertMatch({error, _}, httpc:request(get, {Url, []}, [{timeout, 5000}], [])).

ci_script() ->
    [{doc, "test/ci/ci_check.sh (the steps of guides/ci.md's GitHub Actions / GitLab CI examples) "
      "against the demo target: a failing threshold exits 4 and is the one failed testcase of the "
      "JUnit file (parsed with xmerl); the rerun is no regression, the injected latency is one (exit 5); "
      "the trend report of the saved runs shows their run ids and p95s in Chromium."}].
ci_script(Config) ->
    Root = ?config(root, Config),
    Out = filename:join(?config(priv_dir, Config), "ci_check"),
    {Status, Log} = sh(["CI_OUT=", Out, " bash ", filename:join(Root, "test/ci/ci_check.sh")]),
    ct:pal("ci_check.sh exit ~b:~n~ts", [Status, Log]),
    [?assertNotEqual(nomatch, string:find(Log, ["ci_check: ", Step, " ok"]))
     || Step <- ["thresholds expected 4 got 4", "baseline expected 0 got 0", "rerun expected 0 got 0",
                 "slowdown expected 5 got 5", "example expected 0 got 0", "compare-rerun expected 0 got 0",
                 "compare-slowdown expected 5 got 5", "trend expected 0 got 0"]],
    ?assertEqual(0, Status),
    %% JUnit: the failing threshold is the one failure
    {Doc, _} = xmerl_scan:file(filename:join(Out, "junit.xml")),
    Cases = xmerl_xpath:string("//testsuite[@name='live_load_counter_scenario']/testcase", Doc),
    ?assertEqual(["iterations succeed", "threshold iterations.failed_rate < 50%",
                  "threshold liveview.event.count > 100000000"], [attr(C, name) || C <- Cases]),
    ?assertEqual(["threshold failed: liveview.event.count > 100000000"],
                 [attr(F, message) || F <- xmerl_xpath:string("//testcase/failure", Doc)]),
    ?assertEqual("1", attr(hd(xmerl_xpath:string("/testsuites", Doc)), failures)),
    %% the thresholds section of that run
    {ok, Bin} = file:read_file(filename:join(Out, "thresholds.json")),
    {ok, [R]} = live_load_result:read_results(Bin),
    ?assertMatch([#{<<"expression">> := <<"iterations.failed_rate < 50%">>, <<"pass">> := true},
                  #{<<"expression">> := <<"liveview.event.count > 100000000">>, <<"pass">> := false}],
                 maps:get(<<"thresholds">>, R)),
    {ok, Md} = file:read_file(filename:join(Out, "thresholds.md")),
    ?assertMatch({match, _}, re:run(Md, <<"^# live_load run: live_load_counter_scenario\n\n## Thresholds: 1 of 2 failed">>)),
    %% compare: the slowdown is flagged on liveview.event, the rerun not at all
    {ok, Slow} = file:read_file(filename:join(Out, "compare_slowdown.md")),
    ?assertMatch({match, _}, re:run(Slow, <<"^\\| liveview.event \\| p50 \\| .* \\*\\*regression\\*\\* \\|$">>, [multiline])),
    {ok, Rerun} = file:read_file(filename:join(Out, "compare_rerun.md")),
    ?assertEqual(nomatch, binary:match(Rerun, <<"**regression**">>)),
    ?assertNotEqual(nomatch, binary:match(Rerun, <<"No regression beyond noise">>)),
    trend_in_chromium(Config, Out).

%% The trend report of the 4 saved runs: run ids and p95 of liveview.event as in the files.
trend_in_chromium(Config, Out) ->
    Root = ?config(root, Config),
    case {os:find_executable("node"), filelib:is_dir(filename:join(Root, "node_modules/playwright-core"))} of
        {false, _} -> {comment, "node missing: the trend page was not opened"};
        {_, false} -> {comment, "playwright-core missing: the trend page was not opened"};
        {Node, true} ->
            {ok, Runs} = live_load_trend:load([filename:join(Out, "live_load_runs")]),
            ?assertEqual(4, length(Runs)),
            Png = filename:join(Out, "trend.png"),
            Port = open_port({spawn_executable, Node},
                             [{args, [filename:join(Root, "test/js/report_check.js"), filename:join(Out, "trend.html"), Png]},
                              exit_status, binary, {env, [{"LIVE_LOAD_ROOT", Root}]}]),
            {ok, Page} = live_load_json:decode(collect(Port, [])),
            #{<<"sections">> := Sections, <<"checks">> := Checks, <<"console_errors">> := CE,
              <<"page_errors">> := PE, <<"charts">> := Charts} = Page,
            ct:pal("trend page: sections ~p, errors ~p ~p", [Sections, CE, PE]),
            ?assertEqual({[], []}, {CE, PE}),
            ?assertEqual([<<"thresholds">>, <<"trend">>], lists:sublist(Sections, 2)),
            ?assert(lists:any(fun(#{<<"name">> := N}) -> N =:= <<"trend">>; (_) -> false end, Charts)),
            [begin
                 I = integer_to_binary(Idx - 1),
                 ?assertMatch(#{<<"text">> := Id}, maps:get(<<"trend|", I/binary, "|id">>, Checks)),
                 Want = lists:nth(96, maps:get(<<"quantiles">>, maps:get(<<"liveview.event">>, maps:get(<<"metrics">>, R)))),
                 #{<<"value">> := Shown} = maps:get(<<"trend|", I/binary, "|liveview.event">>, Checks),
                 ?assert(abs(binary_to_number(Shown) - Want) < 1.0e-6)
             end || {Idx, {Id, R}} <- lists:zip(lists:seq(1, 4), Runs)],
            ok
    end.

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
    Port = open_port({spawn, lists:flatten(["sh -c '", Cmd, " 2>&1'"])}, [exit_status, binary, stderr_to_stdout]),
    sh_collect(Port, []).

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
