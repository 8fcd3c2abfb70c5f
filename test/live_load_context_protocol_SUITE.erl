%% Runs through `live_load:run/1' with the two connections (#13): every example scenario of
%% scenarios/ passes in protocol mode with the same assertions as in browser mode (the scenarios'
%% own checks, plus those of live_load_run_e2e_SUITE's example run, which runs the same four
%% scenarios in browser mode), and a hybrid run gives one result with both kinds under the
%% dimension `connection'. Real parts: the demo target, Chromium, the protocol port.
-module(live_load_context_protocol_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, suite/0, init_per_suite/1, end_per_suite/1]).
-export([scenarios_pass_in_protocol_mode/0, scenarios_pass_in_protocol_mode/1,
         hybrid_run_gives_one_result_with_both_kinds/0, hybrid_run_gives_one_result_with_both_kinds/1,
         protocol_users_start_no_browser/0, protocol_users_start_no_browser/1]).

-define(SCENARIOS, [live_load_counter_scenario, live_load_form_scenario, live_load_list_scenario,
                    live_load_navigation_scenario]).

suite() -> [{timetrap, {minutes, 10}}].

all() ->
    [protocol_users_start_no_browser, scenarios_pass_in_protocol_mode,
     hybrid_run_gives_one_result_with_both_kinds].

init_per_suite(Config) ->
    case live_load_connection:resolve(protocol) of
        {ok, _, protocol} ->
            {ok, _} = application:ensure_all_started(live_load),
            {ok, #{url := Url}} = live_load_demo_target:start(#{port => 0}),
            Root = up(filename:absname(code:lib_dir(live_load))),
            _ = [compile_scenario(filename:join([Root, "scenarios", atom_to_list(M) ++ ".erl"])) || M <- ?SCENARIOS],
            [{url, Url} | Config];
        {error, _} ->
            {skip, "the protocol backend (live_load_protocol) is not built in this tree"}
    end.

end_per_suite(Config) ->
    ok = application:stop(live_load),
    {Pid, MRef} = spawn_monitor(fun() -> live_load_demo_target:stop() end),
    receive {'DOWN', MRef, process, Pid, _} -> ok
    after 10000 -> ct:pal("live_load_demo_target:stop/0 did not return within 10 s")
    end,
    Config.

up(Dir) ->
    case filelib:is_dir(filename:join(Dir, "scenarios")) of
        true -> Dir;
        false -> up(filename:dirname(Dir))
    end.

compile_scenario(File) ->
    {ok, M, Bin} = compile:file(File, [binary, debug_info, report]),
    {module, M} = code:load_binary(M, File, Bin),
    M.

%% ---------------------------------------------------------------------------------------------

protocol_users_start_no_browser() ->
    [{doc, "A protocol run starts no Chromium: live_load_browser:start_link/1 is never called (traced) "
      "and the node's browser pool stays empty."}].
protocol_users_start_no_browser(Config) ->
    _ = erlang:trace_pattern({live_load_browser, start_link, 1}, true, [global]),
    _ = erlang:trace(all, true, [call, {tracer, self()}]),
    #{live_load_counter_scenario := R} =
        live_load:run(#{scenario => live_load_counter_scenario, users => 5, scenario_duration => 4000,
                        connection => protocol, base_url => ?config(url, Config), quiet => true}),
    _ = erlang:trace(all, false, [call]),
    _ = erlang:trace_pattern({live_load_browser, start_link, 1}, false, [global]),
    Started = receive_starts(0),
    #{<<"run">> := #{<<"iterations">> := #{<<"ok">> := Ok}}} = R,
    ct:comment("~b ok iterations; live_load_browser:start_link/1 called ~b times", [Ok, Started]),
    ?assert(Ok >= 5),
    ?assertEqual(0, Started),
    ?assertEqual([], live_load_browser_pool:browsers()),
    ?assertEqual([<<"protocol">>], kinds(R, <<"liveview.event">>)).

scenarios_pass_in_protocol_mode() ->
    [{doc, "The four example scenarios in one protocol run pass (their own checks fail an iteration on a "
      "wrong page) with the assertions live_load_run_e2e_SUITE makes of the same scenarios in browser "
      "mode; each result carries only the protocol kind."}].
scenarios_pass_in_protocol_mode(Config) ->
    Users = 20,
    Results = live_load:run(#{scenarios => ?SCENARIOS, users => Users, scenario_duration => 4000,
                              connection => protocol, base_url => ?config(url, Config), quiet => true}),
    %% every scenario checked first, so one failure does not hide the others
    Seen = [{M, try check(M, protocol, maps:get(M, Results), Users)
                catch error:Why -> {failed, Why}
                end} || M <- ?SCENARIOS],
    ct:comment("~p", [[{M, case R of {failed, _} -> failed; Ok -> Ok end} || {M, R} <- Seen]]),
    ?assertEqual([], [S || {_, {failed, _}} = S <- Seen]).

hybrid_run_gives_one_result_with_both_kinds() ->
    [{doc, "users => #{browser => 2, protocol => 40}: one run, one result, liveview.event and "
      "http.requests broken down by connection into browser and protocol."}].
hybrid_run_gives_one_result_with_both_kinds(Config) ->
    %% 15 s: the suite's only browser run starts Chromium cold (seconds on a loaded box)
    #{live_load_counter_scenario := R} =
        live_load:run(#{scenario => live_load_counter_scenario, users => #{browser => 2, protocol => 40},
                        scenario_duration => 15000, base_url => ?config(url, Config), quiet => true}),
    #{<<"run">> := #{<<"iterations">> := #{<<"ok">> := Ok, <<"failed">> := Failed},
                     <<"users">> := Users}} = R,
    Events = by_connection(R, <<"liveview.event">>),
    ct:comment("~b ok, ~b failed; users ~p; liveview.event by connection ~p", [Ok, Failed, Users, Events]),
    ?assertMatch(#{<<"target">> := 42, <<"started">> := 42, <<"failed">> := 0}, Users),
    ?assertEqual([<<"browser">>, <<"protocol">>], lists:sort(maps:keys(Events))),
    ?assert(Ok >= 42),
    ?assert(Failed =< Ok div 10),
    ?assertEqual([<<"browser">>, <<"protocol">>], kinds(R, <<"liveview.connect">>)),
    #{<<"counters">> := #{<<"http.requests">> := #{<<"by">> := #{<<"connection">> := HttpBy}}}} = R,
    ?assertEqual([<<"browser">>, <<"protocol">>], lists:sort(maps:keys(HttpBy))).

%% ---------------------------------------------------------------------------------------------

%% The assertions of live_load_run_e2e_SUITE's example run, for either connection.
check(M, Conn, R, Users) ->
    ?assert(is_map(R)),
    #{<<"run">> := #{<<"iterations">> := #{<<"ok">> := Ok, <<"failed">> := Failed}, <<"users">> := U}} = R,
    Metrics = maps:get(<<"metrics">>, R),
    Count = fun(Name) -> case Metrics of #{Name := #{<<"count">> := C}} -> C; _ -> 0 end end,
    ct:pal("~p ~p: ~p ok, ~p failed; users ~p; liveview.event ~p, connect ~p, navigation ~p; errors ~p",
           [M, Conn, Ok, Failed, U, Count(<<"liveview.event">>), Count(<<"liveview.connect">>),
            Count(<<"liveview.navigation">>),
            [{maps:get(<<"kind">>, E), maps:get(<<"message">>, E), maps:get(<<"count">>, E)}
             || E <- maps:get(<<"errors">>, R)]]),
    ?assert(Ok >= Users),
    ?assert(Failed =< Ok div 10),
    ?assertMatch(#{<<"target">> := Users, <<"started">> := Users, <<"failed">> := 0}, U),
    ?assert(Count(<<"liveview.connect">>) >= Ok),
    case M of
        live_load_navigation_scenario -> ?assert(Count(<<"liveview.navigation">>) > 0);
        _ -> ?assert(Count(<<"liveview.event">>) >= Ok)
    end,
    ?assertEqual([atom_to_binary(Conn)], kinds(R, <<"liveview.connect">>)),
    Ok.

by_connection(R, Metric) ->
    case R of
        #{<<"metrics">> := #{Metric := #{<<"by">> := #{<<"connection">> := By}}}} -> By;
        _ -> #{}
    end.

kinds(R, Metric) -> lists:sort(maps:keys(by_connection(R, Metric))).

receive_starts(N) ->
    receive {trace, _, call, {live_load_browser, start_link, _}} -> receive_starts(N + 1)
    after 0 -> N
    end.
