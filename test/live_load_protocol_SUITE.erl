%% Protocol backend (`live_load_protocol') against the demo target: every demo page driven through
%% the Erlang API (the `live_load_connection' actions), the events a user's owner receives, the
%% errors a scenario sees, and the port's failure behaviour.
-module(live_load_protocol_SUITE).
-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, suite/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([counter/1, counter_events/1, keys_and_slow/1, crash_rejoins/1, form/1, list/1, nav_links/1,
         nav_server/1, dead_page/1, errors/1, unsupported/1, many_users/1, concurrent_submits/1,
         close_and_owner_down/1, port_killed/1, port_closed_without_exit_status/1, bad_options/1, heartbeats/1, cookies_and_redirects/1,
         stream/1]).

-export([counter/0, counter_events/0, keys_and_slow/0, crash_rejoins/0, form/0, list/0, nav_links/0,
         nav_server/0, dead_page/0, errors/0, unsupported/0, many_users/0, concurrent_submits/0,
         close_and_owner_down/0, port_killed/0, port_closed_without_exit_status/0, bad_options/0, heartbeats/0, cookies_and_redirects/0,
         stream/0]).

suite() -> [{timetrap, {minutes, 3}}].

all() ->
    [counter, counter_events, keys_and_slow, crash_rejoins, form, list, nav_links, nav_server, dead_page,
     errors, unsupported, many_users, concurrent_submits, close_and_owner_down, port_killed,
     port_closed_without_exit_status, bad_options, heartbeats, cookies_and_redirects, stream].

init_per_suite(Config) ->
    {ok, #{url := Url}} = live_load_demo_target:start(#{port => 0, slow_ms => 50}),
    [{url, iolist_to_binary(Url)} | Config].

end_per_suite(_Config) ->
    ok = live_load_demo_target:stop().

init_per_testcase(_Case, Config) ->
    {ok, Conn} = live_load_protocol:start_link(#{}),
    unlink(Conn),
    {ok, U} = live_load_protocol:new_user(Conn, #{base_url => ?config(url, Config)}),
    [{conn, Conn}, {user, U} | Config].

%% ------------------------------------------------------------------ more cases

heartbeats() ->
    [{doc, "Each open socket sends a Phoenix heartbeat every heartbeat_ms (300 here), the server answers each, the view stays joined; a heartbeat_ms out of range is refused."}].
heartbeats(_Config) ->
    {ok, Conn} = live_load_protocol:start_link(#{heartbeat_ms => 300}),
    {ok, Url} = url(),
    {ok, U} = live_load_protocol:new_user(Conn, #{base_url => Url}),
    D = fun() -> erlang:monotonic_time(millisecond) + 10000 end,
    ok = live_load_protocol:action(U, {navigate, <<"/counter">>}, D()),
    ok = live_load_protocol:action(U, wait_for_liveview, D()),
    {ok, #{<<"frames_out">> := Out0, <<"frames_in">> := In0}} = live_load_protocol:stats(Conn),
    T0 = erlang:monotonic_time(millisecond),
    %% three heartbeats (no action of ours sends a frame), each answered by the server
    {Out, In} = frames_until(Conn, fun(O, I) -> O - Out0 >= 3 andalso I - In0 =:= O - Out0 end, 100),
    Ms = erlang:monotonic_time(millisecond) - T0,
    ct:comment("~b heartbeats, ~b replies in ~b ms", [Out - Out0, In - In0, Ms]),
    ?assert(Out - Out0 >= 3 andalso In - In0 =:= Out - Out0),
    ?assert(Ms >= 2 * 300 - 50),  %% not faster than every heartbeat_ms
    ?assertEqual({ok, true}, live_load_protocol:action(U, ensure_liveview, D())),
    ?assertEqual({error, {invalid_option, heartbeat_ms, 5}}, live_load_protocol:start_link(#{heartbeat_ms => 5})),
    live_load_protocol_port:stop(Conn).

frames_until(Conn, Pred, 0) ->
    {ok, #{<<"frames_out">> := O, <<"frames_in">> := I}} = live_load_protocol:stats(Conn),
    ?assert(Pred(O, I)),
    {O, I};
frames_until(Conn, Pred, N) ->
    {ok, #{<<"frames_out">> := O, <<"frames_in">> := I}} = live_load_protocol:stats(Conn),
    case Pred(O, I) of
        true -> {O, I};
        false -> timer:sleep(50), frames_until(Conn, Pred, N - 1)
    end.

%% A GET that redirects and sets a cookie, as a Phoenix app's session does: the port follows the
%% redirect and sends the cookie with the next request (a small HTTP server in the test: the demo
%% target sets no cookies).
cookies_and_redirects() ->
    [{doc, "A GET that answers 302 with two Set-Cookie headers: the port follows the redirect and sends both cookies with the next request (one http event per hop)."}].
cookies_and_redirects(Config) ->
    {ok, L} = gen_tcp:listen(0, [binary, {active, false}, {reuseaddr, true}, {packet, http_bin}]),
    {ok, Port} = inet:port(L),
    Server = spawn_link(fun() -> cookie_server(L, 3) end),
    Base = iolist_to_binary(["http://127.0.0.1:", integer_to_list(Port)]),
    ok = act(Config, {navigate, <<Base/binary, "/start">>}),
    {ok, Html} = act(Config, page_content),
    ?assertMatch({_, _}, binary:match(Html, <<"cookie: sid=s3cr3t; theme=dark">>)),
    ?assertEqual({ok, false}, act(Config, ensure_liveview)),
    Es = events(),
    Http = [{S, R} || #{<<"type">> := <<"http">>, <<"status">> := S, <<"route">> := R} <- Es],
    ?assertEqual([{302, <<"/start">>}, {200, <<"/page">>}], Http),
    unlink(Server),
    exit(Server, kill),
    gen_tcp:close(L).

cookie_server(_L, 0) -> ok;
cookie_server(L, N) ->
    {ok, S} = gen_tcp:accept(L),
    {Path, Headers} = read_request(S, undefined, #{}),
    Cookie = maps:get(<<"cookie">>, Headers, <<"none">>),
    Resp = case Path of
               <<"/start">> ->
                   ["HTTP/1.1 302 Found\r\nlocation: /page\r\nset-cookie: sid=s3cr3t; Path=/; HttpOnly\r\n"
                    "set-cookie: theme=dark\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"];
               _ ->
                   Body = ["<html><body><p id=\"c\">cookie: ", Cookie, "</p></body></html>"],
                   ["HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: ",
                    integer_to_list(iolist_size(Body)), "\r\nconnection: close\r\n\r\n", Body]
           end,
    ok = gen_tcp:send(S, Resp),
    gen_tcp:close(S),
    cookie_server(L, N - 1).

read_request(S, Path, H) ->
    case gen_tcp:recv(S, 0, 5000) of
        {ok, {http_request, _, {abs_path, P}, _}} -> read_request(S, P, H);
        {ok, {http_header, _, Name, _, V}} ->
            K = string:lowercase(if is_atom(Name) -> atom_to_binary(Name); true -> Name end),
            read_request(S, Path, H#{K => V});
        {ok, http_eoh} -> {Path, H};
        _ -> {Path, H}
    end.

%% streamed rows stay (the differential test compares them with the real clients in detail)
stream() ->
    [{doc, "The /stream page: inserted rows stay in the DOM after later diffs, prepends go first, a deleted row is gone."}].
stream(Config) ->
    open(Config, <<"/stream">>),
    ok = act(Config, {click, <<"#add">>}),
    ok = act(Config, {wait_for_loading, click, <<"#add">>}),
    ok = act(Config, {click, <<"#prepend">>}),
    ok = act(Config, {wait_for_loading, click, <<"#prepend">>}),
    ?assertEqual(<<"item 5\nitem 1\nitem 2\nitem 3\nitem 4\nno items">>, text(Config, <<"#items">>)),
    ok = act(Config, {click, <<"#delete">>}),
    ok = act(Config, {wait_for_loading, click, <<"#delete">>}),
    ?assertMatch({error, {selector_timeout, _}}, act(Config, {inner_text, <<"#items-1">>}, 300)).

url() ->
    {ok, iolist_to_binary(live_load_demo_target_url())}.

live_load_demo_target_url() ->
    ["http://127.0.0.1:", integer_to_list(live_load_demo_listener:port())].

end_per_testcase(_Case, Config) ->
    Conn = ?config(conn, Config),
    catch live_load_protocol_port:stop(Conn),
    ok.

act(Config, Action) -> act(Config, Action, 10000).
act(Config, Action, Ms) ->
    live_load_protocol:action(?config(user, Config), Action, erlang:monotonic_time(millisecond) + Ms).

open(Config, Path) ->
    ok = act(Config, {navigate, Path}),
    ok = act(Config, wait_for_liveview).

text(Config, Sel) ->
    {ok, T} = act(Config, {inner_text, Sel}),
    T.

%% waits until Sel's text is Want (diffs pushed by the server arrive on their own)
until_text(Config, Sel, Want) -> until_text(Config, Sel, Want, 100).
until_text(Config, Sel, Want, 0) -> ?assertEqual(Want, act(Config, {inner_text, Sel}));
until_text(Config, Sel, Want, N) ->
    case act(Config, {inner_text, Sel}) of
        {ok, Want} -> ok;
        _ -> timer:sleep(50), until_text(Config, Sel, Want, N - 1)
    end.

events() -> events([]).
events(Acc) ->
    receive {live_load_event, _, E} -> events([E | Acc])
    after 200 -> lists:reverse(Acc)
    end.

observed(Events, Kind) ->
    [E || #{<<"type">> := <<"observer">>, <<"events">> := Es} <- Events, #{<<"kind">> := K} = E <- Es, K =:= Kind].

%% ------------------------------------------------------------------ cases

counter() ->
    [{doc, "The counter page through the API: three clicks each answered once their reply is applied, #count reads 3; ensure_liveview, get_attribute, visible and page_content read the current DOM."}].
counter(Config) ->
    open(Config, <<"/counter">>),
    ?assertEqual(<<"0">>, text(Config, <<"#count">>)),
    [begin
         ok = act(Config, {click, <<"#inc">>}),
         ok = act(Config, {wait_for_loading, click, <<"#inc">>})
     end || _ <- lists:seq(1, 3)],
    ?assertEqual(<<"3">>, text(Config, <<"#count">>)),
    ?assertEqual({ok, true}, act(Config, ensure_liveview)),
    ?assertEqual({ok, <<"inc">>}, act(Config, {get_attribute, <<"#inc">>, <<"phx-click">>})),
    ?assertEqual({ok, null}, act(Config, {get_attribute, <<"#inc">>, <<"nope">>})),
    ?assertEqual({ok, true}, act(Config, {visible, <<"#inc">>})),
    {ok, Html} = act(Config, page_content),
    ?assertMatch({_, _}, binary:match(Html, <<"<span id=\"count\">3</span>">>)),
    ?assertMatch({_, _}, binary:match(Html, <<"csrf-token">>)).

counter_events() ->
    [{doc, "A click's events: connect, the event (push -> reply applied), the http GET, ws frames in batches whose counts and bytes equal the port's own counters, one wire event with the reply frame's size; every event tagged connection protocol."}].
counter_events(Config) ->
    open(Config, <<"/counter">>),
    ok = act(Config, {click, <<"#inc">>}),
    ok = act(Config, {wait_for_loading, click, <<"#inc">>}),
    Es = events(),
    [Connect] = observed(Es, <<"connect">>),
    ?assertMatch(#{<<"transport">> := <<"websocket">>, <<"ms">> := Ms} when Ms > 0, Connect),
    [Click] = observed(Es, <<"event">>),
    ?assertMatch(#{<<"event">> := <<"inc">>, <<"type">> := <<"click">>, <<"ms">> := Ms} when Ms > 0, Click),
    [Http] = [E || #{<<"type">> := <<"http">>} = E <- Es],
    ?assertMatch(#{<<"status">> := 200, <<"route">> := <<"/counter">>, <<"method">> := <<"GET">>,
                   <<"failed">> := false, <<"bytes">> := B} when B > 100, Http),
    %% frames come in batches of sizes: exactly the port's own frame and byte counts
    Batches = [E || #{<<"type">> := <<"ws">>, <<"what">> := <<"frames">>} = E <- Es],
    Sent = lists:append([S || #{<<"sent">> := S} <- Batches]),
    Received = lists:append([R || #{<<"received">> := R} <- Batches]),
    ?assert(length(Sent) >= 2),       %% join + click
    ?assert(length(Received) >= 2),   %% join reply + click reply
    {ok, #{<<"frames_out">> := FOut, <<"bytes_out">> := BOut, <<"frames_in">> := FIn, <<"bytes_in">> := BIn}} =
        live_load_protocol:stats(?config(conn, Config)),
    ?assertEqual({FOut, BOut, FIn, BIn}, {length(Sent), lists:sum(Sent), length(Received), lists:sum(Received)}),
    %% one wire event for the push: frame written -> reply frame, and that reply frame's size
    [Wire] = [E || #{<<"type">> := <<"liveview">>, <<"kind">> := <<"wire">>} = E <- Es],
    #{<<"ms">> := WireMs, <<"bytes">> := WireBytes} = Wire,
    ?assertMatch(#{<<"event">> := <<"inc">>, <<"event_type">> := <<"click">>, <<"route">> := <<"/counter">>,
                   <<"wall_ms">> := W} when is_float(W), Wire),
    ?assert(WireMs >= 0 andalso WireMs =< maps:get(<<"ms">>, Click)),
    ?assert(lists:member(WireBytes, Received)),
    ?assert(lists:all(fun(#{<<"connection">> := C}) -> C =:= <<"protocol">> end, Es)).

keys_and_slow() ->
    [{doc, "phx-keyup and a slow handler: each wait_for_loading answers after its reply; one with nothing pending times out with loading_timeout."}].
keys_and_slow(Config) ->
    open(Config, <<"/counter">>),
    ok = act(Config, {press, <<"#keys">>, <<"a">>}),
    ok = act(Config, {wait_for_loading, keyup, <<"#keys">>}),
    ?assertEqual(<<"a">>, text(Config, <<"#last-key">>)),
    ok = act(Config, {click, <<"#slow">>}),
    ok = act(Config, {wait_for_loading, click, <<"#slow">>}),
    ?assertEqual(<<"1">>, text(Config, <<"#slow-count">>)),
    %% nothing pending of that kind: the wait times out with the documented reason
    ?assertEqual({error, {loading_timeout, click, <<"#slow">>}},
                 act(Config, {wait_for_loading, click, <<"#slow">>}, 300)).

crash_rejoins() ->
    [{doc, "A crashed view: the pending click is lost (event_lost), the client rejoins a fresh view process (reconnect event, count back to 0), as the JS client does."}].
crash_rejoins(Config) ->
    open(Config, <<"/counter">>),
    ok = act(Config, {click, <<"#inc">>}),
    ok = act(Config, {wait_for_loading, click, <<"#inc">>}),
    ok = act(Config, {click, <<"#crash">>}),
    ?assertEqual({error, {event_lost, <<"#crash">>}}, act(Config, {wait_for_loading, click, <<"#crash">>})),
    ok = act(Config, wait_for_liveview),
    until_text(Config, <<"#count">>, <<"0">>),   %% a fresh view process
    Es = events(),
    ?assertMatch([_ | _], observed(Es, <<"lv_error">>)),
    ?assertMatch([_], observed(Es, <<"reconnect">>)),
    ok = act(Config, {click, <<"#inc">>}),
    ok = act(Config, {wait_for_loading, click, <<"#inc">>}),
    ?assertEqual(<<"1">>, text(Config, <<"#count">>)).

form() ->
    [{doc, "The search form: fill, select, check and submit build the payloads the 1.x client sends; the server's answer shows in the DOM."}].
form(Config) ->
    open(Config, <<"/form">>),
    ok = act(Config, {fill, <<"#q">>, <<"abc">>}),
    ok = act(Config, {wait_for_loading, change, <<"#q">>}),
    ?assertEqual({ok, <<"abc">>}, act(Config, {get_attribute, <<"#results">>, <<"data-q">>})),
    ?assertEqual({ok, <<"abc">>}, act(Config, {input_value, <<"#q">>})),
    ?assertEqual(<<"abc all fuzzy #1">>, text(Config, <<"#results li:first-child">>)),
    ok = act(Config, {select_options, <<"#kind">>, [<<"books">>]}),
    ok = act(Config, {wait_for_loading, change, <<"#kind">>}),
    ?assertEqual({ok, <<"books">>}, act(Config, {input_value, <<"#kind">>})),
    ok = act(Config, {check, <<"#exact">>}),
    ok = act(Config, {wait_for_loading, change, <<"#exact">>}),
    ?assertEqual({ok, true}, act(Config, {checked, <<"#exact">>})),
    ?assertEqual(<<"abc books exact #20">>, text(Config, <<"#results li:nth-child(20)">>)),
    ok = act(Config, {press, <<"#q">>, <<"Enter">>}),
    ok = act(Config, {wait_for_loading, submit, <<"#search-form">>}),
    ?assertEqual({ok, <<"abc">>}, act(Config, {get_attribute, <<"#results">>, <<"data-submitted">>})),
    ok = act(Config, {fill, <<"#q">>, <<"x y">>}),
    ok = act(Config, {wait_for_loading, change, <<"#q">>}),
    ok = act(Config, {submit_form, <<"#search-form">>}),
    ?assertEqual({ok, <<"x y">>}, act(Config, {get_attribute, <<"#results">>, <<"data-submitted">>})),
    %% submit_form waited for its push as wait_for_loading does: nothing of the kind is left to wait for
    ?assertEqual({error, {loading_timeout, submit, <<"#search-form">>}},
                 act(Config, {wait_for_loading, submit, <<"#search-form">>}, 300)),
    ok = act(Config, {uncheck, <<"#exact">>}),
    ok = act(Config, {wait_for_loading, change, <<"#exact">>}),
    ?assertEqual(<<"x y books fuzzy #1">>, text(Config, <<"#results li:nth-child(1)">>)),
    ok = act(Config, {clear, <<"#q">>}),
    ok = act(Config, {wait_for_loading, change, <<"#q">>}),
    ?assertEqual({error, {selector_timeout, <<"#results li">>}}, act(Config, {inner_text, <<"#results li">>}, 300)),
    ?assertMatch({error, {no_such_option, <<"#kind">>, _}}, act(Config, {select_options, <<"#kind">>, [<<"nope">>]})),
    ?assertEqual({error, {check_failed, <<"#q">>}}, act(Config, {check, <<"#q">>})).

list() ->
    [{doc, "The list page: 200 keyed rows, more appends 50 with a keyed diff of the new rows only."}].
list(Config) ->
    open(Config, <<"/list">>),
    ?assertEqual(<<"200">>, text(Config, <<"#item-count">>)),
    ?assertEqual(<<"Item 200">>, text(Config, <<"#items > li:last-child">>)),
    ok = act(Config, {click, <<"#more">>}),
    ok = act(Config, {wait_for_loading, click, <<"#more">>}),
    ?assertEqual(<<"250">>, text(Config, <<"#item-count">>)),
    ?assertEqual(<<"Item 250">>, text(Config, <<"#items > li:last-child">>)),
    ?assertEqual(<<"Item 137">>, text(Config, <<"#items li:nth-child(137)">>)),
    ok = act(Config, {wait_for_selector, <<"#item-250">>, #{state => attached}}),
    ok = act(Config, {wait_for_selector, <<"#item-251">>, #{state => detached}}).

nav_links() ->
    [{doc, "data-phx-link patch and redirect links: live_patch pushes and a live redirect join, timed as navigation events."}].
nav_links(Config) ->
    open(Config, <<"/nav">>),
    ok = act(Config, {click, <<"#patch-next">>}),
    until_text(Config, <<"#nav-page">>, <<"2">>),
    ?assertEqual(<<"page=2">>, text(Config, <<"#nav-params">>)),
    ?assertEqual(<<"2">>, text(Config, <<"#nav-patches">>)),
    ok = act(Config, {click, <<"#patch-first">>}),
    until_text(Config, <<"#nav-page">>, <<"1">>),
    ok = act(Config, {click, <<"#redirect-counter">>}),
    ok = act(Config, {wait_for_selector, <<"#count">>, #{state => visible}}),
    ok = act(Config, wait_for_liveview),
    ok = act(Config, {click, <<"#inc">>}),
    ok = act(Config, {wait_for_loading, click, <<"#inc">>}),
    ?assertEqual(<<"1">>, text(Config, <<"#count">>)),
    Navs = observed(events(), <<"navigation">>),
    ?assertEqual([<<"patch">>, <<"patch">>, <<"redirect">>], [N || #{<<"nav">> := N} <- Navs]).

nav_server() ->
    [{doc, "Server navigation: push_patch, push_navigate and a full redirect followed as the JS client follows them."}].
nav_server(Config) ->
    open(Config, <<"/nav">>),
    ok = act(Config, {click, <<"#server-patch">>}),
    ok = act(Config, {wait_for_loading, click, <<"#server-patch">>}),
    until_text(Config, <<"#nav-params">>, <<"by=server&page=2">>),
    ok = act(Config, {click, <<"#server-navigate">>}),
    ok = act(Config, {wait_for_selector, <<"#count">>, #{}}),
    ok = act(Config, wait_for_liveview),
    open(Config, <<"/nav">>),
    ok = act(Config, {click, <<"#server-redirect">>}),
    ok = act(Config, {wait_for_selector, <<"#link-counter">>, #{}}),
    ?assertEqual({ok, false}, act(Config, ensure_liveview)).

dead_page() ->
    [{doc, "A page without a LiveView: actions read its DOM, wait_for_liveview answers not_liveview."}].
dead_page(Config) ->
    ok = act(Config, {navigate, <<"/">>}),
    ?assertEqual({ok, false}, act(Config, ensure_liveview)),
    ?assertEqual({error, not_liveview}, act(Config, wait_for_liveview)),
    ok = act(Config, {click, <<"#link-counter">>}),
    ok = act(Config, wait_for_liveview),
    ?assertEqual(<<"0">>, text(Config, <<"#count">>)),
    ok = act(Config, reload),
    ok = act(Config, wait_for_liveview).

errors() ->
    [{doc, "Bad input gives the documented reasons: invalid selector, selector timeout, not_an_input, navigation errors for HTTP 404, a refused connection and an invalid URL, invalid_option for a malformed action, page_error with no page."}].
errors(Config) ->
    open(Config, <<"/counter">>),
    ?assertEqual({error, {invalid_selector, <<"#">>}}, act(Config, {click, <<"#">>})),
    ?assertEqual({error, {selector_timeout, <<"#nope">>}}, act(Config, {click, <<"#nope">>}, 200)),
    ?assertEqual({error, {selector_timeout, <<"#nope">>}}, act(Config, {wait_for_selector, <<"#nope">>, #{}}, 200)),
    ?assertEqual({error, {not_an_input, <<"#count">>}}, act(Config, {input_value, <<"#count">>})),
    ?assertMatch({error, {navigation_error, _, <<"HTTP 404">>}}, act(Config, {navigate, <<"/no-such-page">>})),
    {ok, L} = gen_tcp:listen(0, []),
    {ok, Port} = inet:port(L),
    ok = gen_tcp:close(L),
    Refused = iolist_to_binary(["http://127.0.0.1:", integer_to_list(Port), "/"]),
    ?assertMatch({error, {navigation_error, _, <<"net::", _/binary>>}}, act(Config, {navigate, Refused})),
    ?assertMatch({error, {navigation_error, _, <<"invalid URL">>}}, act(Config, {navigate, <<"ftp://x/">>})),
    ?assertEqual({error, {invalid_option, action, bogus}}, act(Config, bogus)),
    %% after a failed navigation there is no page to act on
    ?assertMatch({error, {protocol_error, <<"page_error">>, _}}, act(Config, {click, <<"#inc">>})).

unsupported() ->
    [{doc, "What only a browser can do answers unsupported_by_connection with the function's name."}].
unsupported(Config) ->
    open(Config, <<"/counter">>),
    [?assertEqual({error, {unsupported_by_connection, protocol, F}}, act(Config, A))
     || {A, F} <- [{{hover, <<"#inc">>}, hover}, {{drag_and_drop, <<"#a">>, <<"#b">>}, drag_and_drop},
                   {storage_snapshot, context_storage_snapshot}, {{restore_storage, #{}}, restore_context_storage},
                   {reset_storage, reset_context_storage}]].

many_users() ->
    [{doc, "200 concurrent users on one port each get their own page and view."}].
many_users(Config) ->
    Conn = ?config(conn, Config),
    Url = ?config(url, Config),
    N = 200,
    Self = self(),
    Pids = [spawn_link(fun() ->
                               {ok, U} = live_load_protocol:new_user(Conn, #{base_url => Url}),
                               D = fun() -> erlang:monotonic_time(millisecond) + 60000 end,
                               ok = live_load_protocol:action(U, {navigate, <<"/counter">>}, D()),
                               ok = live_load_protocol:action(U, wait_for_liveview, D()),
                               [begin
                                    ok = live_load_protocol:action(U, {click, <<"#inc">>}, D()),
                                    ok = live_load_protocol:action(U, {wait_for_loading, click, <<"#inc">>}, D())
                                end || _ <- lists:seq(1, 5)],
                               R = live_load_protocol:action(U, {inner_text, <<"#count">>}, D()),
                               Self ! {done, self(), R},
                               receive stop -> ok end
                       end) || _ <- lists:seq(1, N)],
    Results = [receive {done, P, R} -> R after 120000 -> timeout end || P <- Pids],
    ?assertEqual(lists:duplicate(N, {ok, <<"5">>}), Results),
    ?assertEqual(N + 1, live_load_protocol:user_count(Conn)),
    {ok, Stats} = live_load_protocol:stats(Conn),
    ?assert(maps:get(<<"joins">>, Stats) >= N),
    ct:pal("~b users x 5 clicks: port stats ~p", [N, Stats]),
    [P ! stop || P <- Pids].

%% submit_form answers only once its phx-submit reply is applied, with many users pushing at once:
%% the page read right after it carries the submitted query. Every other round submits while the
%% fill's phx-change push is still unanswered (its reply must not be taken for the submit's).
concurrent_submits() ->
    [{doc, "Concurrent submits of one user: each submit_form answers after its own reply, not an earlier change's."}].
concurrent_submits(Config) ->
    Conn = ?config(conn, Config),
    Url = ?config(url, Config),
    {Users, Rounds} = {24, 15},
    Self = self(),
    Pids = [spawn_link(fun() -> Self ! {done, self(), submit_rounds(Conn, Url, I, Rounds)} end)
            || I <- lists:seq(1, Users)],
    Results = lists:append([receive {done, P, R} -> R after 150000 -> [{P, timeout}] end || P <- Pids]),
    Wrong = [R || R <- Results, R =/= ok],
    ct:pal("~b users x ~b submits: ~b answered before their reply was applied or failed: ~p",
           [Users, Rounds, length(Wrong), lists:sublist(Wrong, 5)]),
    ?assertEqual(Users * Rounds, length(Results)),
    ?assertEqual([], Wrong).

submit_rounds(Conn, Url, I, Rounds) ->
    {ok, U} = live_load_protocol:new_user(Conn, #{base_url => Url}),
    D = fun() -> erlang:monotonic_time(millisecond) + 60000 end,
    A = fun(Action) -> live_load_protocol:action(U, Action, D()) end,
    ok = A({navigate, <<"/form">>}),
    ok = A(wait_for_liveview),
    [begin
         Q = iolist_to_binary(io_lib:format("user~b-query~b", [I, N])),
         ok = A({fill, <<"#q">>, Q}),
         N rem 2 =:= 0 andalso (ok = A({wait_for_loading, change, <<"#q">>})),
         ok = A({select_options, <<"#kind">>, [lists:nth(N rem 3 + 1, [<<"books">>, <<"music">>, <<"films">>])]}),
         N rem 2 =:= 0 andalso (ok = A({wait_for_loading, change, <<"#kind">>})),
         case {A({submit_form, <<"#search-form">>}), A({get_attribute, <<"#results">>, <<"data-submitted">>})} of
             {ok, {ok, Q}} -> ok;
             Other -> {round, N, Other}
         end
     end || N <- lists:seq(1, Rounds)].

close_and_owner_down() ->
    [{doc, "close_user frees the user (its next action answers browser_down); a user whose owner dies is closed too."}].
close_and_owner_down(Config) ->
    Conn = ?config(conn, Config),
    U = ?config(user, Config),
    open(Config, <<"/counter">>),
    ?assertEqual(1, live_load_protocol:user_count(Conn)),
    ok = live_load_protocol:close_user(U),
    ?assertEqual(0, live_load_protocol:user_count(Conn)),
    ?assertEqual({error, browser_down}, act(Config, {click, <<"#inc">>})),
    ok = live_load_protocol:close_user(U),
    Owner = spawn(fun() -> receive stop -> ok end end),
    {ok, _U2} = live_load_protocol:new_user(Conn, #{owner => Owner}),
    ?assertEqual(1, live_load_protocol:user_count(Conn)),
    Owner ! stop,
    timer:sleep(200),
    ?assertEqual(0, live_load_protocol:user_count(Conn)).

port_killed() ->
    [{doc, "A killed port: pending calls get browser_down, owners a browser_down event, a fresh port serves new users."}].
port_killed(Config) ->
    Conn = ?config(conn, Config),
    open(Config, <<"/counter">>),
    {ok, OsPid} = live_load_protocol:os_pid(Conn),
    _ = events(),
    os:cmd("kill -9 " ++ integer_to_list(OsPid)),
    receive {live_load_event, _, #{<<"type">> := <<"browser_down">>}} -> ok
    after 5000 -> ct:fail(no_browser_down_event)
    end,
    ?assertEqual({error, browser_down}, act(Config, {click, <<"#inc">>})),
    %% a fresh port serves new users
    {ok, U2} = live_load_protocol:new_user(Conn, #{base_url => ?config(url, Config)}),
    ?assertEqual(ok, live_load_protocol:action(U2, {navigate, <<"/counter">>}, erlang:monotonic_time(millisecond) + 10000)),
    {ok, OsPid2} = live_load_protocol:os_pid(Conn),
    ?assertNotEqual(OsPid, OsPid2).

port_closed_without_exit_status() ->
    [{doc, "The VM closes the port without an exit_status (EPIPE writing to a port program killed a moment before; "
           "here exit/2 on the port): the owner gets browser_down at once, calls answer browser_down, a fresh port serves."}].
port_closed_without_exit_status(Config) ->
    Conn = ?config(conn, Config),
    open(Config, <<"/counter">>),
    {ok, OsPid} = live_load_protocol:os_pid(Conn),
    [Port] = [P || P <- erlang:ports(), erlang:port_info(P, os_pid) =:= {os_pid, OsPid}],
    _ = events(),
    exit(Port, epipe),
    receive {live_load_event, _, #{<<"type">> := <<"browser_down">>}} -> ok
    after 5000 -> ct:fail(no_browser_down_event)
    end,
    ?assertEqual({error, browser_down}, act(Config, {click, <<"#inc">>})),
    {ok, U2} = live_load_protocol:new_user(Conn, #{base_url => ?config(url, Config)}),
    ?assertEqual(ok, live_load_protocol:action(U2, {navigate, <<"/counter">>}, erlang:monotonic_time(millisecond) + 10000)),
    {ok, OsPid2} = live_load_protocol:os_pid(Conn),
    ?assertNotEqual(OsPid, OsPid2).

bad_options() ->
    [{doc, "Bad options of start_link and new_user give invalid_option; max_users caps a port (too_many_users)."}].
bad_options(Config) ->
    ?assertEqual({error, {invalid_option, max_users, 0}}, live_load_protocol:start_link(#{max_users => 0})),
    ?assertEqual({error, {invalid_option, bogus, 1}}, live_load_protocol:start_link(#{bogus => 1})),
    Conn = ?config(conn, Config),
    ?assertEqual({error, {invalid_option, base_url, "x"}}, live_load_protocol:new_user(Conn, #{base_url => "x"})),
    ?assertEqual({error, {invalid_option, timeout, -1}}, live_load_protocol:new_user(Conn, #{timeout => -1})),
    {ok, Small} = live_load_protocol:start_link(#{max_users => 1}),
    {ok, _} = live_load_protocol:new_user(Small, #{}),
    ?assertEqual({error, too_many_users}, live_load_protocol:new_user(Small, #{})),
    live_load_protocol_port:stop(Small).
