%% EUnit: the progress line's content.
-module(live_load_run_progress_tests).
-include_lib("eunit/include/eunit.hrl").

line_test() ->
    %% The metric store is node-wide: start from an empty one so earlier tests' values
    %% (other modules record liveview.event) cannot leak into the line.
    {ok, _} = application:ensure_all_started(live_load),
    ok = live_load_metrics:reset(),
    Count = fun(Name, Dims) -> ok = live_load_metrics:count(Name, 1, Dims) end,
    Count(<<"users.started">>, #{}),
    Count(<<"users.started">>, #{}),
    Count(<<"iterations">>, #{<<"result">> => <<"ok">>}),
    Count(<<"iterations">>, #{<<"result">> => <<"failed">>}),
    ok = live_load_metrics:error(<<"navigation_error">>, <<"net::ERR_CONNECTION_REFUSED">>, undefined),
    Args = #{scenario => my_scenario, target => 8, started => 0, duration => 60000},
    Line = lists:flatten(io_lib:format("~ts", [live_load_progress:line(Args, 12500)])),
    ?assertEqual("my_scenario  0:12/1:00  users 2/8  iterations 1 ok, 1 failed  errors: navigation_error 1", Line),
    %% Once round trips are recorded the line shows their p50/p95.
    ok = live_load_metrics:record(<<"liveview.event">>, 2.5, #{}),
    Line2 = lists:flatten(io_lib:format("~ts", [live_load_progress:line(Args, 12500)])),
    ok = live_load_metrics:reset(),
    ?assertMatch({match, _}, re:run(Line2, "iterations 1 ok, 1 failed  event p50 2\\.[0-9]+ ms p95 2\\.[0-9]+ ms  errors")).
