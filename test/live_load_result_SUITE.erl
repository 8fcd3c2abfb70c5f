%% The result map, its JSON form (checked with jq and Python's json), and the Markdown report.
-module(live_load_result_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").
-include_lib("proper/include/proper.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([result_round_trip/1, standard_parsers_read_it/1, shape/1, json_codec_property/1,
         json_reads_python_output/1, json_errors/1, from_json_rejects_other_formats/1,
         markdown_report/1]).

all() ->
    [result_round_trip, standard_parsers_read_it, shape, json_codec_property,
     json_reads_python_output, json_errors, from_json_rejects_other_formats, markdown_report].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(live_load),
    ok = live_load_metrics:reset(),
    [live_load_metrics:record(<<"liveview.event">>, V * 1.5, #{<<"event">> => E, <<"route">> => <<"/counter">>})
     || V <- lists:seq(1, 500), E <- [<<"inc">>, <<"dec">>]],
    [live_load_metrics:record(<<"http.bytes">>, V, #{<<"status">> => <<"200">>}) || V <- lists:seq(100, 200)],
    ok = live_load_metrics:declare(<<"http.bytes">>, #{unit => bytes}),
    live_load_metrics:count(<<"iterations">>, 7, #{<<"result">> => <<"ok">>}),
    live_load_metrics:count(<<"iterations">>, 1, #{<<"result">> => <<"failed">>}),
    live_load_metrics:count(<<"http.requests">>, 101, #{<<"status">> => <<"200">>}),
    live_load_metrics:error(<<"navigation_error">>, <<"net::ERR_CONNECTION_REFUSED | \"quoted\"\nline">>, <<"liveview.event">>),
    {ok, Collected} = live_load_collector:collect([node(), 'gone@nohost']),
    R = live_load_result:build(Collected, #{scenario => live_load_demo_counter, mode => faithful,
                                            duration_ms => 60000,
                                            users => #{target => 8, started => 8, failed => 0},
                                            options => #{users => 8, url => "http://127.0.0.1:4000/",
                                                         think => {1, 2}}}),
    [{result, R} | Config].

end_per_suite(_Config) ->
    ok.

%%% Cases

result_round_trip(Config) ->
    ct:comment("from_json(to_json(R)) equals R"),
    R = ?config(result, Config),
    ?assertEqual({ok, R}, live_load_result:from_json(live_load_result:to_json(R))),
    ?assertEqual({ok, R}, live_load_result:from_json(iolist_to_binary(live_load_result:to_json(R)))).

standard_parsers_read_it(Config) ->
    ct:comment("jq and python3 -m json.tool parse the output and read the same figures"),
    R = ?config(result, Config),
    File = filename:join(?config(priv_dir, Config), "result.json"),
    ok = file:write_file(File, live_load_result:to_json(R)),
    {0, _} = run("python3 -m json.tool " ++ File ++ " > /dev/null"),
    {0, Format} = run("jq -r .format " ++ File),
    ?assertEqual("live_load.result/1\n", Format),
    {0, Count} = run("jq '.metrics[\"liveview.event\"].count' " ++ File),
    ?assertEqual(integer_to_list(maps:get(<<"count">>, maps:get(<<"liveview.event">>, maps:get(<<"metrics">>, R)))) ++ "\n", Count),
    {0, P99} = run("jq '.metrics[\"liveview.event\"].quantiles[99]' " ++ File),
    Q99 = lists:nth(100, maps:get(<<"quantiles">>, maps:get(<<"liveview.event">>, maps:get(<<"metrics">>, R)))),
    ?assertEqual(Q99, list_to_float(string:trim(P99))),
    {0, Points} = run("jq '.quantile_points | length' " ++ File),
    ?assertEqual("101\n", Points).

shape(Config) ->
    ct:comment("the documented fields are there, with the documented types"),
    R = ?config(result, Config),
    #{<<"format">> := <<"live_load.result/1">>, <<"live_load_version">> := <<"0.1.0">>,
      <<"run">> := Run, <<"quantile_points">> := Points, <<"metrics">> := Metrics,
      <<"counters">> := Counters, <<"time_series">> := TS, <<"nodes">> := Nodes,
      <<"errors">> := Errors} = R,
    ?assertMatch(#{<<"scenario">> := <<"live_load_demo_counter">>, <<"mode">> := <<"faithful">>,
                   <<"duration_ms">> := 60000,
                   <<"users">> := #{<<"target">> := 8, <<"started">> := 8, <<"failed">> := 0},
                   <<"iterations">> := #{<<"ok">> := 7, <<"failed">> := 1},
                   <<"options">> := #{<<"users">> := 8, <<"url">> := <<"http://127.0.0.1:4000/">>,
                                      <<"think">> := [1, 2]}}, Run),
    {match, _} = re:run(maps:get(<<"started_at">>, Run),
                        "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$"),
    ?assertEqual(101, length(Points)),
    ?assertEqual({0.0, 0.5, 1.0}, {hd(Points), lists:nth(51, Points), lists:last(Points)}),
    #{<<"liveview.event">> := E, <<"http.bytes">> := B} = Metrics,
    ?assertMatch(#{<<"unit">> := <<"ms">>, <<"count">> := 1000, <<"errors">> := 1,
                   <<"min">> := 1.5, <<"max">> := 750.0}, E),
    ?assertEqual(101, length(maps:get(<<"quantiles">>, E))),
    ?assertEqual(lists:sort(maps:get(<<"quantiles">>, E)), maps:get(<<"quantiles">>, E)),
    #{<<"by">> := #{<<"event">> := #{<<"inc">> := Inc}, <<"route">> := #{<<"/counter">> := Route}}} = E,
    ?assertEqual({500, 1000, 101}, {maps:get(<<"count">>, Inc), maps:get(<<"count">>, Route),
                                    length(maps:get(<<"quantiles">>, Inc))}),
    ?assertMatch(#{<<"unit">> := <<"bytes">>, <<"count">> := 101}, B),
    ?assertMatch(#{<<"http.requests">> := #{<<"total">> := 101, <<"by">> := #{<<"status">> := #{<<"200">> := 101}}}},
                 Counters),
    ?assertMatch(#{<<"bucket_ms">> := 5000,
                   <<"buckets">> := [#{<<"t_ms">> := 0,
                                       <<"metrics">> := #{<<"liveview.event">> := #{<<"count">> := 1000, <<"errors">> := 1}},
                                       <<"counters">> := #{<<"iterations">> := 8}}]}, TS),
    Self = atom_to_binary(node()),
    ?assertMatch([#{<<"node">> := <<"gone@nohost">>, <<"status">> := <<"down">>, <<"reason">> := <<"noconnection">>},
                  #{<<"node">> := Self, <<"status">> := <<"ok">>,
                    <<"metrics">> := #{<<"liveview.event">> := #{<<"count">> := 1000}}}],
                 lists:sort(Nodes)),
    ?assertMatch([#{<<"kind">> := <<"navigation_error">>, <<"metric">> := <<"liveview.event">>,
                    <<"count">> := 1, <<"first_at">> := <<_/binary>>}], Errors).

json_codec_property(_Config) ->
    ct:comment("decode(encode(T)) =:= {ok, T} for generated JSON terms, including floats and "
               "non-ASCII strings"),
    case proper:quickcheck(prop_round_trip(), [{numtests, 500}, {max_size, 24}, quiet]) of
        true -> ok;
        false -> ct:fail({counterexample, proper:counterexample()})
    end.

prop_round_trip() ->
    ?FORALL(T, json(),
            live_load_json:decode(live_load_json:encode(T)) =:= {ok, T}).

json() -> ?SIZED(S, json(S)).
json(0) -> oneof([null, true, false, integer(), float(), text()]);
json(S) ->
    frequency([{3, json(0)},
               {1, ?LAZY(list(json(S div 3)))},
               {1, ?LAZY(?LET(KVs, list({text(), json(S div 3)}), maps:from_list(KVs)))}]).

text() -> ?LET(Cs, list(oneof([range(0, 16#7F), range(16#80, 16#D7FF), range(16#E000, 16#10FFFF)])),
               unicode:characters_to_binary(Cs)).

json_reads_python_output(Config) ->
    ct:comment("our decoder reads what Python's json module writes (escapes, exponents)"),
    File = filename:join(?config(priv_dir, Config), "py.json"),
    Script = filename:join(?config(priv_dir, Config), "dump.py"),
    ok = file:write_file(Script, <<"import json, sys\n"
                                   "json.dump({'s': 'caf\\u00e9 \\U0001F600 \\t\"',\n"
                                   "           'n': [1e-7, 1.5e300, -0.0, 12345678901234567890],\n"
                                   "           'z': None, 'b': [True, False], 'e': {}},\n"
                                   "          open(sys.argv[1], 'w'))\n">>),
    {0, _} = run("python3 " ++ Script ++ " " ++ File),
    {ok, Bin} = file:read_file(File),
    ?assertEqual({ok, #{<<"s">> => <<"café 😀 \t\""/utf8>>,
                        <<"n">> => [1.0e-7, 1.5e300, -0.0, 12345678901234567890],
                        <<"z">> => null, <<"b">> => [true, false], <<"e">> => #{}}},
                 live_load_json:decode(Bin)).

json_errors(_Config) ->
    [?assertMatch({error, {invalid_json, _, _}}, live_load_json:decode(B), B)
     || B <- [<<>>, <<"{">>, <<"[1,]">>, <<"{\"a\" 1}">>, <<"01">>, <<"1.">>, <<"-">>,
              <<"\"\\ud800\"">>, <<"\"a\nb\"">>, <<"\"\\x\"">>, <<"tru">>, <<"1 2">>,
              <<"1e99999">>, <<"\"", 16#FF, "\"">>,
              binary:copy(<<"[">>, 600)]],
    ?assertEqual({error, {invalid_json, 3, unexpected}}, live_load_json:decode(<<"[1,]">>)),
    ?assertError({not_json, {a, b}}, live_load_json:encode(#{<<"k">> => {a, b}})),
    ?assertError({not_json, <<255>>}, live_load_json:encode(<<255>>)).

from_json_rejects_other_formats(_Config) ->
    ?assertEqual({error, {unsupported_format, <<"live_load.result/2">>}},
                 live_load_result:from_json(<<"{\"format\": \"live_load.result/2\"}">>)),
    ?assertEqual({error, {unsupported_format, missing}}, live_load_result:from_json(<<"[]">>)),
    ?assertMatch({error, {invalid_json, _, _}}, live_load_result:from_json(<<"{">>)).

markdown_report(Config) ->
    ct:comment("the Markdown summary has run info, the metric table with dimension rows, "
               "counters, nodes (down node included) and errors, from the map or its JSON"),
    R = ?config(result, Config),
    Md = iolist_to_binary(live_load_report_markdown:render(R)),
    {ok, R2} = live_load_result:from_json(live_load_result:to_json(R)),
    ?assertEqual(Md, iolist_to_binary(live_load_report_markdown:render(R2))),
    ct:log("~ts", [Md]),
    [?assertMatch({match, _}, re:run(Md, Re, [multiline, unicode]), Re)
     || Re <- ["^# live_load run: live_load_demo_counter$",
               "^\\| duration \\| 60\\.0 s \\|$",
               "^\\| users \\| failed 0, started 8, target 8 \\|$",
               "^\\| Metric \\| Unit \\| Count \\| p50 \\| p90 \\| p95 \\| p99 \\| Max \\| Errors \\|$",
               "^\\| liveview\\.event \\| ms \\| 1000 \\| [0-9.]+ \\| [0-9.]+ \\| [0-9.]+ \\| [0-9.]+ \\| 750\\.0 \\| 1 \\|$",
               "^\\| &nbsp;&nbsp;event=inc \\|  \\| 500 \\|",
               "^\\| http\\.requests \\| 101 \\| status: 200=101 \\|$",
               "^\\| gone@nohost \\| down: noconnection \\|",
               "^\\| navigation_error \\| net::ERR_CONNECTION_REFUSED \\\\\\| \"quoted\" line \\| liveview\\.event \\| 1 \\|"]],
    %% Every table row has the same number of cells as its header.
    Lines = binary:split(Md, <<"\n">>, [global]),
    ?assertEqual([], [L || L <- table_rows_with_wrong_width(Lines)]).

%%% Helpers

run(Cmd) ->
    Port = open_port({spawn, Cmd}, [exit_status, stderr_to_stdout, binary]),
    port_output(Port, <<>>).

port_output(Port, Acc) ->
    receive
        {Port, {data, D}} -> port_output(Port, <<Acc/binary, D/binary>>);
        {Port, {exit_status, S}} -> {S, binary_to_list(Acc)}
    after 30000 -> ct:fail(command_timeout)
    end.

table_rows_with_wrong_width(Lines) ->
    width_check(Lines, undefined, []).

width_check([], _, Bad) -> Bad;
width_check([<<"|", _/binary>> = L | T], undefined, Bad) -> width_check(T, cells(L), Bad);
width_check([<<"|", _/binary>> = L | T], W, Bad) ->
    case cells(L) of
        W -> width_check(T, W, Bad);
        _ -> width_check(T, W, [L | Bad])
    end;
width_check([_ | T], _, Bad) -> width_check(T, undefined, Bad).

cells(L) ->
    %% Escaped pipes are content, not separators.
    length(binary:split(binary:replace(L, <<"\\|">>, <<>>, [global]), <<" | ">>, [global])).
