%% Behaviour of the demo LiveView target end to end: real Chromium running the real phoenix and
%% phoenix_live_view clients (test/js/demo_browser.js, playwright-core), raw WebSocket and
%% long-poll clients for the protocol edges, and PropEr properties for the codecs.
-module(live_load_demo_target_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-compile([export_all, nowarn_export_all]).

-define(SLOW_MS, 250).

all() ->
    [{group, browser}, {group, longpoll_fallback}, {group, protocol}, {group, knobs}, {group, properties}].

groups() ->
    [{browser, [], [connect, counter, slow, form, list, nav, crash]},
     {longpoll_fallback, [], [longpoll_connect, longpoll_counter, longpoll_form]},
     {protocol, [], [pages_http, heartbeat, join_and_event_diff, list_diff_is_keyed, live_patch_reply,
                     leave_and_unmatched_topic, bad_json_closes, bad_frame_shape_closes,
                     unknown_topic_closes, oversized_message_closes, unmasked_frame_closes,
                     binary_frame_closes, http_limits, longpoll_protocol, form_invalid_utf8_crashes_view]},
     {knobs, [], [invalid_options, start_stop_port_zero, refuse_websocket_403, fail_percent_crashes,
                  latency_ms_delays_events, set_option_at_runtime]},
     {properties, [], [prop_json_roundtrip, prop_ws_parse_any_split, prop_diff_merges_to_new,
                       prop_decoders_total, prop_json_utf8_like_jason]}].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(crypto),
    [{root, project_root()} | Config].

end_per_suite(_Config) -> ok.

init_per_group(browser, Config) -> start(#{port => 0, slow_ms => ?SLOW_MS}, Config);
init_per_group(longpoll_fallback, Config) -> start(#{port => 0, refuse_websocket => true}, Config);
init_per_group(protocol, Config) -> start(#{port => 0, max_frame => 65536}, Config);
init_per_group(_, Config) -> Config.

end_per_group(G, _Config) when G =:= browser; G =:= longpoll_fallback; G =:= protocol ->
    ok = live_load_demo_target:stop();
end_per_group(_, _Config) -> ok.

start(Opts, Config) ->
    {ok, #{port := Port, url := Url}} = live_load_demo_target:start(Opts),
    [{port, Port}, {url, Url} | Config].

project_root() ->
    Dirs = fun Up(D, 0) -> [D]; Up(D, N) -> [D | Up(filename:dirname(D), N - 1)] end,
    Here = filename:dirname(filename:absname(code:which(?MODULE))),
    %% rebar3 copies test/ into _build: the root is where node_modules is too
    [Root | _] = [D || D <- Dirs(Here, 8), filelib:is_regular(filename:join(D, "test/js/demo_browser.js")),
                       filelib:is_dir(filename:join(D, "node_modules/phoenix_live_view"))],
    Root.

%% Browser ----------------------------------------------------------------------------------

connect() -> [{doc, "The main view reaches phx-connected over a WebSocket; the page has the csrf meta and a phx- root."}].
connect(C) -> browser(C, "connect", []).

counter() -> [{doc, "Three clicks on #inc show 3; each click's phx-click-loading is added then removed; push_event reaches the window; keyup events arrive."}].
counter(C) ->
    #{<<"clicks">> := Clicks} = browser(C, "counter", []),
    ?assertEqual(3, length(Clicks)).

slow() -> [{doc, "#slow takes at least slow_ms from the click to the end of its loading class."}].
slow(C) ->
    #{<<"slow_round_trip_ms">> := Ms} = browser(C, "slow", []),
    ct:pal("slow round trip ~.1f ms (slow_ms ~b)", [float(Ms), ?SLOW_MS]),
    ?assert(Ms >= ?SLOW_MS).

form() -> [{doc, "phx-change renders 20 rows with data-q, select and checkbox reach the server, Enter submits (data-submitted)."}].
form(C) -> #{<<"rows">> := 20} = browser(C, "form", []).

list() -> [{doc, "/list starts with 200 rows; #more appends 50 twice; the title follows the diff's t."}].
list(C) -> #{<<"rows">> := 300} = browser(C, "list", []).

nav() -> [{doc, "Patch links and server push_patch change the URL without a page load; redirect links, back and push_navigate replace the view."}].
nav(C) -> browser(C, "nav", []).

crash() -> [{doc, "#crash gives phx-error + phx-server-error, then the client rejoins a fresh view that works."}].
crash(C) -> browser(C, "crash", []).

longpoll_connect() -> [{doc, "With WebSocket upgrades refused the client falls back to long-poll and connects."}].
longpoll_connect(C) -> browser(C, "connect", ["transport=LongPoll"]).

longpoll_counter() -> [{doc, "Clicks and loading classes work over long-poll."}].
longpoll_counter(C) -> #{<<"transport">> := <<"LongPoll">>} = browser(C, "counter", []).

longpoll_form() -> [{doc, "Forms (urlencoded change/submit) work over long-poll."}].
longpoll_form(C) -> #{<<"transport">> := <<"LongPoll">>} = browser(C, "form", []).

browser(C, Check, Args) ->
    Root = ?config(root, C),
    Node = os:find_executable("node"),
    Script = filename:join(Root, "test/js/demo_browser.js"),
    Port = open_port({spawn_executable, Node},
                     [{args, [Script, Check | Args]}, {cd, Root}, {env, [{"BASE", binary_to_list(?config(url, C))}]},
                      exit_status, binary, {line, 65536}, stderr_to_stdout]),
    {Status, Lines} = collect(Port, [], 180000),
    ct:pal("~s: exit ~p~n~s", [Check, Status, [[L, $\n] || L <- Lines]]),
    ?assertEqual(0, Status),
    [Json] = [J || <<"RESULT ", J/binary>> <- Lines],
    {ok, Result} = live_load_json:decode(Json),
    Result.

collect(Port, Acc, Timeout) ->
    receive
        {Port, {data, {eol, L}}} -> collect(Port, [L | Acc], Timeout);
        {Port, {data, {noeol, L}}} -> collect(Port, [L | Acc], Timeout);
        {Port, {exit_status, S}} -> {S, lists:reverse(Acc)}
    after Timeout ->
            catch port_close(Port),
            {timeout, lists:reverse(Acc)}
    end.

%% Protocol ---------------------------------------------------------------------------------

pages_http() -> [{doc, "Pages render like Phoenix (csrf meta, data-phx-main/session/static root, both bundles, inline LiveSocket); scripts, a favicon and 404s."}].
pages_http(C) ->
    {200, Html} = http_get(C, "/counter"),
    [?assertMatch({_, _}, binary:match(Html, P), P)
     || P <- [<<"<meta name=\"csrf-token\" content=\"">>, <<"data-phx-main data-phx-session=\"">>,
              <<"data-phx-static=\"\"">>, <<"<div id=\"phx-">>, <<"src=\"/assets/phoenix.js?vsn=d\"">>,
              <<"src=\"/assets/phoenix_live_view.js?vsn=d\"">>, <<"new LiveView.LiveSocket(\"/live\"">>,
              <<"<span id=\"count\">0</span>">>, <<"phx-click=\"inc\"">>]],
    {200, Index} = http_get(C, "/"),
    ?assertMatch({_, _}, binary:match(Index, <<"href=\"/counter\"">>)),
    {200, Js} = http_get(C, "/assets/phoenix_live_view.js"),
    ?assertMatch({_, _}, binary:match(Js, <<"1.2.12">>)),
    {404, _} = http_get(C, "/nope"),
    {200, <<0:16, 1:16/little, 1:16/little, _/binary>>} = http_get(C, "/favicon.ico"),
    {200, Form} = http_get(C, "/form"),
    ?assertMatch({_, _}, binary:match(Form, <<"<ul id=\"results\" data-q=\"\" data-submitted=\"\">">>)).

heartbeat() -> [{doc, "heartbeat on the phoenix topic gets an ok reply with the same ref."}].
heartbeat(C) ->
    Ws = ws_connect(C),
    ws_send(Ws, [null, <<"7">>, <<"phoenix">>, <<"heartbeat">>, #{}]),
    ?assertEqual([null, <<"7">>, <<"phoenix">>, <<"phx_reply">>, #{<<"status">> => <<"ok">>, <<"response">> => #{}}],
                 ws_recv_json(Ws)).

form_invalid_utf8_crashes_view() -> [{doc, "A form value with %FF decodes to the byte 255 (as Plug.Conn.Query does); encoding the diff raises (as Jason does), so the view crashes: phx_error, and a rejoin works."}].
form_invalid_utf8_crashes_view(C) ->
    Ws = ws_connect(C),
    _ = join(C, Ws, <<"lv:phx-u">>, "/form"),
    ws_send(Ws, [<<"1">>, <<"2">>, <<"lv:phx-u">>, <<"event">>,
                 #{<<"type">> => <<"form">>, <<"event">> => <<"validate">>, <<"value">> => <<"q=%FF&kind=all">>}]),
    ?assertMatch([<<"1">>, _, <<"lv:phx-u">>, <<"phx_error">>, _], ws_recv_json(Ws)),
    #{<<"rendered">> := _} = join(C, Ws, <<"lv:phx-u">>, "/form"),
    %% valid UTF-8 from the same form is fine
    ws_send(Ws, [<<"1">>, <<"3">>, <<"lv:phx-u">>, <<"event">>,
                 #{<<"type">> => <<"form">>, <<"event">> => <<"validate">>, <<"value">> => <<"q=%C3%A9&kind=all">>}]),
    ?assertMatch([_, <<"3">>, _, <<"phx_reply">>, #{<<"status">> := <<"ok">>}], ws_recv_json(Ws)).

join_and_event_diff() -> [{doc, "phx_join replies the rendered tree (s, numbered dynamics, r, t, liveview_version); a click replies only the changed dynamic; keyup and form values arrive."}].
join_and_event_diff(C) ->
    Ws = ws_connect(C),
    #{<<"rendered">> := R} = Resp = join(C, Ws, <<"lv:phx-a">>, "/counter"),
    ?assertEqual(<<"1.2.12">>, maps:get(<<"liveview_version">>, Resp)),
    ?assertMatch(#{<<"r">> := 1, <<"t">> := <<"Counter">>, <<"0">> := <<"0">>, <<"s">> := [_, _ | _]}, R),
    ?assertEqual(length(maps:get(<<"s">>, R)) - 1, length([K || K <- maps:keys(R), is_integer(catch binary_to_integer(K))])),
    ws_send(Ws, [<<"1">>, <<"2">>, <<"lv:phx-a">>, <<"event">>, #{<<"type">> => <<"click">>, <<"event">> => <<"inc">>, <<"value">> => #{}}]),
    ?assertEqual([<<"1">>, <<"2">>, <<"lv:phx-a">>, <<"phx_reply">>,
                  #{<<"status">> => <<"ok">>, <<"response">> => #{<<"diff">> => #{<<"0">> => <<"1">>,
                        <<"e">> => [[<<"counted">>, #{<<"count">> => 1}]]}}}], ws_recv_json(Ws)),
    ws_send(Ws, [<<"1">>, <<"3">>, <<"lv:phx-a">>, <<"event">>, #{<<"type">> => <<"keyup">>, <<"event">> => <<"key">>, <<"value">> => #{<<"key">> => <<"<q>">>}}]),
    ?assertMatch([_, <<"3">>, _, _, #{<<"response">> := #{<<"diff">> := #{<<"2">> := <<"&lt;q&gt;">>}}}], ws_recv_json(Ws)),
    ws_send(Ws, [<<"1">>, <<"4">>, <<"lv:phx-a">>, <<"event">>, #{<<"type">> => <<"click">>, <<"event">> => <<"nothing">>, <<"value">> => #{}}]),
    ?assertMatch([_, <<"4">>, _, _, #{<<"status">> := <<"ok">>, <<"response">> := #{}}], ws_recv_json(Ws)),
    Wf = ws_connect(C),
    _ = join(C, Wf, <<"lv:phx-f">>, "/form"),
    ws_send(Wf, [<<"1">>, <<"2">>, <<"lv:phx-f">>, <<"event">>,
                 #{<<"type">> => <<"form">>, <<"event">> => <<"search">>,
                   <<"value">> => <<"q=a%20b&kind=music&exact=false&exact=true">>, <<"meta">> => #{}}]),
    [_, _, _, _, #{<<"response">> := #{<<"diff">> := D}}] = ws_recv_json(Wf),
    #{<<"k">> := Rows} = maps:get(<<"5">>, D),
    ?assertEqual(20, maps:get(<<"kc">>, Rows)),
    ?assertEqual(#{<<"0">> => <<"a b music exact #20">>}, maps:get(<<"19">>, Rows)),
    ?assertMatch(#{<<"0">> := <<"a b">>, <<"3">> := <<"a b">>, <<"4">> := <<"a b">>, <<"2">> := #{<<"s">> := [<<" checked">>]}}, D).

list_diff_is_keyed() -> [{doc, "#more on /list sends a keyed comprehension diff with only the 50 new entries and kc, no statics."}].
list_diff_is_keyed(C) ->
    Ws = ws_connect(C),
    #{<<"rendered">> := R} = join(C, Ws, <<"lv:phx-l">>, "/list"),
    #{<<"1">> := #{<<"s">> := _, <<"k">> := K0}} = R,
    ?assertEqual(200, maps:get(<<"kc">>, K0)),
    ws_send(Ws, [<<"1">>, <<"2">>, <<"lv:phx-l">>, <<"event">>, #{<<"type">> => <<"click">>, <<"event">> => <<"more">>, <<"value">> => #{}}]),
    [_, _, _, _, #{<<"response">> := #{<<"diff">> := D}}] = ws_recv_json(Ws),
    #{<<"0">> := <<"250">>, <<"1">> := Comp, <<"t">> := <<"List (250)">>} = D,
    ?assertEqual([<<"k">>], maps:keys(Comp)),
    #{<<"k">> := K1} = Comp,
    ?assertEqual(51, map_size(K1)),
    ?assertEqual(250, maps:get(<<"kc">>, K1)),
    ?assertEqual(#{<<"0">> => <<"201">>, <<"1">> => <<"201">>}, maps:get(<<"200">>, K1)).

live_patch_reply() -> [{doc, "live_patch to the same page replies a diff from handle_params; to another page link_redirect."}].
live_patch_reply(C) ->
    Ws = ws_connect(C),
    _ = join(C, Ws, <<"lv:phx-n">>, "/nav"),
    ws_send(Ws, [<<"1">>, <<"2">>, <<"lv:phx-n">>, <<"live_patch">>, #{<<"url">> => url(C, "/nav?page=5")}]),
    [_, _, _, _, #{<<"status">> := <<"ok">>, <<"response">> := #{<<"diff">> := D}}] = ws_recv_json(Ws),
    ?assertMatch(#{<<"0">> := <<"5">>, <<"1">> := <<"page=5">>, <<"t">> := <<"Nav 5">>}, D),
    ws_send(Ws, [<<"1">>, <<"3">>, <<"lv:phx-n">>, <<"live_patch">>, #{<<"url">> => url(C, "/counter")}]),
    ?assertMatch([_, _, _, _, #{<<"response">> := #{<<"link_redirect">> := true}}], ws_recv_json(Ws)),
    %% a live redirect joins with `redirect' instead of `url'
    ws_send(Ws, [<<"9">>, <<"9">>, <<"lv:phx-r">>, <<"phx_join">>,
                 #{<<"redirect">> => url(C, "/list"), <<"session">> => live_load_demo_page:session(<<"/nav">>),
                   <<"static">> => null, <<"params">> => #{}}]),
    ?assertMatch([<<"9">>, <<"9">>, <<"lv:phx-r">>, <<"phx_reply">>, #{<<"status">> := <<"ok">>}], ws_recv_json(Ws)),
    %% an unknown session is refused the way Phoenix refuses it (client reloads the page)
    ws_send(Ws, [<<"8">>, <<"8">>, <<"lv:phx-x">>, <<"phx_join">>, #{<<"url">> => url(C, "/list"), <<"session">> => <<"forged">>}]),
    ?assertMatch([_, _, _, _, #{<<"status">> := <<"error">>, <<"response">> := #{<<"reason">> := <<"unauthorized">>}}], ws_recv_json(Ws)).

leave_and_unmatched_topic() -> [{doc, "phx_leave stops the view (replies ok); pushes to a topic not joined get 'unmatched topic'; a duplicate join closes the old one."}].
leave_and_unmatched_topic(C) ->
    Ws = ws_connect(C),
    _ = join(C, Ws, <<"lv:phx-a">>, "/counter"),
    Views = length(supervisor:which_children(live_load_demo_view_sup)),
    ws_send(Ws, [<<"1">>, <<"5">>, <<"lv:phx-a">>, <<"phx_leave">>, #{}]),
    ?assertMatch([_, <<"5">>, _, <<"phx_reply">>, #{<<"status">> := <<"ok">>}], ws_recv_json(Ws)),
    ok = wait_until(fun() -> length(supervisor:which_children(live_load_demo_view_sup)) =< Views - 1 end),
    ws_send(Ws, [<<"1">>, <<"6">>, <<"lv:phx-a">>, <<"event">>, #{<<"type">> => <<"click">>, <<"event">> => <<"inc">>}]),
    ?assertMatch([_, <<"6">>, _, _, #{<<"status">> := <<"error">>, <<"response">> := #{<<"reason">> := <<"unmatched topic">>}}], ws_recv_json(Ws)),
    _ = join(C, Ws, <<"lv:phx-b">>, "/counter"),
    ws_send(Ws, [<<"2">>, <<"2">>, <<"lv:phx-b">>, <<"phx_join">>, join_payload(C, "/counter")]),
    ?assertMatch([<<"1">>, <<"1">>, <<"lv:phx-b">>, <<"phx_close">>, #{}], ws_recv_json(Ws)),
    ?assertMatch([<<"2">>, <<"2">>, <<"lv:phx-b">>, <<"phx_reply">>, #{<<"status">> := <<"ok">>}], ws_recv_json(Ws)).

bad_json_closes() -> [{doc, "A text frame that is not JSON closes that connection (1007); the server keeps serving."}].
bad_json_closes(C) -> closes_with(C, fun(Ws) -> ws_send_raw(Ws, 1, <<"[null, \"1\", \"phoenix\"">>) end, 1007).

bad_frame_shape_closes() -> [{doc, "JSON that is not a V2 [join_ref, ref, topic, event, payload] frame closes the connection (1007)."}].
bad_frame_shape_closes(C) -> closes_with(C, fun(Ws) -> ws_send(Ws, #{<<"topic">> => <<"phoenix">>}) end, 1007).

unknown_topic_closes() -> [{doc, "A topic outside phoenix and lv:* closes the connection (1008)."}].
unknown_topic_closes(C) ->
    closes_with(C, fun(Ws) -> ws_send(Ws, [<<"1">>, <<"1">>, <<"room:lobby">>, <<"phx_join">>, #{}]) end, 1008).

oversized_message_closes() -> [{doc, "A message over max_frame closes the connection (1009), also when split into continuation frames."}].
oversized_message_closes(C) ->
    closes_with(C, fun(Ws) -> ws_send_raw(Ws, 1, binary:copy(<<"x">>, 70000)) end, 1009),
    closes_with(C, fun(Ws) ->
                           Part = binary:copy(<<"y">>, 40000),
                           gen_tcp:send(Ws, frame(0, 1, Part)),
                           gen_tcp:send(Ws, frame(1, 0, Part))
                   end, 1009).

unmasked_frame_closes() -> [{doc, "An unmasked client frame is a protocol error (1002)."}].
unmasked_frame_closes(C) -> closes_with(C, fun(Ws) -> gen_tcp:send(Ws, <<1:1, 0:3, 1:4, 0:1, 2:7, "{}">>) end, 1002).

binary_frame_closes() -> [{doc, "Binary frames (uploads) are not supported and close the connection (1003)."}].
binary_frame_closes(C) -> closes_with(C, fun(Ws) -> ws_send_raw(Ws, 2, <<1, 2, 3>>) end, 1003).

http_limits() -> [{doc, "Oversized bodies (413), too many headers (431) and garbage (400) get an error, over-long lines close; the server survives."}].
http_limits(C) ->
    Raw = fun(Bin) ->
                  {ok, S} = gen_tcp:connect("127.0.0.1", ?config(port, C), [binary, {active, false}]),
                  ok = gen_tcp:send(S, Bin),
                  {ok, Resp} = gen_tcp:recv(S, 0, 10000),
                  gen_tcp:close(S),
                  [Status | _] = binary:split(Resp, <<"\r\n">>),
                  Status
          end,
    ?assertEqual(<<"HTTP/1.1 413 Content Too Large">>,
                 Raw(<<"POST /live/longpoll HTTP/1.1\r\nhost: x\r\ncontent-length: 99999999\r\n\r\n">>)),
    ?assertEqual(<<"HTTP/1.1 431 Request Header Fields Too Large">>,
                 Raw([<<"GET / HTTP/1.1\r\n">>, [[<<"x-h">>, integer_to_binary(I), <<": 1\r\n">>] || I <- lists:seq(1, 100)], <<"\r\n">>])),
    %% OTP's packet parser closes the socket itself on an over-long line: no response possible
    {ok, L} = gen_tcp:connect("127.0.0.1", ?config(port, C), [binary, {active, false}]),
    _ = gen_tcp:send(L, [<<"GET /">>, binary:copy(<<"a">>, 20000), <<" HTTP/1.1\r\n\r\n">>]),
    ?assertMatch({error, _}, gen_tcp:recv(L, 0, 10000)),
    ?assertEqual(<<"HTTP/1.1 400 Bad Request">>, Raw(<<"\x01\x02 nonsense\r\n\r\n">>)),
    {200, _} = http_get(C, "/counter").

longpoll_protocol() -> [{doc, "Long-poll: GET opens a session (410 + token), POST ndjson batches, GET returns the replies; unknown tokens get 410; a bad frame ends the session."}].
longpoll_protocol(C) ->
    {200, #{<<"status">> := 410, <<"token">> := T}} = lp(C, get, "", <<>>),
    Join = live_load_json:encode([<<"1">>, <<"1">>, <<"lv:phx-lp">>, <<"phx_join">>, join_payload(C, "/counter")]),
    Beat = live_load_json:encode([null, <<"2">>, <<"phoenix">>, <<"heartbeat">>, #{}]),
    {200, #{<<"status">> := 200}} = lp(C, post, T, iolist_to_binary([Join, "\n", Beat])),
    Msgs = lp_messages(C, T, 2, []),
    Decoded = [begin {ok, M} = live_load_json:decode(X), M end || X <- Msgs],
    ?assertMatch([[<<"1">>, <<"1">>, <<"lv:phx-lp">>, <<"phx_reply">>, #{<<"status">> := <<"ok">>}]],
                 [M || [_, <<"1">> | _] = M <- Decoded]),
    ?assertMatch([[null, <<"2">>, <<"phoenix">>, <<"phx_reply">>, _]], [M || [_, <<"2">> | _] = M <- Decoded]),
    Click = live_load_json:encode([<<"1">>, <<"3">>, <<"lv:phx-lp">>, <<"event">>, #{<<"type">> => <<"click">>, <<"event">> => <<"inc">>, <<"value">> => #{}}]),
    {200, #{<<"status">> := 200}} = lp(C, post, T, iolist_to_binary(Click)),
    [Reply] = lp_messages(C, T, 1, []),
    ?assertMatch({ok, [_, <<"3">>, _, _, #{<<"response">> := #{<<"diff">> := #{<<"0">> := <<"1">>}}}]}, live_load_json:decode(Reply)),
    {200, #{<<"status">> := 410}} = lp(C, get, "nosuchtoken", <<>>),
    {200, #{<<"status">> := 410}} = lp(C, post, "nosuchtoken", <<"[]">>),
    {200, #{<<"status">> := 410}} = lp(C, post, T, <<"not json">>),
    {200, #{<<"status">> := 410}} = lp(C, post, T, iolist_to_binary(Beat)).

lp_messages(_C, _T, N, Acc) when length(Acc) >= N -> Acc;
lp_messages(C, T, N, Acc) ->
    case lp(C, get, T, <<>>) of
        {200, #{<<"status">> := 200, <<"messages">> := Ms}} -> lp_messages(C, T, N, Acc ++ Ms);
        {200, #{<<"status">> := 204}} -> lp_messages(C, T, N, Acc)
    end.

lp(C, Method, Token, Body) ->
    Path = "/live/longpoll?vsn=2.0.0" ++ case Token of "" -> ""; _ -> "&token=" ++ to_list(Token) end,
    {Status, RespBody} = http(C, Method, Path, Body),
    {ok, Json} = live_load_json:decode(RespBody),
    {Status, Json}.

to_list(B) when is_binary(B) -> binary_to_list(B);
to_list(L) -> L.

closes_with(C, Send, Code) ->
    Ws = ws_connect(C),
    Send(Ws),
    ?assertEqual({close, Code}, ws_recv_close(Ws)),
    ?assertEqual({error, closed}, gen_tcp:recv(Ws, 0, 10000)),
    %% the server survives: a new connection works
    W2 = ws_connect(C),
    ws_send(W2, [null, <<"1">>, <<"phoenix">>, <<"heartbeat">>, #{}]),
    ?assertMatch([null, <<"1">> | _], ws_recv_json(W2)),
    gen_tcp:close(W2).

%% Knobs ------------------------------------------------------------------------------------

invalid_options() -> [{doc, "Bad options give {error, {invalid_option, Name, Value}}; the target is not started."}].
invalid_options(_C) ->
    [?assertEqual({error, {invalid_option, K, V}}, live_load_demo_target:start(#{K => V}))
     || {K, V} <- [{port, -1}, {port, 70000}, {bind, "not an ip"}, {slow_ms, -5}, {latency_ms, x},
                   {refuse_websocket, yes}, {fail_percent, 101}, {max_frame, 0}, {colour, blue},
                   {assets_dir, "/nonexistent"}]],
    ?assertEqual(undefined, whereis(live_load_demo_sup)).

start_stop_port_zero() -> [{doc, "port 0 picks a free port; a second start is refused; stop ends all; env options parse."}].
start_stop_port_zero(_C) ->
    {ok, #{port := P, url := Url}} = live_load_demo_target:start(#{port => 0, bind => "127.0.0.1",
                                                                    assets_dir => filename:join(?config(root, _C), "node_modules")}),
    ?assert(P > 0),
    ?assertEqual(iolist_to_binary(["http://127.0.0.1:", integer_to_list(P)]), Url),
    ?assertMatch({error, {already_started, _}}, live_load_demo_target:start(#{port => 0})),
    ok = live_load_demo_target:stop(),
    ?assertEqual({error, not_started}, live_load_demo_target:stop()),
    ?assertMatch({error, _}, gen_tcp:connect("127.0.0.1", P, [], 2000)),
    os:putenv("DEMO_SLOW_MS", "12"), os:putenv("DEMO_REFUSE_WEBSOCKET", "true"),
    try
        {ok, #{slow_ms := 12, refuse_websocket := true}} = live_load_demo_target:options_from_env(),
        os:putenv("DEMO_FAIL_PERCENT", "lots"),
        ?assertEqual({error, {invalid_option, fail_percent, "lots"}}, live_load_demo_target:options_from_env())
    after
        [os:unsetenv(V) || V <- ["DEMO_SLOW_MS", "DEMO_REFUSE_WEBSOCKET", "DEMO_FAIL_PERCENT"]]
    end.

refuse_websocket_403() -> [{doc, "refuse_websocket answers the upgrade with 403 (and long-poll still opens)."}].
refuse_websocket_403(C0) ->
    C = start(#{port => 0, refuse_websocket => true}, C0),
    try
        {ok, S} = gen_tcp:connect("127.0.0.1", ?config(port, C), [binary, {active, false}]),
        ok = gen_tcp:send(S, upgrade_request()),
        {ok, <<"HTTP/1.1 403 Forbidden", _/binary>>} = gen_tcp:recv(S, 0, 10000),
        {200, #{<<"status">> := 410}} = lp(C, get, "", <<>>)
    after
        live_load_demo_target:stop()
    end.

fail_percent_crashes() -> [{doc, "fail_percent => 100 crashes the view on an event: the client gets phx_error and can rejoin."}].
fail_percent_crashes(C0) ->
    C = start(#{port => 0, fail_percent => 100}, C0),
    try
        Ws = ws_connect(C),
        _ = join(C, Ws, <<"lv:phx-a">>, "/counter"),
        ws_send(Ws, [<<"1">>, <<"2">>, <<"lv:phx-a">>, <<"event">>, #{<<"type">> => <<"click">>, <<"event">> => <<"inc">>, <<"value">> => #{}}]),
        ?assertEqual([<<"1">>, <<"1">>, <<"lv:phx-a">>, <<"phx_error">>, #{}], ws_recv_json(Ws)),
        #{<<"rendered">> := _} = join(C, Ws, <<"lv:phx-a">>, "/counter")
    after
        live_load_demo_target:stop()
    end.

latency_ms_delays_events() -> [{doc, "latency_ms delays every event reply by at least that much (joins are not delayed)."}].
latency_ms_delays_events(C0) ->
    C = start(#{port => 0, latency_ms => 200}, C0),
    try
        Ws = ws_connect(C),
        _ = join(C, Ws, <<"lv:phx-a">>, "/counter"),
        T0 = erlang:monotonic_time(millisecond),
        ws_send(Ws, [<<"1">>, <<"2">>, <<"lv:phx-a">>, <<"event">>, #{<<"type">> => <<"click">>, <<"event">> => <<"inc">>, <<"value">> => #{}}]),
        [_, <<"2">> | _] = ws_recv_json(Ws),
        Ms = erlang:monotonic_time(millisecond) - T0,
        ct:pal("event round trip with latency_ms 200: ~b ms", [Ms]),
        ?assert(Ms >= 200)
    after
        live_load_demo_target:stop()
    end.

set_option_at_runtime() -> [{doc, "set_option/2 changes latency_ms and fail_percent of a running target; fixed or bad options are refused."}].
set_option_at_runtime(C0) ->
    ?assertEqual({error, not_started}, live_load_demo_target:set_option(latency_ms, 10)),
    C = start(#{port => 0}, C0),
    try
        Ws = ws_connect(C),
        _ = join(C, Ws, <<"lv:phx-a">>, "/counter"),
        Click = fun(Ref) ->
                        T0 = erlang:monotonic_time(millisecond),
                        ws_send(Ws, [<<"1">>, Ref, <<"lv:phx-a">>, <<"event">>, #{<<"type">> => <<"click">>, <<"event">> => <<"inc">>, <<"value">> => #{}}]),
                        {ws_recv_json(Ws), erlang:monotonic_time(millisecond) - T0}
                end,
        ok = live_load_demo_target:set_option(latency_ms, 300),
        {[_, <<"2">>, _, <<"phx_reply">>, _], Ms} = Click(<<"2">>),
        ?assert(Ms >= 300),
        ok = live_load_demo_target:set_option(fail_percent, 100),
        ok = live_load_demo_target:set_option(latency_ms, 0),
        {[_, _, _, <<"phx_error">>, _], _} = Click(<<"3">>),
        ?assertEqual({error, {invalid_option, port, 1}}, live_load_demo_target:set_option(port, 1)),
        ?assertEqual({error, {invalid_option, fail_percent, -1}}, live_load_demo_target:set_option(fail_percent, -1))
    after
        live_load_demo_target:stop()
    end.

%% Properties -------------------------------------------------------------------------------

prop_json_roundtrip() -> [{doc, "PropEr: decode(encode(T)) =:= T for JSON terms (valid UTF-8 strings; invalid UTF-8 is prop_json_utf8_like_jason), including escapes and unicode."}].
prop_json_roundtrip(_C) ->
    true = proper:quickcheck(
             proper:forall(json(3), fun(T) ->
                                            {ok, T} =:= live_load_json:decode(iolist_to_binary(live_load_json:encode(T)))
                                    end), [{numtests, 300}, {to_file, user}]).

prop_json_utf8_like_jason() -> [{doc, "PropEr: like Jason, the one codec (live_load_json) rejects invalid UTF-8 when decoding (an error with its offset) and raises when encoding; valid UTF-8 round-trips."}].
prop_json_utf8_like_jason(_C) ->
    true = proper:quickcheck(
             proper:forall(proper_types:binary(), fun(B) ->
                                                          Valid = unicode:characters_to_binary(B, utf8, utf8) =:= B,
                                                          Dec = live_load_json:decode(<<$", (escape_quotes(B))/binary, $">>),
                                                          Enc = try {ok, iolist_to_binary(live_load_json:encode(B))}
                                                                catch error:{not_json, _} -> raised
                                                                end,
                                                          case Valid of
                                                              true -> Enc =/= raised andalso element(1, live_load_json:decode(element(2, Enc))) =:= ok;
                                                              false -> Enc =:= raised andalso element(1, Dec) =:= error
                                                          end
                                                  end), [{numtests, 1000}, {to_file, user}]).

%% quotes, backslashes and control bytes out of the way, so only the UTF-8 question remains
escape_quotes(B) -> << <<(case C of $" -> $'; $\\ -> $/; _ when C < 32 -> $\s; _ -> C end)>> || <<C>> <= B >>.

prop_ws_parse_any_split() -> [{doc, "PropEr: masked frames split at any points parse to the same messages."}].
prop_ws_parse_any_split(_C) ->
    Gen = {proper_types:list(proper_types:binary()), proper_types:list(proper_types:pos_integer())},
    true = proper:quickcheck(
             proper:forall(Gen, fun({Payloads, Cuts}) ->
                                        Wire = iolist_to_binary([frame(1, 1, P) || P <- Payloads]),
                                        Chunks = split(Wire, Cuts),
                                        {Msgs, <<>>} = lists:foldl(
                                                         fun(Ch, {Acc, Buf}) ->
                                                                 {ok, Ms, Rest, _} = live_load_demo_ws:parse(<<Buf/binary, Ch/binary>>, live_load_demo_ws:new_parser(1 bsl 20)),
                                                                 {Acc ++ Ms, Rest}
                                                         end, {[], <<>>}, Chunks),
                                        Msgs =:= [{text, P} || P <- Payloads]
                                end), [{numtests, 300}, {to_file, user}]).

prop_diff_merges_to_new() -> [{doc, "PropEr: merging diff(Old, New) into Old's rendered with the client's merge rules gives New's rendered."}].
prop_diff_merges_to_new(_C) ->
    R = live_load_demo_rendered,
    Tree = fun({A, Rows, Flag}) ->
                   R:tpl([<<"<div>">>, {d, A}, <<"<ul>">>,
                          {d, R:for(fun(X) -> R:tpl([<<"<li>">>, {d, X}, <<"</li>">>]) end, Rows)},
                          <<"</ul>">>, {d, case Flag of true -> R:tpl([<<"<b>">>, {d, A}, <<"</b>">>]); false -> <<>> end},
                          <<"</div>">>])
           end,
    Gen = proper_types:tuple([proper_types:binary(), proper_types:list(proper_types:range(0, 3)), proper_types:boolean()]),
    true = proper:quickcheck(
             proper:forall({Gen, Gen}, fun({G1, G2}) ->
                                               Old = Tree(G1), New = Tree(G2),
                                               strip(merge(R:to_rendered(Old, <<"t">>), R:diff(Old, New)))
                                                   =:= strip(R:to_rendered(New, <<"t">>))
                                       end), [{numtests, 500}, {to_file, user}]).

prop_decoders_total() -> [{doc, "PropEr: the decoders of outside bytes (JSON, WebSocket frames, V2 messages) return a result or a tagged error for any input, never crash."}].
prop_decoders_total(_C) ->
    Bytes = proper_types:oneof([proper_types:binary(),
                                proper_types:bind(proper_types:list(proper_types:oneof(
                                                                      [<<"[">>, <<"]">>, <<"{">>, <<"}">>, <<",">>, <<":">>, <<"\"">>,
                                                                       <<"\\u">>, <<"null">>, <<"1e">>, <<"-">>, <<"\"lv:x\"">>,
                                                                       <<"\"phoenix\"">>, <<"\"heartbeat\"">>, <<"\"phx_join\"">>])),
                                                  fun iolist_to_binary/1, false)]),
    true = proper:quickcheck(
             proper:forall(Bytes, fun(B) ->
                                          J = live_load_json:decode(B),
                                          W = live_load_demo_ws:parse(B, live_load_demo_ws:new_parser(4096)),
                                          %% handle_text would start views for valid joins; only
                                          %% check frames that are not joins
                                          S = case binary:match(B, <<"phx_join">>) of
                                                  nomatch -> live_load_demo_socket:handle_text(B, live_load_demo_socket:new());
                                                  _ -> {error, skipped}
                                              end,
                                          (element(1, J) =:= ok orelse element(1, element(2, J)) =:= invalid_json)
                                              andalso (element(1, W) =:= ok orelse element(1, W) =:= error)
                                              andalso (element(1, S) =:= ok orelse element(1, S) =:= error)
                                  end), [{numtests, 2000}, {to_file, user}]).

%% The client's Rendered.mergeDiff (mutableMerge / doMutableMerge / mergeKeyed), in Erlang.
merge(_Target, #{<<"s">> := _} = Source) -> Source;
merge(Target, Source) -> do_merge(Target, Source).

do_merge(Target, #{<<"k">> := SK} = Source) ->
    TK = maps:get(<<"k">>, Target),
    K1 = maps:fold(fun(<<"kc">>, _, Acc) -> Acc;
                      (I, Entry, Acc) -> Acc#{I => do_merge(maps:get(I, Acc, #{}), Entry)}
                   end, TK, SK),
    N = maps:get(<<"kc">>, SK),
    K2 = maps:filter(fun(<<"kc">>, _) -> true; (I, _) -> binary_to_integer(I) < N end, K1),
    maps:merge(Target, (maps:remove(<<"k">>, Source))#{<<"k">> => K2#{<<"kc">> => N}});
do_merge(Target, Source) ->
    maps:fold(fun(K, V, Acc) when is_map(V), not is_map_key(<<"s">>, V) ->
                      case Acc of
                          #{K := TV} when is_map(TV) -> Acc#{K => do_merge(TV, V)};
                          _ -> Acc#{K => V}
                      end;
                 (K, V, Acc) -> Acc#{K => V}
              end, Target, Source).

strip(M) when is_map(M) -> maps:map(fun(_, V) -> strip(V) end, M);
strip(V) -> V.

json(0) -> proper_types:oneof([proper_types:integer(), proper_types:float(),
                               proper_types:oneof([true, false, null]), utf8_bin()]);
json(D) ->
    proper_types:oneof([json(0),
                        proper_types:list(json(D - 1)),
                        proper_types:bind(proper_types:list({utf8_bin(), json(D - 1)}),
                                          fun maps:from_list/1, false)]).

utf8_bin() ->
    proper_types:bind(proper_types:list(proper_types:oneof([proper_types:range(0, 127), proper_types:range(16#80, 16#D7FF),
                                                           proper_types:range(16#E000, 16#10FFFF)])),
                      fun(Cps) -> unicode:characters_to_binary(Cps) end, false).

split(Bin, []) -> [Bin];
split(Bin, [C | Cs]) when C < byte_size(Bin) ->
    <<A:C/binary, B/binary>> = Bin,
    [A | split(B, Cs)];
split(Bin, [_ | _]) -> [Bin].

%% Raw clients ------------------------------------------------------------------------------

url(C, Path) -> iolist_to_binary([?config(url, C), Path]).

join_payload(C, Path) ->
    #{<<"url">> => url(C, Path), <<"session">> => live_load_demo_page:session(list_to_binary(Path)),
      <<"static">> => null, <<"params">> => #{<<"_csrf_token">> => <<"x">>, <<"_mounts">> => 0}}.

join(C, Ws, Topic, Path) ->
    ws_send(Ws, [<<"1">>, <<"1">>, Topic, <<"phx_join">>, join_payload(C, Path)]),
    [<<"1">>, <<"1">>, Topic, <<"phx_reply">>, #{<<"status">> := <<"ok">>, <<"response">> := Resp}] = ws_recv_json(Ws),
    Resp.

upgrade_request() ->
    <<"GET /live/websocket?vsn=2.0.0 HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\n"
      "connection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n">>.

ws_connect(C) ->
    {ok, S} = gen_tcp:connect("127.0.0.1", ?config(port, C), [binary, {active, false}, {packet, raw}]),
    ok = gen_tcp:send(S, upgrade_request()),
    ok = inet:setopts(S, [{packet, http_bin}]),
    {ok, {http_response, _, 101, _}} = gen_tcp:recv(S, 0, 10000),
    Hs = ws_headers(S, #{}),
    %% the example key and accept value of RFC 6455 section 1.3
    ?assertEqual(<<"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=">>, maps:get(<<"sec-websocket-accept">>, Hs)),
    ok = inet:setopts(S, [{packet, raw}]),
    put({buf, S}, <<>>),
    S.

ws_headers(S, Acc) ->
    case gen_tcp:recv(S, 0, 10000) of
        {ok, {http_header, _, K, _, V}} ->
            Key = string:lowercase(if is_atom(K) -> atom_to_binary(K); true -> K end),
            ws_headers(S, Acc#{Key => V});
        {ok, http_eoh} -> Acc
    end.

frame(Fin, Op, Payload) ->
    Mask = crypto:strong_rand_bytes(4),
    Len = byte_size(Payload),
    LenBits = if Len < 126 -> <<Len:7>>; Len < 65536 -> <<126:7, Len:16>>; true -> <<127:7, Len:64>> end,
    <<Fin:1, 0:3, Op:4, 1:1, LenBits/bitstring, Mask/binary, (mask(Payload, Mask))/binary>>.

mask(Payload, Mask) ->
    Key = binary:copy(Mask, byte_size(Payload) div 4 + 1),
    crypto:exor(Payload, binary:part(Key, 0, byte_size(Payload))).

%% The server may close while a large frame is still being sent: no assertion on send.
ws_send_raw(S, Op, Payload) -> _ = gen_tcp:send(S, frame(1, Op, Payload)), ok.

ws_send(S, Term) -> ws_send_raw(S, 1, iolist_to_binary(live_load_json:encode(Term))).

ws_recv(S) ->
    Buf = get({buf, S}),
    case Buf of
        <<1:1, 0:3, Op:4, 0:1, 126:7, L:16, P:L/binary, Rest/binary>> -> put({buf, S}, Rest), {Op, P};
        <<1:1, 0:3, Op:4, 0:1, 127:7, L:64, P:L/binary, Rest/binary>> -> put({buf, S}, Rest), {Op, P};
        <<1:1, 0:3, Op:4, 0:1, L:7, P:L/binary, Rest/binary>> when L < 126 -> put({buf, S}, Rest), {Op, P};
        _ ->
            {ok, More} = gen_tcp:recv(S, 0, 30000),
            put({buf, S}, <<Buf/binary, More/binary>>),
            ws_recv(S)
    end.

ws_recv_json(S) ->
    {1, P} = ws_recv(S),
    {ok, J} = live_load_json:decode(P),
    J.

ws_recv_close(S) ->
    case ws_recv(S) of
        {8, <<Code:16, _/binary>>} -> {close, Code};
        {1, _} -> ws_recv_close(S)
    end.

http_get(C, Path) -> http(C, get, Path, <<>>).

http(C, Method, Path, Body) ->
    {ok, S} = gen_tcp:connect("127.0.0.1", ?config(port, C), [binary, {active, false}]),
    M = string:uppercase(atom_to_list(Method)),
    ok = gen_tcp:send(S, [M, " ", Path, " HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: ",
                          integer_to_list(byte_size(Body)), "\r\n\r\n", Body]),
    Resp = recv_all(S, <<>>),
    [Head, RespBody] = binary:split(Resp, <<"\r\n\r\n">>),
    [<<"HTTP/1.1 ", Code:3/binary, _/binary>> | _] = binary:split(Head, <<"\r\n">>),
    {binary_to_integer(Code), RespBody}.

recv_all(S, Acc) ->
    case gen_tcp:recv(S, 0, 30000) of
        {ok, B} -> recv_all(S, <<Acc/binary, B/binary>>);
        {error, closed} -> Acc
    end.

wait_until(F) -> wait_until(F, 100).
wait_until(_, 0) -> timeout;
wait_until(F, N) ->
    case F() of
        true -> ok;
        false -> timer:sleep(50), wait_until(F, N - 1)
    end.
