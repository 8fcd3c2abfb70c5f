%% EUnit tests of the context's pure parts: options, assigns, flow (halt/fail/skip), step counter,
%% error record, funs of the context, `as', and the helpers (routes, keys, JS literals, storage
%% snapshot shape, event to metric mapping). Browser behaviour is in live_load_context_SUITE.
-module(live_load_context_tests).

-include_lib("eunit/include/eunit.hrl").

-define(C, live_load_context).

bare() ->
    {ok, Ctx} = ?C:new(#{browser => undefined}),
    Ctx.

options_test_() ->
    [?_assertEqual({error, {invalid_option, mode, slow}}, ?C:new(#{browser => undefined, mode => slow})),
     ?_assertEqual({error, {invalid_option, timeout, 0}}, ?C:new(#{browser => undefined, timeout => 0})),
     ?_assertEqual({error, {invalid_option, browser, <<"b">>}}, ?C:new(#{browser => <<"b">>})),
     ?_assertEqual({error, {invalid_option, network, yes}}, ?C:new(#{browser => undefined, network => yes})),
     ?_assertEqual({error, {invalid_option, bogus, 1}}, ?C:new(#{browser => undefined, bogus => 1})),
     ?_assertEqual({error, {invalid_option, options, [x]}}, ?C:new([x])),
     ?_assertEqual(#{a => 1}, ?C:assigns(element(2, ?C:new(#{browser => undefined, assigns => #{a => 1}}))))].

assigns_test() ->
    C0 = bare(),
    ?assertEqual(#{}, ?C:assigns(C0)),
    C1 = ?C:assign(?C:assign(C0, user, <<"ann">>), n, 1),
    ?assertEqual(#{user => <<"ann">>, n => 1}, ?C:assigns(C1)),
    C2 = ?C:update_assign(C1, n, fun(N) -> N + 1 end),
    ?assertEqual(2, maps:get(n, ?C:assigns(C2))),
    C3 = ?C:update_assign(C2, fresh, fun(undefined) -> first end),
    ?assertEqual(first, maps:get(fresh, ?C:assigns(C3))),
    ?assertEqual(#{n => 2, fresh => first}, ?C:assigns(?C:clear_assign(C3, user))),
    ?assertEqual(#{}, ?C:assigns(?C:reset_assigns(C3))).

step_error_and_skip_test() ->
    C0 = ?C:assign(bare(), id, <<"7">>),
    %% the selector is a fun of the context; no browser: the step fails with no_browser
    C1 = ?C:click(C0, fun(C) -> <<"#item-", (maps:get(id, ?C:assigns(C)))/binary>> end),
    ?assert(?C:failed(C1)),
    ?assert(?C:is_failed(C1)),
    ?assertEqual(#{step => 1, op => click, selector => <<"#item-7">>, reason => no_browser}, ?C:error(C1)),
    %% later steps are skipped: same error, counter not advanced
    C2 = ?C:fill(?C:navigate(C1, <<"http://127.0.0.1:1/">>), <<"#q">>, <<"x">>),
    ?assertEqual(?C:error(C1), ?C:error(C2)),
    %% assigns still work after a failure
    ?assertEqual(<<"7">>, maps:get(id, ?C:assigns(C2))),
    ?assertEqual(<<"Step 1: click(#item-7) failed: no_browser">>, ?C:format_error(?C:error(C2))).

fail_and_halt_test() ->
    C0 = bare(),
    ?assertNot(?C:halted(C0)),
    ?assertEqual(undefined, ?C:error(C0)),
    H = ?C:halt(C0),
    ?assert(?C:halted(H)),
    ?assert(?C:is_halted(H)),
    %% a halted context skips steps without failing
    H1 = ?C:click(H, <<"#a">>),
    ?assertEqual(undefined, ?C:error(H1)),
    ?assertEqual({error, skipped}, ?C:inner_text(H1, <<"#a">>, #{})),
    F = ?C:fail(C0, too_slow),
    ?assertEqual(#{step => 0, op => fail, selector => undefined, reason => too_slow}, ?C:error(F)),
    %% the first failure is kept; halt has no effect on a failed context
    ?assertEqual(too_slow, maps:get(reason, ?C:error(?C:fail(F, other)))),
    ?assertNot(?C:halted(?C:halt(F))),
    %% reset: error, halt and counter cleared, assigns kept
    R = ?C:reset(?C:assign(?C:click(F, <<"#x">>), k, v)),
    ?assertEqual(undefined, ?C:error(R)),
    ?assertNot(?C:halted(?C:reset(H))),
    ?assertEqual(#{k => v}, ?C:assigns(R)),
    ?assertEqual(1, maps:get(step, ?C:error(?C:click(R, <<"#x">>)))).

step_counter_test_() ->
    %% a throttle is a step (no browser needed); an unknown throttle fails it
    {setup, fun() -> application:ensure_all_started(live_load) end,
     fun(_) ->
             C1 = ?C:throttle(bare(), <<"no_such_throttle">>),
             [?_assertMatch(#{step := 1, op := throttle, reason := {unknown_throttle, <<"no_such_throttle">>}},
                            ?C:error(C1))]
     end}.

extraction_test() ->
    C0 = bare(),
    ?assertEqual({error, no_browser}, ?C:inner_text(C0, <<"#a">>, #{})),
    ?assertEqual({error, no_browser}, ?C:page_content(C0, #{})),
    C1 = ?C:inner_html(C0, <<"#a">>, #{as => html}),
    ?assertEqual(#{step => 1, op => inner_html, selector => <<"#a">>, reason => no_browser}, ?C:error(C1)),
    ?assertEqual({error, skipped}, ?C:text_content(C1, <<"#a">>, #{})),
    ?assertEqual(C1, ?C:text_content(C1, <<"#a">>, #{as => t})),
    ?assertError({invalid_option, options, #{bogus := 1}}, ?C:inner_text(C0, <<"#a">>, #{bogus => 1})).

bad_input_test() ->
    C0 = bare(),
    ?assertEqual({invalid_option, kind, tap},
                 maps:get(reason, ?C:error(?C:wait_for_phx_loading_completion(C0, tap, <<"#a">>)))),
    ?assertEqual({invalid_option, selector, foo}, maps:get(reason, ?C:error(?C:click(C0, foo)))),
    %% a crashing fun of the context becomes the step's error, not a crash of the user
    #{reason := {exception, error, boom}} = ?C:error(?C:click(C0, fun(_) -> erlang:error(boom) end)),
    ?assertError({invalid_option, timeout, -1}, ?C:set_timeout(C0, -1)).

string_selectors_test() ->
    #{selector := <<"#é"/utf8>>} = ?C:error(?C:click(bare(), "#é")).

route_test_() ->
    R = fun live_load_context_route:collapse/1,
    [?_assertEqual(<<"/users/:id/posts">>, R(<<"http://h:4000/users/42/posts?page=2#top">>)),
     ?_assertEqual(<<"/">>, R(<<"http://h:4000">>)),
     ?_assertEqual(<<"/">>, R(<<"http://h:4000/?q=1">>)),
     ?_assertEqual(<<"/o/:uuid">>, R(<<"/o/123e4567-e89b-12d3-a456-426614174000">>)),
     ?_assertEqual(<<"/blob/:hex">>, R(<<"/blob/deadbeefdeadbeef00">>)),
     ?_assertEqual(<<"/s/:token">>, R(<<"/s/aZ3kP9qLm2Xw7">>)),
     ?_assertEqual(<<"/counter">>, R(<<"/counter">>)),
     ?_assertEqual(<<"/live_view/settings">>, R(<<"/live_view/settings">>)),
     ?_assertEqual(<<"/a/b/c/d/e/f/g/h/...">>, R(<<"/a/b/c/d/e/f/g/h/i/j">>)),
     ?_assertEqual(<<"/">>, R(null)),
     ?_assert(byte_size(R(iolist_to_binary([[<<"/seg">>, integer_to_binary(I rem 7), <<"x">>] || I <- lists:seq(1, 8)]))) =< 128)].

keys_test_() ->
    E = fun live_load_browser_keys:events/1,
    [?_assertMatch({ok, [#{<<"type">> := <<"keyDown">>, <<"key">> := <<"Enter">>, <<"text">> := <<"\r">>,
                           <<"windowsVirtualKeyCode">> := 13},
                         #{<<"type">> := <<"keyUp">>, <<"key">> := <<"Enter">>}]}, E(<<"Enter">>)),
     ?_assertMatch({ok, [#{<<"type">> := <<"rawKeyDown">>, <<"key">> := <<"Tab">>}, #{<<"type">> := <<"keyUp">>}]},
                   E(<<"Tab">>)),
     ?_assertMatch({ok, [#{<<"key">> := <<"a">>, <<"code">> := <<"KeyA">>, <<"text">> := <<"a">>}, _]}, E(<<"a">>)),
     ?_assertMatch({ok, [#{<<"key">> := <<"Shift">>, <<"type">> := <<"rawKeyDown">>},
                         #{<<"key">> := <<"Tab">>, <<"modifiers">> := 8}, #{<<"key">> := <<"Tab">>},
                         #{<<"key">> := <<"Shift">>, <<"type">> := <<"keyUp">>}]}, E(<<"Shift+Tab">>)),
     %% Control+a selects, it does not type "a"
     ?_assertMatch({ok, [_, #{<<"type">> := <<"rawKeyDown">>, <<"modifiers">> := 2}, _, _]}, E(<<"Control+a">>)),
     ?_assertEqual({error, {invalid_option, key, <<"Hyper+x">>}}, E(<<"Hyper+x">>)),
     ?_assertEqual({error, {invalid_option, key, <<"NoSuchKey">>}}, E(<<"NoSuchKey">>)),
     ?_assertEqual({error, {invalid_option, key, <<>>}}, E(<<>>))].

js_literal_test_() ->
    L = fun live_load_browser_js:literal/1,
    [?_assertEqual(<<"\"#inc\"">>, L(<<"#inc">>)),
     ?_assertEqual(<<"\"a\\u0022\\u0029\\u003B alert\\u00281\\u0029\"">>, L(<<"a\"); alert(1)">>)),
     ?_assertEqual(<<"\"\\u000A\\u003C\\u002Fscript\\u003E\"">>, L(<<"\n</script>">>)),
     ?_assertEqual(<<"\"\\uD83D\\uDE00\"">>, L(<<"😀"/utf8>>)),
     ?_assertEqual(<<"12">>, L(12)),
     ?_assertEqual(<<"true">>, L(true)),
     ?_assertError({badarg, not_utf8}, L(<<255>>))].

storage_shape_test_() ->
    V = fun live_load_browser_storage:validate/1,
    Good = #{<<"cookies">> => [#{<<"name">> => <<"a">>, <<"value">> => <<"1">>}],
             <<"origins">> => [#{<<"origin">> => <<"http://x">>,
                                 <<"localStorage">> => [#{<<"name">> => <<"k">>, <<"value">> => <<"v">>}]}]},
    [?_assertEqual(ok, V(Good)),
     ?_assertEqual({error, {invalid_option, snapshot, nope}}, V(nope)),
     ?_assertMatch({error, {invalid_option, snapshot, {cookie, #{<<"name">> := 1}}}},
                   V(Good#{<<"cookies">> => [#{<<"name">> => 1, <<"value">> => <<"1">>}]})),
     ?_assertMatch({error, {invalid_option, snapshot, {origin, _}}},
                   V(Good#{<<"origins">> => [#{<<"origin">> => <<"x">>, <<"localStorage">> => [1]}]}))].

%% The event -> metric mapping, recorded into the real metrics store.
events_to_metrics_test_() ->
    {setup,
     fun() -> _ = live_load_metrics_store:start(), live_load_metrics:reset() end,
     fun(_) -> ok end,
     fun(_) ->
             H = fun(E) -> live_load_emit:event(browser, E) end,
             Batch = #{<<"type">> => <<"observer">>, <<"time_origin">> => 1.7e12, <<"path">> => <<"/items/12">>,
                       <<"dropped">> => 0,
                       <<"events">> => [#{<<"kind">> => <<"connect">>, <<"t">> => 40.0, <<"ms">> => 40.0,
                                          <<"transport">> => <<"websocket">>},
                                        #{<<"kind">> => <<"event">>, <<"t">> => 90.0, <<"ms">> => 2.5,
                                          <<"input_ms">> => 14.0, <<"event">> => <<"inc">>, <<"type">> => <<"click">>},
                                        #{<<"kind">> => <<"event">>, <<"t">> => 95.0, <<"ms">> => 3.5,
                                          <<"input_ms">> => null, <<"event">> => <<"inc">>, <<"type">> => <<"click">>},
                                        #{<<"kind">> => <<"navigation">>, <<"nav">> => <<"initial">>, <<"ms">> => 9},
                                        #{<<"kind">> => <<"lv_error">>, <<"error">> => <<"server">>, <<"view">> => <<"phx-1">>},
                                        #{<<"kind">> => <<"unknown_future_kind">>},
                                        not_a_map]},
             ok = H(Batch),
             ok = H(#{<<"type">> => <<"http">>, <<"method">> => <<"GET">>, <<"url">> => <<"http://h/x/1?a">>,
                      <<"route">> => <<"/x/:id">>, <<"status">> => 200, <<"duration_ms">> => 5.0,
                      <<"ttfb_ms">> => 2.0, <<"dns_ms">> => null, <<"bytes">> => 512, <<"failed">> => false}),
             ok = H(#{<<"type">> => <<"ws">>, <<"what">> => <<"received">>, <<"bytes">> => 80, <<"count">> => 1}),
             down = H(#{<<"type">> => <<"browser_down">>}),
             ok = H(#{<<"type">> => <<"something_else">>}),
             Q = fun live_load_metrics:quick_stats/1,
             [?_assertMatch(#{count := 1}, Q(<<"liveview.connect">>)),
              ?_assertMatch(#{count := 2}, Q(<<"liveview.event">>)),
              ?_assertMatch(#{count := 1}, Q(<<"liveview.input_to_patch">>)),
              ?_assertMatch(#{count := 1}, Q(<<"liveview.navigation">>)),
              ?_assertMatch(#{count := 1}, Q(<<"http.duration">>)),
              ?_assertMatch(#{count := 1}, Q(<<"http.ttfb">>)),
              ?_assertMatch(#{count := 1}, Q(<<"ws.frame_received_bytes">>)),
              ?_assertNotMatch(#{count := N} when N > 0, Q(<<"http.dns">>))]
     end}.

drain_test() ->
    User = make_ref(),
    self() ! {live_load_event, User, #{<<"type">> => <<"cdp">>, <<"method">> => <<"Page.lifecycleEvent">>}},
    self() ! {live_load_event, other_user, #{<<"type">> => <<"browser_down">>}},
    ?assertEqual(ok, live_load_context_events:drain(browser, User)),
    %% another user's events stay in the mailbox
    ?assertEqual(down, live_load_context_events:drain(browser, other_user)),
    self() ! {live_load_event, User, #{<<"n">> => 1}},
    self() ! {live_load_event, User, #{<<"n">> => 2}},
    Deadline = erlang:monotonic_time(millisecond) + 1000,
    ?assertEqual({ok, #{<<"n">> => 2}}, live_load_context_events:await(browser, User, fun(#{<<"n">> := N}) -> N =:= 2 end, Deadline)),
    ?assertEqual({error, timeout}, live_load_context_events:await(browser, User, fun(_) -> true end, erlang:monotonic_time(millisecond) + 10)).

%% The emitter: every value carries the connection dimension; shapes it cannot use are counted in
%% events.invalid (by type), never raised; a frame event counts one frame whatever its `count'.
emitter_shapes_test_() ->
    {setup,
     fun() -> _ = live_load_metrics_store:start(), live_load_metrics:reset() end,
     fun(_) -> ok end,
     fun(_) ->
             E = fun live_load_emit:event/2,
             Oks = [E(protocol, #{<<"type">> => <<"liveview">>, <<"kind">> => <<"event">>, <<"ms">> => 3,
                                  <<"event">> => <<"inc">>, <<"event_type">> => <<"click">>,
                                  <<"url">> => <<"http://h/items/7">>}),
                    E(protocol, #{<<"type">> => <<"liveview">>, <<"kind">> => <<"wire">>, <<"ms">> => 0.8,
                                  <<"bytes">> => 120, <<"event">> => <<"inc">>, <<"event_type">> => <<"click">>,
                                  <<"url">> => <<"http://h/items/7">>, <<"wall_ms">> => 1}),
                    E(protocol, #{<<"type">> => <<"ws">>, <<"what">> => <<"sent">>, <<"bytes">> => 10, <<"count">> => 50}),
                    E(browser, #{<<"type">> => <<"ws">>, <<"what">> => <<"received">>, <<"count">> => 3}),
                    E(protocol, #{<<"type">> => <<"http">>, <<"method">> => <<"GET">>, <<"status">> => 200,
                                  <<"url">> => <<"http://h/a">>, <<"duration_ms">> => 1.5, <<"wall_ms">> => 1}),
                    %% invalid: http without method, ws without what, a liveview event without ms,
                    %% an observer batch whose events are not a list, something unknown
                    E(browser, #{<<"type">> => <<"http">>, <<"status">> => 200}),
                    E(browser, #{<<"type">> => <<"ws">>}),
                    E(browser, #{<<"type">> => <<"liveview">>, <<"kind">> => <<"connect">>}),
                    E(browser, #{<<"type">> => <<"liveview">>, <<"kind">> => <<"wire">>, <<"ms">> => -1}),
                    E(browser, #{<<"type">> => <<"observer">>, <<"events">> => #{}}),
                    E(browser, [not_a_map]),
                    E(browser, #{<<"type">> => 7})],
             Down = E(protocol, #{<<"type">> => <<"connection_down">>}),
             #{counters := Cs, sketches := Ss} = live_load_metrics:snapshot(),
             Count = fun(Name, Dims) -> lists:sum([N || {C, D, N} <- Cs, C =:= Name, maps:with(maps:keys(Dims), D) =:= Dims]) end,
             [?_assertEqual(lists:duplicate(12, ok), Oks),
              ?_assertEqual(down, Down),
              ?_assertEqual(1, Count(<<"ws.frames_sent">>, #{<<"connection">> => <<"protocol">>})),
              ?_assertEqual(1, Count(<<"ws.frames_received">>, #{<<"connection">> => <<"browser">>})),
              ?_assertEqual(7, Count(<<"events.invalid">>, #{})),
              ?_assertEqual(1, Count(<<"events.invalid">>, #{<<"type">> => <<"http">>})),
              ?_assertEqual(2, Count(<<"events.invalid">>, #{<<"type">> => <<"unknown">>})),
              ?_assertEqual([#{<<"connection">> => <<"protocol">>, <<"event">> => <<"inc">>, <<"type">> => <<"click">>,
                               <<"route">> => <<"/items/:id">>}],
                            [D || {<<"liveview.event">>, D, _} <- Ss]),
              ?_assertEqual([#{<<"connection">> => <<"protocol">>, <<"event">> => <<"inc">>, <<"type">> => <<"click">>,
                               <<"route">> => <<"/items/:id">>}],
                            [D || {<<"liveview.diff_bytes">>, D, _} <- Ss]),
              ?_assertEqual(1, length([D || {<<"liveview.wire">>, D, _} <- Ss])),
              ?_assert(lists:all(fun({_, D, _}) -> is_map_key(<<"connection">>, D) end, Ss))]
     end}.
