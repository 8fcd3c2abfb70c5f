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
