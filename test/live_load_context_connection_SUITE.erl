%% The connection seam (#13) and the honesty fixes of #15 that live in the context's files, against
%% real Chromium (through the port), the demo LiveView target and a static page served by inets:
%% hostile observer payloads, one route template for http and liveview, metrics bucketed at the
%% event's time, not_liveview on a dead page, WebSocket frames counted once.
-module(live_load_context_connection_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, suite/0, init_per_suite/1, end_per_suite/1]).
-export([hostile_observer_payloads_are_counted/0, hostile_observer_payloads_are_counted/1,
         one_route_template_everywhere/0, one_route_template_everywhere/1,
         delayed_mailbox_buckets_by_event_time/0, delayed_mailbox_buckets_by_event_time/1,
         dead_page_is_not_liveview_at_once/0, dead_page_is_not_liveview_at_once/1,
         ws_frames_count_once/0, ws_frames_count_once/1,
         unsupported_action_fails_the_step/0, unsupported_action_fails_the_step/1,
         hybrid_kinds_spread/0, hybrid_kinds_spread/1]).

-define(C, live_load_context).
-define(UUID, "123e4567-e89b-12d3-a456-426614174000").

suite() -> [{timetrap, {minutes, 4}}].

all() ->
    [hostile_observer_payloads_are_counted, one_route_template_everywhere,
     delayed_mailbox_buckets_by_event_time, dead_page_is_not_liveview_at_once, ws_frames_count_once,
     unsupported_action_fails_the_step, hybrid_kinds_spread].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(live_load),
    _ = live_load_metrics_store:start(),
    {ok, #{url := Url, port := Port}} = live_load_demo_target:start(#{port => 0}),
    _ = application:ensure_all_started(inets),
    Static = filename:join(code:lib_dir(live_load), "../../../../test/static"),
    Root = case filelib:is_dir(Static) of
               true -> Static;
               false -> filename:join([os:getenv("LIVE_LOAD_ROOT", "."), "test", "static"])
           end,
    {ok, Httpd} = inets:start(httpd, [{port, 0}, {server_name, "static"}, {server_root, "/tmp"},
                                      {document_root, filename:absname(Root)}, {bind_address, {127, 0, 0, 1}},
                                      {mime_types, [{"html", "text/html"}]}]),
    [{port, SPort}] = httpd:info(Httpd, [port]),
    Page = iolist_to_binary(io_lib:format("http://127.0.0.1:~b/widgets.html", [SPort])),
    [{url, Url}, {demo_port, Port}, {page, Page}, {httpd, Httpd} | Config].

end_per_suite(Config) ->
    ok = inets:stop(httpd, ?config(httpd, Config)),
    ok = application:stop(live_load),
    {Pid, MRef} = spawn_monitor(fun() -> live_load_demo_target:stop() end),
    receive {'DOWN', MRef, process, Pid, _} -> ok
    after 10000 -> ct:pal("live_load_demo_target:stop/0 did not return within 10 s")
    end,
    Config.

%% ---------------------------------------------------------------------------------------------

hostile_observer_payloads_are_counted() ->
    [{doc, "Any page script can call the __live_load binding: payloads of the wrong shape are counted "
      "in events.invalid, the user keeps running (#15)."}].
hostile_observer_payloads_are_counted(Config) ->
    {ok, C0} = ?C:new(#{timeout => 20000}),
    C1 = ok(?C:navigate(C0, ?config(page, Config))),
    live_load_metrics:reset(),
    %% {payload, invalid events it holds}
    Payloads = [{<<"{\"events\": 5}">>, 1},
                {<<"{\"events\": [{\"kind\": \"connect\", \"ms\": \"x\"}]}">>, 1},
                {<<"[1, 2]">>, 2},
                {<<"{\"path\": 5, \"events\": []}">>, 1},
                {<<"{\"time_origin\": \"x\", \"events\": []}">>, 1},
                {<<"{\"dropped\": -3}">>, 1},
                {<<"{\"events\": [{\"kind\": \"event\", \"ms\": -1}]}">>, 1},
                {<<"{\"events\": [{\"kind\": \"reconnect\", \"ms\": null}]}">>, 1},
                %% odd but harmless: recorded with `unknown' dimension values, not invalid
                {<<"{\"events\": [{\"kind\": \"lv_error\", \"error\": {\"a\": 1}, \"view\": [1]}]}">>, 0},
                {<<"{\"events\": [{\"kind\": \"event\", \"ms\": 5, \"input_ms\": \"x\", \"event\": {}}]}">>, 0}],
    Script = iolist_to_binary(["(() => { const b = window.__live_load; ",
                               [["b(", live_load_browser_js:literal(P), "); "] || {P, _} <- Payloads],
                               "return 1; })()"]),
    {ok, _} = live_load_browser:call(user_of(C1), <<"Runtime.evaluate">>, #{<<"expression">> => Script}, 10000),
    %% the binding calls arrive as events; the next steps drain them
    Want = lists:sum([N || {_, N} <- Payloads]),
    C2 = wait_counter(C1, <<"events.invalid">>, Want),
    ok(C2),
    reliability_row(<<"hostile __live_load binding payloads">>, true,
                    io_lib:format("~b payloads, ~b invalid events counted, user alive", [length(Payloads), Want])),
    ?assertEqual(<<"+1">>, ?C:inner_text(?C:navigate(C2, url(Config, <<"/counter">>)), <<"#inc">>, #{})),
    ?assertEqual(1, counter(<<"liveview.errors">>)),
    ?assertMatch(#{count := 1}, live_load_metrics:quick_stats(<<"liveview.event">>)),
    ok = ?C:close(C2).

one_route_template_everywhere() ->
    [{doc, "/items/<uuid> gets the Erlang template /items/:uuid in http.* (from the URL the port sends) "
      "and in liveview.* (from the page's path): one rule, one place (#15)."}].
one_route_template_everywhere(Config) ->
    {ok, C0} = ?C:new(#{timeout => 20000}),
    C1 = ok(?C:navigate(C0, ?config(page, Config))),
    live_load_metrics:reset(),
    Script = <<"(async () => { history.pushState({}, '', '/items/" ?UUID "');
  try { await fetch(location.href); } catch (e) { }
  window.__live_load(JSON.stringify({time_origin: performance.timeOrigin, path: location.pathname, dropped: 0,
    events: [{kind: 'connect', ms: 5, t: performance.now(), transport: 'websocket'}]}));
  return 1; })()">>,
    {ok, _} = live_load_browser:call(user_of(C1), <<"Runtime.evaluate">>,
                                     #{<<"expression">> => Script, <<"awaitPromise">> => true}, 10000),
    Items = fun(Metric) -> [R || <<"/items/", _/binary>> = R <- routes(Metric)] end,
    C2 = wait_until(C1, fun() -> Items(<<"http.duration">>) =/= [] andalso Items(<<"liveview.connect">>) =/= [] end),
    Http = Items(<<"http.duration">>), Lv = Items(<<"liveview.connect">>),
    ct:comment("http routes ~ts, liveview routes ~ts", [lists:join(" ", Http), lists:join(" ", Lv)]),
    ?assertEqual({[<<"/items/:uuid">>], [<<"/items/:uuid">>]}, {lists:usort(Http), lists:usort(Lv)}),
    ok = ?C:close(C2).

delayed_mailbox_buckets_by_event_time() ->
    [{doc, "Events drained from the mailbox seconds after they happened land in the time bucket of "
      "their own time (http wall_ms, observer time_origin + t), not the drain's (#15)."}].
delayed_mailbox_buckets_by_event_time(Config) ->
    {ok, B} = live_load_browser_pool_browser(),
    {ok, U} = live_load_browser_actions:new_user(B, #{owner => self()}),
    ok = live_load_browser_actions:action(U, {navigate, ?config(page, Config)}, deadline(20000)),
    ok = live_load_metrics:start_run(#{bucket_ms => 1000}),
    #{started_at_ms := Start} = live_load_metrics_store:settings(),
    T0 = erlang:system_time(millisecond),
    Script = <<"(async () => { for (let i = 0; i < 3; i++) { try { await fetch(location.href + '?n=' + i); } catch (e) { } }
  window.__live_load(JSON.stringify({time_origin: performance.timeOrigin, path: location.pathname, dropped: 0,
    events: [{kind: 'navigation', nav: 'patch', ms: 3, t: performance.now()}]}));
  return 1; })()">>,
    {ok, _} = live_load_browser:call(U, <<"Runtime.evaluate">>,
                                     #{<<"expression">> => Script, <<"awaitPromise">> => true}, 10000),
    T1 = erlang:system_time(millisecond),
    %% the owner is busy elsewhere for 3 buckets; the events wait in its mailbox
    timer:sleep(3000),
    Drained = erlang:system_time(millisecond),
    ok = live_load_context_events:drain(browser, U),
    First = (T0 - Start) div 1000, Last = (T1 - Start) div 1000, DrainBucket = (Drained - Start) div 1000,
    ?assert(DrainBucket > Last),
    #{bucket_counters := BC, buckets := Buckets} = live_load_metrics:snapshot(),
    Http = [{I, N} || {<<"http.requests">>, I, N} <- BC],
    Nav = [I || {<<"liveview.navigation">>, I, _} <- Buckets],
    ct:comment("event buckets ~b..~b, drained in ~b; http.requests by bucket ~p, navigation ~p",
               [First, Last, DrainBucket, Http, Nav]),
    ?assertEqual(3, lists:sum([N || {_, N} <- Http])),
    ?assertEqual([], [I || {I, _} <- Http, I < First orelse I > Last]),
    ?assertMatch([I] when I >= First andalso I =< Last, Nav),
    ok = live_load_browser_actions:close_user(U).

dead_page_is_not_liveview_at_once() ->
    [{doc, "wait_for_liveview/1 on a loaded page without a data-phx-session root answers not_liveview "
      "when the page has loaded, not liveview_timeout after the step timeout (#15)."}].
dead_page_is_not_liveview_at_once(Config) ->
    {ok, C0} = ?C:new(#{timeout => 60000}),
    C1 = ok(?C:navigate(C0, ?config(page, Config))),
    T0 = erlang:monotonic_time(millisecond),
    C2 = ?C:wait_for_liveview(C1),
    Ms = erlang:monotonic_time(millisecond) - T0,
    ct:comment("not_liveview after ~b ms (step timeout 60000)", [Ms]),
    ?assertMatch(#{op := wait_for_liveview, reason := not_liveview}, ?C:error(C2)),
    %% a LiveView page still waits for its connection
    C3 = ok(?C:wait_for_liveview(?C:navigate(?C:reset(C2), url(Config, <<"/counter">>)))),
    ok = ?C:close(C3).

ws_frames_count_once() ->
    [{doc, "A page that sends 7 WebSocket frames and gets 7 answers counts ws.frames_sent = 7 and "
      "ws.frames_received = 7, not 7*8/2 = 28 from the port's running count (#15)."}].
ws_frames_count_once(Config) ->
    N = 7,
    {ok, C0} = ?C:new(#{timeout => 20000}),
    C1 = ok(?C:navigate(C0, ?config(page, Config))),
    live_load_metrics:reset(),
    Ws = iolist_to_binary(io_lib:format("ws://127.0.0.1:~b/live/websocket?vsn=2.0.0", [?config(demo_port, Config)])),
    Script = iolist_to_binary(["(() => new Promise((resolve) => { const n = ", integer_to_binary(N), ";
  const ws = new WebSocket(", live_load_browser_js:literal(Ws), "); let got = 0;
  ws.onopen = () => { for (let i = 1; i <= n; i++) ws.send(JSON.stringify([null, String(i), 'phoenix', 'heartbeat', {}])); };
  ws.onmessage = () => { if (++got === n) { ws.close(); resolve(got); } };
  ws.onerror = () => resolve(-1); }))()"]),
    {ok, #{<<"result">> := #{<<"value">> := N}}} =
        live_load_browser:call(user_of(C1), <<"Runtime.evaluate">>,
                               #{<<"expression">> => Script, <<"awaitPromise">> => true, <<"returnByValue">> => true}, 15000),
    C2 = wait_until(C1, fun() -> counter(<<"ws.closed">>) >= 1 andalso counter(<<"ws.frames_received">>) >= N end),
    Sent = counter(<<"ws.frames_sent">>), Received = counter(<<"ws.frames_received">>),
    ct:comment("frames sent ~b, received ~b (page sent ~b, got ~b)", [Sent, Received, N, N]),
    reliability_row(<<"ws frames counted once">>, Sent =:= N andalso Received =:= N,
                    io_lib:format("page sent ~b got ~b; counted sent ~b received ~b", [N, N, Sent, Received])),
    ?assertEqual({N, N}, {Sent, Received}),
    ok = ?C:close(C2).

unsupported_action_fails_the_step() ->
    [{doc, "A backend's {unsupported_by_connection, Kind, Function} becomes the step's error; later steps "
      "are skipped (the pipeline semantics stay in the context, the actions in the backend)."}].
unsupported_action_fails_the_step(_Config) ->
    {ok, C0} = ?C:new(#{connection => live_load_context_test_connection, server => self()}),
    C1 = ?C:click(?C:hover(C0, <<"#a">>), <<"#b">>),
    ?assertMatch(#{step := 1, op := hover, selector := <<"#a">>,
                   reason := {unsupported_by_connection, protocol, hover}}, ?C:error(C1)),
    %% the action and its deadline as the backend got them
    _ = erase(live_load_context_test_connection),
    {ok, C2} = ?C:new(#{connection => live_load_context_test_connection, server => self(), timeout => 5000}),
    C3 = ?C:wait_for_phx_loading_completion(?C:fill(C2, <<"#q">>, 42), change, <<"#q">>),
    ?assertEqual(undefined, ?C:error(C3)),
    ?assertEqual(<<"v">>, ?C:get_attribute(C3, <<"#q">>, <<"x">>, #{})),
    ?assertEqual(undefined, ?C:get_attribute(C3, <<"#q">>, <<"missing">>, #{})),
    Actions = live_load_context_test_connection:actions(),
    ?assertMatch([{{fill, <<"#q">>, <<"42">>}, D}, {{wait_for_loading, change, <<"#q">>}, _},
                  {{get_attribute, <<"#q">>, <<"x">>}, _}, {{get_attribute, <<"#q">>, <<"missing">>}, _}]
                 when is_integer(D), Actions),
    [{_, D1} | _] = Actions,
    ?assert(D1 > erlang:monotonic_time(millisecond) - 5000),
    ?assert(D1 =< erlang:monotonic_time(millisecond) + 5000).

hybrid_kinds_spread() ->
    [{doc, "A hybrid run's user ids get exactly the asked number of each kind, spread over the ids."}].
hybrid_kinds_spread(_Config) ->
    K = #{browser => 4, protocol => 500},
    Kinds = [live_load_connection:user_kind(Id, K) || Id <- lists:seq(1, 504)],
    ?assertEqual(4, length([x || browser <- Kinds])),
    BrowserIds = [Id || {Id, browser} <- lists:zip(lists:seq(1, 504), Kinds)],
    ct:comment("browser users at ids ~p", [BrowserIds]),
    ?assertEqual([1, 2, 3, 4], [live_load_connection:kind_index(Id, browser, K) || Id <- BrowserIds]),
    ?assert(lists:last(BrowserIds) > 400),
    ?assertEqual([browser, browser], [live_load_connection:user_kind(I, #{browser => 2, protocol => 0}) || I <- [1, 2]]),
    ?assertEqual([protocol], [live_load_connection:user_kind(1, #{browser => 0, protocol => 1})]),
    {ok, #{users := 504, user_kinds := K}} =
        live_load_options:validate(#{scenario => live_load_counter_scenario_for_test(), users => K}),
    {ok, #{users := 3, user_kinds := #{browser := 0, protocol := 3}}} =
        live_load_options:validate(#{scenario => live_load_counter_scenario_for_test(), users => 3,
                                     connection => protocol}),
    ?assertEqual({error, {invalid_option, users, #{browser => -1}}},
                 live_load_options:validate(#{scenario => live_load_counter_scenario_for_test(),
                                              users => #{browser => -1}})),
    ?assertEqual({error, {invalid_option, users, #{browser => 0, protocol => 0}}},
                 live_load_options:validate(#{scenario => live_load_counter_scenario_for_test(),
                                              users => #{browser => 0, protocol => 0}})),
    ?assertEqual({error, {invalid_option, users, #{robots => 1}}},
                 live_load_options:validate(#{scenario => live_load_counter_scenario_for_test(),
                                              users => #{robots => 1}})),
    ?assertEqual({error, {invalid_option, connection, carrier_pigeon}},
                 live_load_options:validate(#{scenario => live_load_counter_scenario_for_test(),
                                              connection => carrier_pigeon})),
    {ok, #{opts := #{users := #{browser := 2, protocol := 50}, connection := protocol}}} =
        live_load_cli:parse(["run", "x.erl", "--browser-users", "2", "--protocol-users", "50",
                             "--connection", "protocol"]),
    ?assertEqual({error, {invalid_option, "--connection", "ftp"}}, live_load_cli:parse(["run", "x.erl", "--connection", "ftp"])).

%% ---------------------------------------------------------------------------------------------

live_load_counter_scenario_for_test() -> live_load_runner_sleep_scenario.

live_load_browser_pool_browser() ->
    {ok, _} = live_load_browser_actions:new_user(#{owner => self()}),  % starts the pool's browser
    [{B, _} | _] = live_load_browser_pool:browsers(),
    {ok, B}.

deadline(Ms) -> erlang:monotonic_time(millisecond) + Ms.

url(Config, Path) -> <<(?config(url, Config))/binary, Path/binary>>.

ok(Ctx) ->
    ?assertEqual(undefined, ?C:error(Ctx)),
    Ctx.

user_of(Ctx) -> element(4, Ctx).   % #llctx.user

%% Runs cheap steps (each drains the user's events) until Pred() holds (at most ~20 s).
wait_until(Ctx, Pred) -> wait_until(Ctx, Pred, 200).
wait_until(Ctx, Pred, 0) -> ?assert(Pred()), Ctx;
wait_until(Ctx, Pred, N) ->
    C = ?C:page_content(Ctx, #{as => page}),
    case Pred() of
        true -> C;
        false -> timer:sleep(100), wait_until(C, Pred, N - 1)
    end.

wait_counter(Ctx, Name, Want) ->
    C = wait_until(Ctx, fun() -> counter(Name) >= Want end),
    timer:sleep(300),
    C1 = ?C:page_content(C, #{as => page}),
    ct:comment("~ts: ~b (want ~b)", [Name, counter(Name), Want]),
    ?assertEqual(Want, counter(Name)),
    C1.

counter(Name) ->
    #{counters := Cs} = live_load_metrics:snapshot(),
    lists:sum([N || {C, _, N} <- Cs, C =:= Name]).

routes(Metric) ->
    #{sketches := Ss} = live_load_metrics:snapshot(),
    [maps:get(<<"route">>, D) || {M, D, _} <- Ss, M =:= Metric, is_map_key(<<"route">>, D)].

reliability_row(Row, Pass, Saw) ->
    %% relative to the project root (CT runs in its log directory)
    Root = filename:join(code:lib_dir(live_load), "../../../.."),
    File = filename:absname(os:getenv("RELIABILITY_OUT", "_build/reliability/rows.tsv"), Root),
    ok = filelib:ensure_dir(File),
    ok = file:write_file(File, [Row, $\t, case Pass of true -> "pass"; false -> "FAIL" end, $\t, Saw, $\n], [append]).
