%% The timings of a LiveView event (guides/events.md, "Three timings per event") against real
%% Chromium and the demo target, which times its own side of every event (live_load_demo_timing).
%% `liveview.wire' comes from the network service's own frame times (the port's tracing windows):
%% for every click it is never shorter than the server's own time and never longer than the page's
%% round trip over the same frames (`liveview.event_received', CDP timestamps taken in the
%% renderer); on a quiet run every answered click gets exactly one, and when tracing windows roll
%% under the clicks every answered push is either timed or counted (`wire_unmatched'), never
%% paired with another push's frames. No timing targets here (a shared, loaded machine):
%% `make bench-timings' prints the figures.
-module(live_load_timings_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, suite/0, init_per_suite/1, end_per_suite/1]).
-export([faithful_clicks_and_form/0, faithful_clicks_and_form/1,
         fast_clicks/0, fast_clicks/1,
         wire_includes_server_latency/0, wire_includes_server_latency/1,
         rolling_windows_time_or_count/0, rolling_windows_time_or_count/1,
         unsampled_socket_still_timed/0, unsampled_socket_still_timed/1,
         network_off_has_no_wire/0, network_off_has_no_wire/1]).

-define(C, live_load_context).
-define(CLICKS, 4).
-define(LATENCY_MS, 40).
%% performance.now() in the page is coarsened (100 us) and jittered; the frame clocks are not
-define(PAGE_CLOCK_SLACK_MS, 0.2).

suite() -> [{timetrap, {minutes, 2}}].

all() ->
    [faithful_clicks_and_form, fast_clicks, wire_includes_server_latency, rolling_windows_time_or_count,
     unsampled_socket_still_timed, network_off_has_no_wire].

init_per_suite(Config) ->
    case os:find_executable("chromium") of
        false -> {skip, "chromium not installed"};
        _ ->
            {ok, _} = application:ensure_all_started(live_load),
            _ = live_load_metrics_store:start(),
            {ok, #{url := Url}} = live_load_demo_target:start(#{port => 0}),
            {ok, B} = live_load_browser:start(#{}),
            [{url, Url}, {browser, B} | Config]
    end.

end_per_suite(Config) ->
    live_load_browser:stop(?config(browser, Config)),
    ok = application:stop(live_load),
    {Pid, MRef} = spawn_monitor(fun() -> live_load_demo_target:stop() end),
    receive {'DOWN', MRef, process, Pid, _} -> ok
    after 10000 -> ct:pal("live_load_demo_target:stop/0 did not return within 10 s")
    end,
    Config.

%% ---------------------------------------------------------------------------------------------

faithful_clicks_and_form() ->
    [{doc, "Faithful mode: per trusted click on #inc exactly one wire, one event_received, one push->patch and "
           "one input->patch value (dims event=inc, type=click, route=/counter); server time <= wire <= "
           "event_received, wire <= push->patch <= input->patch; diff_bytes = the reply frame the server wrote; "
           "no click left unmatched; the Markdown report shows them side by side; a form change is timed as "
           "type form, event validate"}].
faithful_clicks_and_form(Config) ->
    with_ctx(Config, #{mode => faithful}, fun(C0) ->
        C1 = clicks(C0, Config, faithful),
        %% the Markdown report shows the last click's three timings and diff size side by side
        {ok, Collected} = live_load_collector:collect([node()]),
        Md = iolist_to_binary(live_load_report_markdown:render(live_load_result:build(Collected, #{}))),
        ?assertMatch({match, _}, re:run(Md, "^\\| inc \\| 1 \\| [0-9.]+ / [0-9.]+ \\| [0-9.]+ / [0-9.]+ \\| "
                                            "[0-9.]+ / [0-9.]+ \\| 1[0-9][0-9]\\.0 / 1[0-9][0-9]\\.0 \\|$", [multiline])),
        live_load_metrics:reset(),
        C2 = ok(?C:wait_for_liveview(?C:navigate(C1, url(Config, <<"/form">>)))),
        C3 = ok(?C:wait_for_phx_loading_completion(?C:fill(C2, <<"#q">>, <<"abc">>), change, <<"#q">>)),
        _ = ok(recorded(C3, Config)),
        ?assertMatch([{#{<<"event">> := <<"validate">>, <<"type">> := <<"form">>, <<"route">> := <<"/form">>}, N, _, _}]
                       when N >= 1, values(<<"liveview.wire">>))
    end).

fast_clicks() ->
    [{doc, "Fast mode (hidden page, clicks dispatched in the page): per click exactly one wire, one "
           "event_received and one push->patch value, server time <= wire <= event_received, wire <= "
           "push->patch, diff_bytes = the reply frame; no input->patch (untrusted); no click left unmatched"}].
fast_clicks(Config) ->
    with_ctx(Config, #{mode => fast}, fun(C0) -> clicks(C0, Config, fast) end).

wire_includes_server_latency() ->
    [{doc, "With latency_ms = 40 on the demo target the server's own time and the wire round trip are both "
           ">= 40 ms for every click: the wire timing contains the server's time"}].
wire_includes_server_latency(Config) ->
    ok = live_load_demo_target:set_option(latency_ms, ?LATENCY_MS),
    try
        with_ctx(Config, #{mode => fast}, fun(C0) ->
            C1 = ok(?C:wait_for_liveview(?C:navigate(C0, url(Config, <<"/counter">>)))),
            lists:foldl(fun(_, C) ->
                                {C2, #{wire := W, server_ms := S}} = click(C, Config),
                                ?assert(S >= ?LATENCY_MS),
                                ?assert(W >= S),
                                C2
                        end, C1, [1, 2])
        end)
    after
        live_load_demo_target:set_option(latency_ms, 0)
    end.

rolling_windows_time_or_count() ->
    [{doc, "With tracing windows of 200 ms rolling under continuous clicks (and 3 ms of server time per "
           "event), every answered push gets either one wire event or one wire_unmatched count, and every "
           "wire lies between the server's 3 ms and the page's round trip of the same push: frames lost "
           "between two windows are never paired with another push's"}].
rolling_windows_time_or_count(Config) ->
    ok = live_load_demo_target:set_option(latency_ms, 3),
    {ok, B} = live_load_browser:start(#{trace_window_ms => 200}),
    try
        {ok, U} = live_load_browser:new_user(B, #{mode => fast}),
        open_counter(U, Config),
        {ok, #{<<"wire_unmatched">> := Unmatched0}} = live_load_browser:stats(B),
        Deadline = erlang:monotonic_time(millisecond) + 3000,
        N = click_until(U, Deadline, 1),
        {ok, #{<<"wire_unmatched">> := Unmatched1, <<"trace_windows">> := Windows}} = live_load_browser:stats(B),
        Events = [E || {live_load_event, X, #{<<"type">> := <<"liveview">>} = E} <- flush(), X =:= U],
        Received = maps:from_list([{W, Ms} || #{<<"kind">> := <<"received">>, <<"wall_ms">> := W, <<"ms">> := Ms} <- Events]),
        Wires = [{W, Ms} || #{<<"kind">> := <<"wire">>, <<"wall_ms">> := W, <<"ms">> := Ms} <- Events],
        ct:pal("~b clicks, ~b windows, ~b wire, ~b unmatched", [N, Windows, length(Wires), Unmatched1 - Unmatched0]),
        ?assertEqual(N, map_size(Received)),
        ?assertEqual(N, length(Wires) + Unmatched1 - Unmatched0),
        ?assert(Windows >= 5),
        [begin
             ?assert(maps:is_key(W, Received)),
             ?assert(Ms >= 3),
             ?assert(Ms =< maps:get(W, Received))
         end || {W, Ms} <- Wires]
    after
        live_load_browser:stop(B),
        live_load_demo_target:set_option(latency_ms, 0)
    end.

unsampled_socket_still_timed() ->
    [{doc, "A user whose network capture samples nothing (sample => 0.0) reports no ws events but still one "
           "liveview wire and one received event per answered click, with the page URL and the push's event "
           "and type"}].
unsampled_socket_still_timed(Config) ->
    B = ?config(browser, Config),
    {ok, U} = live_load_browser:new_user(B, #{sample => 0.0}),
    try
        {ok, #{<<"wire_unmatched">> := Unmatched0}} = live_load_browser:stats(B),
        open_counter(U, Config),
        _ = [begin
                 {ok, _} = eval(U, <<"document.getElementById('inc').click()">>),
                 poll(U, <<"document.getElementById('count').textContent.trim()">>, integer_to_binary(I))
             end || I <- lists:seq(1, 3)],
        {ok, #{<<"wire_dropped">> := 0, <<"wire_unmatched">> := Unmatched0}} = live_load_browser:stats(B),
        Events = [E || {live_load_event, X, E} <- flush(), X =:= U],
        ?assertEqual([], [E || #{<<"type">> := <<"ws">>} = E <- Events]),
        Wire = [E || #{<<"type">> := <<"liveview">>, <<"kind">> := <<"wire">>} = E <- Events],
        Received = [E || #{<<"type">> := <<"liveview">>, <<"kind">> := <<"received">>} = E <- Events],
        ?assertEqual(3, length(Wire)),
        ?assertEqual(3, length(Received)),
        [?assertMatch(#{<<"event">> := <<"inc">>, <<"event_type">> := <<"click">>,
                        <<"url">> := <<"http://127.0.0.1:", _/binary>>, <<"wall_ms">> := _, <<"ms">> := Ms}
                        when Ms >= 0, W) || W <- Wire],
        [?assertMatch(#{<<"bytes">> := Bytes} when Bytes > 0, R) || R <- Received]
    after
        live_load_browser:close_user(U)
    end.

network_off_has_no_wire() ->
    [{doc, "network => false turns the page's Network domain off: push->patch is still measured, there is "
           "no wire round trip, no event_received and no diff size (documented in guides/events.md)"}].
network_off_has_no_wire(Config) ->
    with_ctx(Config, #{mode => fast, network => false}, fun(C0) ->
        C1 = ok(?C:wait_for_liveview(?C:navigate(C0, url(Config, <<"/counter">>)))),
        live_load_metrics:reset(),
        C2 = ok(?C:wait_for_phx_loading_completion(?C:click(C1, <<"#inc">>), click, <<"#inc">>)),
        _ = ok(recorded(C2, Config)),
        ?assertMatch([{_, 1, _, _}], values(<<"liveview.event">>)),
        ?assertEqual([], values(<<"liveview.wire">>)),
        ?assertEqual([], values(<<"liveview.event_received">>)),
        ?assertEqual([], values(<<"liveview.diff_bytes">>))
    end).

%% ---------------------------------------------------------------------------------------------

%% ?CLICKS clicks on #inc, each checked on its own (metrics and server timing reset before it);
%% none of them left without a wire timing.
clicks(C0, Config, Mode) ->
    B = ?config(browser, Config),
    {ok, #{<<"wire_unmatched">> := Unmatched0}} = live_load_browser:stats(B),
    C1 = ok(?C:wait_for_liveview(?C:navigate(C0, url(Config, <<"/counter">>)))),
    C9 = lists:foldl(
           fun(_, C) ->
                   {C2, #{wire := W, received := R, event := E, input := In, bytes := Bytes, server_ms := S,
                          server_bytes := SB}} = click(C, Config),
                   ct:pal("~s click: server ~.3f ms, wire ~.3f ms, event_received ~.3f ms, push->patch ~.3f ms, "
                          "input->patch ~p ms, diff ~b bytes", [Mode, S, W, R, E, In, round(Bytes)]),
                   ?assert(S =< W),
                   ?assert(W =< R),
                   ?assert(W =< E + ?PAGE_CLOCK_SLACK_MS),
                   ?assertEqual(SB, round(Bytes)),
                   case Mode of
                       faithful -> ?assert(is_number(In) andalso In >= E - ?PAGE_CLOCK_SLACK_MS);
                       fast -> ?assertEqual(none, In)
                   end,
                   C2
           end, C1, lists:seq(1, ?CLICKS)),
    {ok, #{<<"wire_unmatched">> := Unmatched0}} = live_load_browser:stats(B),
    C9.

%% One click on #inc: its exact values (each metric holds one value, so min = max = it).
click(C0, Config) ->
    live_load_metrics:reset(),
    ok = live_load_demo_timing:reset(),
    C1 = ok(?C:wait_for_phx_loading_completion(?C:click(C0, <<"#inc">>), click, <<"#inc">>)),
    C2 = ok(recorded(C1, Config)),
    Dims = #{<<"event">> => <<"inc">>, <<"type">> => <<"click">>, <<"route">> => <<"/counter">>,
             <<"connection">> => <<"browser">>},
    [{Dims, 1, W, W}] = values(<<"liveview.wire">>),
    [{Dims, 1, R, R}] = values(<<"liveview.event_received">>),
    [{Dims, 1, Bytes, Bytes}] = values(<<"liveview.diff_bytes">>),
    [{_, 1, E, E}] = values(<<"liveview.event">>),
    In = case values(<<"liveview.input_to_patch">>) of
             [] -> none;
             [{_, 1, I, I}] -> I
         end,
    #{<<"all">> := #{count := 1, mean_ms := S, bytes := SB}} = live_load_demo_timing:summary(),
    {C2, #{wire => W, received => R, event => E, input => In, bytes => Bytes, server_ms => S, server_bytes => SB}}.

%% Every event of what was done so far recorded: the port reads the tracing window out (stats
%% answers after it), then a step drains the events that came before the answer.
recorded(C, Config) ->
    {ok, _} = live_load_browser:stats(?config(browser, Config)),
    ?C:inner_text(C, <<"body">>, #{as => body}).

%% [{Dims, Count, Min, Max}] of a metric, exact (the sketch keeps min and max exactly)
values(Metric) ->
    #{sketches := Ss} = live_load_metrics:snapshot(),
    [begin
         {ok, S} = live_load_sketch:from_binary(Bin),
         {D, live_load_sketch:count(S), live_load_sketch:min(S), live_load_sketch:max(S)}
     end || {M, D, Bin} <- Ss, M =:= Metric].

with_ctx(Config, Opts, Fun) ->
    {ok, Ctx} = ?C:new(Opts#{timeout => 20000, browser => ?config(browser, Config)}),
    try Fun(Ctx)
    after ?C:close(Ctx)
    end.

url(Config, Path) -> <<(?config(url, Config))/binary, Path/binary>>.

ok(Ctx) ->
    ?assertEqual(undefined, ?C:error(Ctx)),
    Ctx.

open_counter(U, Config) ->
    {ok, _} = live_load_browser:call(U, <<"Page.navigate">>, #{<<"url">> => url(Config, <<"/counter">>)}, 15000),
    poll(U, <<"!!document.querySelector('[data-phx-main].phx-connected')">>, true).

%% Clicks (each waiting for its patch) until the deadline; returns how many.
click_until(U, Deadline, I) ->
    case erlang:monotonic_time(millisecond) >= Deadline of
        true -> I - 1;
        false ->
            {ok, _} = eval(U, <<"document.getElementById('inc').click()">>),
            poll(U, <<"document.getElementById('count').textContent.trim()">>, integer_to_binary(I), 400, 5),
            click_until(U, Deadline, I + 1)
    end.

eval(U, Expr) ->
    live_load_browser:call(U, <<"Runtime.evaluate">>, #{<<"expression">> => Expr, <<"returnByValue">> => true}, 10000).

poll(U, Expr, Want) -> poll(U, Expr, Want, 100, 100).

poll(_U, Expr, Want, 0, _Sleep) -> ct:fail({never, Expr, Want});
poll(U, Expr, Want, N, Sleep) ->
    case eval(U, Expr) of
        {ok, #{<<"result">> := #{<<"value">> := Want}}} -> ok;
        _ -> timer:sleep(Sleep), poll(U, Expr, Want, N - 1, Sleep)
    end.

flush() ->
    receive M -> [M | flush()] after 0 -> [] end.
