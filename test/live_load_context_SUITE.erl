%% Every live_load_context function against real Chromium (through the port) and the demo LiveView
%% target, plus static pages (test/static/, served by inets) for hover, drag and drop, multi-select
%% and storage. Timings are asserted only where the issue asks for them (#slow >= its delay).
-module(live_load_context_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, suite/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([counter_clicks_are_timed_in_the_page/1, form_interaction/1, extraction/1, as_option_and_funs/1,
         widgets_hover_drag_select/1, storage_snapshot_restore/1, navigation_errors/1,
         selector_errors/1, crashed_view_is_reported/1, browser_down_then_fresh_user/1,
         keys_and_focus/1, ensure_liveview_on_plain_page/1, fast_mode_clicks_in_the_page/1]).

-define(C, live_load_context).
-define(SLOW_MS, 200).

suite() -> [{timetrap, {minutes, 3}}].

all() ->
    [counter_clicks_are_timed_in_the_page, form_interaction, extraction, as_option_and_funs,
     widgets_hover_drag_select, storage_snapshot_restore, navigation_errors, selector_errors,
     crashed_view_is_reported, browser_down_then_fresh_user, keys_and_focus, ensure_liveview_on_plain_page,
     fast_mode_clicks_in_the_page].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(live_load),
    _ = live_load_metrics_store:start(),
    {ok, #{url := Url}} = live_load_demo_target:start(#{port => 0, slow_ms => ?SLOW_MS}),
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
    Static1 = iolist_to_binary(io_lib:format("http://127.0.0.1:~b", [SPort])),
    [{url, Url}, {static, Static1}, {httpd, Httpd} | Config].

end_per_suite(Config) ->
    ok = inets:stop(httpd, ?config(httpd, Config)),
    ok = application:stop(live_load),
    %% bounded: a demo connection that ignores the shutdown must not hang the suite
    {Pid, MRef} = spawn_monitor(fun() -> live_load_demo_target:stop() end),
    receive {'DOWN', MRef, process, Pid, _} -> ok
    after 10000 -> ct:pal("live_load_demo_target:stop/0 did not return within 10 s")
    end,
    Config.

init_per_testcase(_Case, Config) ->
    {ok, Ctx} = ?C:new(#{timeout => 20000}),
    [{ctx, Ctx} | Config].

end_per_testcase(_Case, Config) ->
    ok = ?C:close(?config(ctx, Config)).

url(Config, Path) -> <<(?config(url, Config))/binary, Path/binary>>.

ok(Ctx) ->
    ?assertEqual(undefined, ?C:error(Ctx)),
    Ctx.

%% ---------------------------------------------------------------------------------------------

counter_clicks_are_timed_in_the_page(Config) ->
    ct:comment("#inc is timed push to patch in the page; #slow at least its configured delay"),
    C1 = ok(?C:wait_for_liveview(?C:navigate(?config(ctx, Config), url(Config, <<"/counter">>)))),
    live_load_metrics:reset(),
    C2 = lists:foldl(fun(_, C) -> ?C:wait_for_phx_loading_completion(?C:click(C, <<"#inc">>), click, <<"#inc">>) end,
                     C1, lists:seq(1, 3)),
    ok(C2),
    ?assertEqual(<<"3">>, ?C:inner_text(C2, <<"#count">>, #{})),
    #{count := 3, p95 := IncP95} = live_load_metrics:quick_stats(<<"liveview.event">>),
    ?assert(IncP95 < ?SLOW_MS),
    #{count := 3} = live_load_metrics:quick_stats(<<"liveview.input_to_patch">>),
    live_load_metrics:reset(),
    C3 = ok(?C:wait_for_phx_loading_completion(?C:click(C2, <<"#slow">>), click, <<"#slow">>)),
    #{count := 1, p50 := Slow} = live_load_metrics:quick_stats(<<"liveview.event">>),
    %% DDSketch keeps 1% relative accuracy
    ?assert(Slow >= ?SLOW_MS * 0.99),
    ?assertEqual(<<"1">>, ?C:inner_text(C3, <<"#slow-count">>, #{})),
    #{count := N} = live_load_metrics:quick_stats(<<"step.duration">>),
    ?assert(N >= 2).

form_interaction(Config) ->
    ct:comment("fill/clear/select/check/uncheck/submit_form on the demo /form"),
    C1 = ok(?C:wait_for_liveview(?C:navigate(?config(ctx, Config), url(Config, <<"/form">>)))),
    C2 = ok(?C:wait_for_phx_loading_completion(?C:fill(C1, <<"#q">>, <<"abc">>), change, <<"#q">>)),
    ?assertEqual(<<"abc">>, ?C:input_value(C2, <<"#q">>, #{})),
    ?assertEqual(<<"abc">>, ?C:get_attribute(C2, <<"#results">>, <<"data-q">>, #{})),
    C3 = ok(?C:clear(C2, <<"#q">>)),
    ?assertEqual(<<>>, ?C:input_value(C3, <<"#q">>, #{})),
    C4 = ok(?C:select_option(?C:fill(C3, <<"#q">>, <<"rock">>), <<"#kind">>, <<"music">>)),
    ?assertEqual(<<"music">>, ?C:input_value(C4, <<"#kind">>, #{})),
    C5 = ok(?C:check(C4, <<"#exact">>)),
    ?assertEqual(true, ?C:checked(C5, <<"#exact">>, #{})),
    C6 = ok(?C:check(C5, <<"#exact">>)),           % already checked: no click
    ?assertEqual(true, ?C:is_checked(C6, <<"#exact">>, #{})),
    C7 = ok(?C:uncheck(C6, <<"#exact">>)),
    ?assertEqual(false, ?C:checked(C7, <<"#exact">>, #{})),
    C8 = ok(?C:submit_form(C7, <<"#search-form">>)),
    ?assertEqual(<<"rock">>, ?C:get_attribute(C8, <<"#results">>, <<"data-submitted">>, #{})),
    Html = ?C:inner_html(C8, <<"#results">>, #{}),
    ?assertEqual(20, length(binary:matches(Html, <<"<li>">>))),
    ?assertMatch(#{reason := {no_such_option, <<"#kind">>, [<<"nope">>]}},
                 ?C:error(?C:select_option(C8, <<"#kind">>, <<"nope">>))).

extraction(Config) ->
    ct:comment("extraction functions return the value without `as'"),
    C1 = ok(?C:wait_for_liveview(?C:navigate(?config(ctx, Config), url(Config, <<"/counter">>)))),
    Page = ?C:page_content(C1, #{}),
    ?assertMatch({_, _}, binary:match(Page, <<"id=\"inc\"">>)),
    ?assertEqual(<<"+1">>, ?C:inner_text(C1, <<"#inc">>, #{})),
    ?assertEqual(<<"+1">>, ?C:text_content(C1, <<"#inc">>, #{})),
    ?assertEqual(<<"0">>, ?C:inner_html(C1, <<"#count">>, #{})),
    ?assertEqual(<<"inc">>, ?C:get_attribute(C1, <<"#inc">>, <<"phx-click">>, #{})),
    ?assertEqual(undefined, ?C:get_attribute(C1, <<"#inc">>, <<"no-such-attr">>, #{})),
    ?assertEqual(true, ?C:visible(C1, <<"#inc">>, #{})),
    ?assertEqual(false, ?C:is_visible(C1, <<"#missing">>, #{})),
    ?assertEqual({error, {not_an_input, <<"#count">>}}, ?C:input_value(C1, <<"#count">>, #{})),
    ok(C1).

as_option_and_funs(Config) ->
    ct:comment("`as' assigns; selectors, URLs and values may be funs of the context"),
    C0 = ?C:assign(?config(ctx, Config), base, ?config(url, Config)),
    C1 = ?C:navigate(C0, fun(C) -> <<(maps:get(base, ?C:assigns(C)))/binary, "/form">> end),
    C2 = ok(?C:assign(?C:wait_for_liveview(C1), field, <<"#q">>)),
    C3 = ?C:fill(C2, fun(C) -> maps:get(field, ?C:assigns(C)) end, fun(_) -> <<"from-fun">> end),
    C4 = ?C:input_value(ok(C3), <<"#q">>, #{as => q}),
    ?assertEqual(<<"from-fun">>, maps:get(q, ?C:assigns(C4))),
    C5 = ?C:inner_text(C4, <<"h1">>, #{as => fun(T) -> #{title => T, title_len => byte_size(T)} end}),
    ?assertMatch(#{title := <<"Search">>, title_len := 6}, ?C:assigns(C5)),
    %% a failed extraction with `as' leaves the context failed
    C6 = ?C:inner_text(?C:set_timeout(C5, 500), <<"#missing">>, #{as => x}),
    ?assertMatch(#{op := inner_text, reason := {selector_timeout, <<"#missing">>}}, ?C:error(C6)),
    ?assertNot(maps:is_key(x, ?C:assigns(C6))).

widgets_hover_drag_select(Config) ->
    ct:comment("hover, drag and drop, multi-select, scroll into view, on a static page"),
    C1 = ok(?C:navigate(?config(ctx, Config), <<(?config(static, Config))/binary, "/widgets.html">>)),
    C2 = ok(?C:hover(C1, <<"#hover-me">>)),
    ?assertEqual(<<"hovered:true">>, ?C:inner_text(C2, <<"#hover-state">>, #{})),
    C3 = ok(?C:drag_and_drop(C2, <<"#src">>, <<"#dst">>)),
    ?assertEqual(<<"dropped">>, ?C:inner_text(C3, <<"#drop-state">>, #{})),
    C4 = ok(?C:select_multiple_options(C3, <<"#multi">>, [<<"a">>, <<"Gamma">>])),
    ?assertEqual(<<"a,c">>, ?C:inner_text(C4, <<"#multi-state">>, #{})),
    C5 = ok(?C:click(C4, <<"#far">>)),            % 2000 px below: scrolled into view first
    ?assertEqual(<<"clicked:true">>, ?C:inner_text(C5, <<"#far-state">>, #{})),
    C6 = ok(?C:fill(C5, <<"#date">>, <<"2026-11-22">>)),
    ?assertEqual(<<"2026-11-22">>, ?C:input_value(C6, <<"#date">>, #{})),
    Short = ?C:set_timeout(C6, 600),
    ?assertMatch(#{reason := {not_actionable, <<"#disabled">>, <<"not_enabled">>}},
                 ?C:error(?C:click(Short, <<"#disabled">>))),
    ?assertMatch(#{reason := {not_actionable, <<"#hidden">>, <<"not_visible">>}},
                 ?C:error(?C:click(Short, <<"#hidden">>))),
    ?assertMatch(#{reason := {not_actionable, <<"#ro">>, <<"not_editable">>}},
                 ?C:error(?C:fill(Short, <<"#ro">>, <<"x">>))).

storage_snapshot_restore(Config) ->
    ct:comment("cookies + localStorage snapshot, reset, restore"),
    Page = <<(?config(static, Config))/binary, "/widgets.html">>,
    C1 = ok(?C:navigate(?config(ctx, Config), Page)),
    {ok, _} = live_load_browser:call(user_of(C1), <<"Runtime.evaluate">>,
                                     #{<<"expression">> => <<"document.cookie = 'sid=abc; path=/'; localStorage.setItem('k', 'v1'); 1">>},
                                     5000),
    Snap = ?C:context_storage_snapshot(C1, #{}),
    #{<<"cookies">> := [#{<<"name">> := <<"sid">>, <<"value">> := <<"abc">>}],
      <<"origins">> := [#{<<"localStorage">> := [#{<<"name">> := <<"k">>, <<"value">> := <<"v1">>}]}]} = Snap,
    C2 = ok(?C:reload(?C:reset_context_storage(C1))),
    #{<<"cookies">> := [], <<"origins">> := [#{<<"localStorage">> := []}]} = ?C:context_storage_snapshot(C2, #{}),
    C3 = ok(?C:reload(?C:restore_context_storage(C2, Snap))),
    ?assertEqual(Snap, ?C:context_storage_snapshot(C3, #{})),
    C4 = ?C:context_storage_snapshot(C3, #{as => snap}),
    ?assertEqual(Snap, maps:get(snap, ?C:assigns(C4))),
    ?assertMatch(#{reason := {invalid_option, snapshot, #{}}}, ?C:error(?C:restore_context_storage(C4, #{}))).

navigation_errors(Config) ->
    ct:comment("refused, HTTP >= 400 and DNS failures are distinct navigation errors"),
    {ok, L} = gen_tcp:listen(0, [{ip, {127, 0, 0, 1}}]),
    {ok, Port} = inet:port(L),
    ok = gen_tcp:close(L),
    Refused = iolist_to_binary(io_lib:format("http://127.0.0.1:~b/", [Port])),
    Ctx = ?config(ctx, Config),
    ?assertEqual(#{step => 1, op => navigate, selector => Refused,
                   reason => {navigation_error, Refused, <<"net::ERR_CONNECTION_REFUSED">>}},
                 ?C:error(?C:navigate(Ctx, Refused))),
    NotFound = url(Config, <<"/no-such-page">>),
    ?assertMatch(#{reason := {navigation_error, NotFound, <<"HTTP 404">>}}, ?C:error(?C:navigate(Ctx, NotFound))),
    Dns = <<"http://no-such-host.invalid/">>,
    ?assertMatch(#{reason := {navigation_error, Dns, <<"net::ERR_NAME_NOT_RESOLVED">>}},
                 ?C:error(?C:navigate(Ctx, Dns))),
    ?assertMatch(#{reason := {navigation_error, <<"not a url">>, _}}, ?C:error(?C:navigate(Ctx, <<"not a url">>))).

selector_errors(Config) ->
    ct:comment("missing selector, invalid selector and a bad loading kind give distinct errors"),
    C1 = ?C:set_timeout(ok(?C:navigate(?config(ctx, Config), url(Config, <<"/counter">>))), 800),
    ?assertMatch(#{step := 2, op := click, reason := {selector_timeout, <<"#nope">>}},
                 ?C:error(?C:click(C1, <<"#nope">>))),
    ?assertMatch(#{reason := {invalid_selector, <<"##bad">>}}, ?C:error(?C:click(C1, <<"##bad">>))),
    ?assertMatch(#{reason := {invalid_selector, <<"##bad">>}},
                 ?C:error(?C:wait_for_phx_loading_completion(C1, click, <<"##bad">>))),
    ?assertMatch(#{reason := {loading_timeout, click, <<"#inc">>}},
                 ?C:error(?C:wait_for_phx_loading_completion(C1, click, <<"#inc">>))),
    ?assertEqual({error, {selector_timeout, <<"#nope">>}}, ?C:inner_text(C1, <<"#nope">>, #{})),
    ?assertMatch(#{reason := {selector_timeout, <<"#nope">>}}, ?C:error(?C:wait_for_selector(C1, <<"#nope">>))),
    ok(?C:wait_for_selector(C1, <<"#inc">>)).

crashed_view_is_reported(Config) ->
    ct:comment("#crash: the server error is counted, the view rejoins, the pending push is lost"),
    C1 = ok(?C:wait_for_liveview(?C:navigate(?config(ctx, Config), url(Config, <<"/counter">>)))),
    live_load_metrics:reset(),
    C2 = ?C:wait_for_phx_loading_completion(?C:click(C1, <<"#crash">>), click, <<"#crash">>),
    ?assertMatch(#{op := wait_for_phx_loading_completion, reason := {event_lost, <<"#crash">>, view_crashed}},
                 ?C:error(C2)),
    C3 = ok(?C:wait_for_liveview(?C:reset(C2))),
    _ = ?C:inner_text(C3, <<"#count">>, #{}),     % one more step drains the events
    Counters = counters(),
    ?assertMatch(#{<<"liveview.errors">> := N} when N >= 1, Counters),
    ?assertMatch(#{<<"liveview.reconnects">> := N} when N >= 1, Counters).

browser_down_then_fresh_user(Config) ->
    ct:comment("killing Chromium mid-scenario gives browser_down; reset/1 opens a fresh user"),
    {ok, B} = live_load_browser:start(#{}),
    try
        {ok, C0} = ?C:new(#{browser => B}),
        C1 = ok(?C:wait_for_liveview(?C:navigate(C0, url(Config, <<"/counter">>)))),
        {ok, PortPid} = live_load_browser:os_pid(B),
        Kids = string:lexemes(os:cmd("pgrep -P " ++ integer_to_list(PortPid)), "\n"),
        ?assertNotEqual([], Kids),
        _ = [os:cmd("kill -9 " ++ K) || K <- Kids],
        C2 = ?C:click(C1, <<"#inc">>),
        ?assertMatch(#{reason := browser_down}, ?C:error(C2)),
        C3 = ?C:click(C2, <<"#inc">>),                % skipped
        ?assertEqual(?C:error(C2), ?C:error(C3)),
        C4 = wait_fresh(C3, url(Config, <<"/counter">>), 20),
        C5 = ok(?C:wait_for_phx_loading_completion(?C:click(C4, <<"#inc">>), click, <<"#inc">>)),
        ?assertEqual(<<"1">>, ?C:inner_text(C5, <<"#count">>, #{})),
        ok = ?C:close(C5)
    after
        live_load_browser:stop(B)
    end.

%% The browser restarts its port after the crash; a reset may come before it is back.
wait_fresh(C, _Url, 0) -> ct:fail({no_fresh_user, ?C:error(C)});
wait_fresh(C, Url, N) ->
    R = ?C:reset(C),
    case ?C:error(R) of
        undefined ->
            R1 = ?C:wait_for_liveview(?C:navigate(R, Url)),
            case ?C:error(R1) of
                undefined -> R1;
                Err -> ct:pal("navigate after reset: ~p", [Err]), timer:sleep(500), wait_fresh(R1, Url, N - 1)
            end;
        Err -> ct:pal("reset: ~p", [Err]), timer:sleep(500), wait_fresh(R, Url, N - 1)
    end.

keys_and_focus(Config) ->
    ct:comment("press sends real key events (phx-keyup), focus and blur"),
    C1 = ok(?C:wait_for_liveview(?C:navigate(?config(ctx, Config), url(Config, <<"/counter">>)))),
    C2 = ok(?C:wait_for_phx_loading_completion(?C:press(C1, <<"#keys">>, <<"x">>), keyup, <<"#keys">>)),
    ?assertEqual(<<"x">>, ?C:inner_text(C2, <<"#last-key">>, #{})),
    C3 = ok(?C:focus(C2, <<"#keys">>)),
    {ok, #{<<"result">> := #{<<"value">> := <<"keys">>}}} =
        live_load_browser:call(user_of(C3), <<"Runtime.evaluate">>,
                               #{<<"expression">> => <<"document.activeElement.id">>, <<"returnByValue">> => true}, 5000),
    C4 = ok(?C:blur(C3, <<"#keys">>)),
    {ok, #{<<"result">> := #{<<"value">> := <<"BODY">>}}} =
        live_load_browser:call(user_of(C4), <<"Runtime.evaluate">>,
                               #{<<"expression">> => <<"document.activeElement.tagName">>, <<"returnByValue">> => true}, 5000),
    ?assertMatch(#{reason := {invalid_option, key, <<"Hyper+x">>}}, ?C:error(?C:press(C4, <<"#keys">>, <<"Hyper+x">>))).

ensure_liveview_on_plain_page(Config) ->
    ct:comment("ensure_liveview fails on a page without LiveView; passes on a LiveView page"),
    C1 = ok(?C:navigate(?config(ctx, Config), <<(?config(static, Config))/binary, "/widgets.html">>)),
    ?assertMatch(#{op := ensure_liveview, reason := not_liveview}, ?C:error(?C:ensure_liveview(C1))),
    ok(?C:ensure_liveview(?C:navigate(C1, url(Config, <<"/counter">>)))),
    ok(?C:reload(?C:navigate(C1, url(Config, <<"/counter">>)))).

fast_mode_clicks_in_the_page(Config) ->
    ct:comment("fast mode: hidden page, clicks dispatched in the page (untrusted: no input_to_patch)"),
    {ok, C0} = ?C:new(#{mode => fast}),
    try
        C1 = ok(?C:wait_for_liveview(?C:navigate(C0, url(Config, <<"/counter">>)))),
        live_load_metrics:reset(),
        C2 = ok(?C:wait_for_phx_loading_completion(?C:click(C1, <<"#inc">>), click, <<"#inc">>)),
        ?assertEqual(<<"1">>, ?C:inner_text(C2, <<"#count">>, #{})),
        ?assertMatch(#{count := 1}, live_load_metrics:quick_stats(<<"liveview.event">>)),
        ?assertNotMatch(#{count := N} when N > 0, live_load_metrics:quick_stats(<<"liveview.input_to_patch">>))
    after
        ?C:close(C0)
    end.

%% ---------------------------------------------------------------------------------------------

user_of(Ctx) -> element(4, Ctx).   % #llctx.user

counters() ->
    #{counters := Cs} = live_load_metrics:snapshot(),
    lists:foldl(fun({Name, _Dims, V}, Acc) -> maps:update_with(Name, fun(X) -> X + V end, V, Acc) end, #{}, Cs).
