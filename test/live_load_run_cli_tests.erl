%% EUnit: command-line parsing of bin/live_load.
-module(live_load_run_cli_tests).
-include_lib("eunit/include/eunit.hrl").

help_test() ->
    ?assertEqual(help, live_load_cli:parse([])),
    ?assertEqual(help, live_load_cli:parse(["--help"])),
    ?assertEqual(help, live_load_cli:parse(["run", "x.erl", "-h"])),
    Usage = iolist_to_binary(live_load_cli:usage()),
    [?assertNotEqual(nomatch, binary:match(Usage, Flag))
     || Flag <- [<<"--users">>, <<"--duration">>, <<"--base-url">>, <<"--json">>, <<"--md">>,
                 <<"--html">>, <<"--set">>, <<"--iteration-timeout">>, <<"--user-rate">>, <<"--quiet">>,
                 <<"Exit status">>]].

run_options_test() ->
    {ok, Cmd} = live_load_cli:parse(["run", "scenarios/a.erl", "b", "--users", "8", "--duration", "60s",
                                     "--iteration-timeout", "500ms", "--user-rate", "120",
                                     "--base-url", "http://h:1", "--json", "r.json", "--md", "r.md",
                                     "--html", "r.html", "--set", "think=10", "--set", "name=x=y",
                                     "--mode", "fast", "--quiet"]),
    ?assertEqual(["scenarios/a.erl", "b"], maps:get(targets, Cmd)),
    ?assertEqual(#{users => 8, scenario_duration => 60000, iteration_timeout => 500, user_rate => 120,
                   mode => fast, quiet => true}, maps:get(opts, Cmd)),
    ?assertEqual(<<"http://h:1">>, maps:get(base_url, Cmd)),
    ?assertEqual([{"think", "10"}, {"name", "x=y"}], maps:get(set, Cmd)),
    ?assertEqual({"r.json", "r.md", "r.html"}, {maps:get(json, Cmd), maps:get(md, Cmd), maps:get(html, Cmd)}).

durations_test() ->
    D = fun(S) -> {ok, #{opts := #{scenario_duration := V}}} = live_load_cli:parse(["run", "x", "--duration", S]), V end,
    ?assertEqual(2000, D("2")),
    ?assertEqual(2000, D("2s")),
    ?assertEqual(120000, D("2m")),
    ?assertEqual(3600000, D("1h")),
    ?assertEqual(250, D("250ms")).

errors_test() ->
    ?assertEqual({error, missing_scenario}, live_load_cli:parse(["run"])),
    ?assertEqual({error, {unknown_command, "walk"}}, live_load_cli:parse(["walk"])),
    ?assertEqual({error, {invalid_option, "--users", "-3"}}, live_load_cli:parse(["run", "x", "--users", "-3"])),
    ?assertEqual({error, {invalid_option, "--duration", "forever"}}, live_load_cli:parse(["run", "x", "--duration", "forever"])),
    ?assertEqual({error, {invalid_option, "--duration", "5d"}}, live_load_cli:parse(["run", "x", "--duration", "5d"])),
    ?assertEqual({error, {invalid_option, "--mode", "turbo"}}, live_load_cli:parse(["run", "x", "--mode", "turbo"])),
    ?assertEqual({error, {invalid_option, "--set", "novalue"}}, live_load_cli:parse(["run", "x", "--set", "novalue"])),
    ?assertEqual({error, {unknown_option, "--colour"}}, live_load_cli:parse(["run", "x", "--colour", "red"])),
    ?assertEqual({error, {missing_value, "--users"}}, live_load_cli:parse(["run", "x", "--users"])).

base_url_checked_at_parse_test() ->
    ?assertEqual({error, {invalid_option, "--base-url", "notaurl"}},
                 live_load_cli:parse(["run", "x", "--base-url", "notaurl"])),
    ?assertEqual({error, {invalid_option, "--base-url", "ftp://h/"}},
                 live_load_cli:parse(["run", "x", "--base-url", "ftp://h/"])),
    ?assertMatch({ok, #{base_url := <<"https://h:8443/app">>}},
                 live_load_cli:parse(["run", "x", "--base-url", "https://h:8443/app"])).

verbose_flag_test() ->
    ?assertMatch({ok, #{verbose := true, targets := ["x"]}}, live_load_cli:parse(["run", "x", "--verbose"])).

%% every reason the CLI can print reads as a sentence, never as the raw term
messages_test() ->
    M = fun(R) -> lists:flatten(io_lib:format("~ts", [live_load_cli_errors:format(R)])) end,
    ?assertEqual("--users must be a positive integer (got \"-1\")", M({invalid_option, "--users", "-1"})),
    ?assertEqual("--duration must be a duration such as 500ms, 60s, 2m or 1h (got \"5d\")",
                 M({invalid_option, "--duration", "5d"})),
    ?assertEqual("--base-url must be an absolute http(s) URL such as http://127.0.0.1:4000 (got \"notaurl\")",
                 M({invalid_option, "--base-url", "notaurl"})),
    ?assertEqual("--base-url (base_url) must be an absolute http(s) URL such as http://127.0.0.1:4000 (got \"x\")",
                 M({invalid_option, base_url, <<"x">>})),
    ?assertEqual("--mode must be faithful or fast (got \"turbo\")", M({invalid_option, "--mode", "turbo"})),
    ?assertEqual("--set must be KEY=VALUE (got \"novalue\")", M({invalid_option, "--set", "novalue"})),
    ?assertEqual("unknown option --colour", M({unknown_option, "--colour"})),
    ?assertEqual("unknown option usres; did you mean --users?", M({unknown_option, usres, #{did_you_mean => [users]}})),
    ?assertEqual("unknown option mdoe; did you mean --mode?", M({unknown_option, <<"mdoe">>, #{did_you_mean => [mode]}})),
    ?assertEqual("--users needs a value", M({missing_value, "--users"})),
    ?assertEqual("no scenario given: live_load run SCENARIO...", M(missing_scenario)),
    ?assertEqual("unknown scenario \"nope\": not a module on the code path nor an .erl file",
                 M({unknown_scenario, "nope"})),
    ?assertEqual("lists is not a scenario: it needs -behaviour(live_load_scenario) and run/3",
                 M({not_a_scenario, lists})),
    ?assertEqual("cluster_opts is reserved but not supported by this build; remove it",
                 M({unsupported_option, cluster_opts})),
    ?assertEqual("cluster is used only with distributed => true",
                 M({option_needs, cluster, #{distributed => true}})),
    ?assertMatch("cannot start Chromium: " ++ _, M({browser_failed, {error, {port_program, "/x", enoent}}})),
    ?assertMatch("the scenario's config/1 raised error:badarg", M({config_failed, {error, badarg, []}})),
    Compile = M({compile_failed, "s.erl", [{"s.erl", [{{3, 5}, erl_parse, ["syntax error before: ", "'->'"]}]}]}),
    ?assertEqual("cannot compile s.erl:\n  s.erl:3:5: syntax error before: '->'", Compile),
    %% a reason nobody formats still prints (as the term)
    ?assertEqual("{something,new}", M({something, new})),
    %% --verbose keeps the term
    V = lists:flatten(io_lib:format("~ts", [live_load_cli_errors:format({invalid_option, "--users", "-1"}, true)])),
    ?assertEqual("--users must be a positive integer (got \"-1\")\n  ({invalid_option,\"--users\",\"-1\"})", V).
