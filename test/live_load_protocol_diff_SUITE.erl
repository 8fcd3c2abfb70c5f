%% Differential test: the real phoenix_live_view JS client (Chromium, test/js/protocol_diff.js) and
%% the protocol backend run the same steps on every demo page; after each step the main view's
%% HTML must be the same once normalised (LiveView's own bookkeeping attributes and phx-* classes
%% removed, whitespace between tags collapsed). The protocol side may take a moment to receive
%% what the server pushes on its own, so each comparison waits up to 5 s for equality.
%%
%% It runs once per LiveView version we ship: the demo target plays LiveView 1.2 (the
%% phoenix_live_view 1.2.12 client, the 1.2 wire format) and LiveView 0.20 (the
%% phoenix_live_view_0_20 0.20.1 client, the 0.20 wire format: `d' comprehensions, no version in
%% the join reply), and the protocol client must follow both.
-module(live_load_protocol_diff_SUITE).
-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, groups/0, suite/0, init_per_suite/1, end_per_suite/1, init_per_group/2, end_per_group/2]).
-export([demo_pages/0, demo_pages/1]).
-export([normalise/1]).

suite() -> [{timetrap, {minutes, 5}}].

all() -> [{group, liveview_1_2}, {group, liveview_0_20}].

groups() -> [{liveview_1_2, [], [demo_pages]}, {liveview_0_20, [], [demo_pages]}].

pages() ->
    [#{page => <<"/counter">>,
       steps => [[click, <<"#inc">>], [click, <<"#inc">>], [press, <<"#keys">>, <<"x">>], [click, <<"#slow">>]]},
     #{page => <<"/form">>,
       steps => [[fill, <<"#q">>, <<"abc">>], [select, <<"#kind">>, <<"music">>], [check, <<"#exact">>],
                 [press, <<"#q">>, <<"Enter">>], [uncheck, <<"#exact">>], [click, <<"#search">>]]},
     #{page => <<"/list">>, steps => [[click, <<"#more">>], [click, <<"#more">>]]},
     #{page => <<"/nav">>,
       steps => [[click, <<"#patch-next">>], [click, <<"#patch-next">>], [click, <<"#patch-first">>],
                 [click, <<"#server-patch">>], [click, <<"#redirect-list">>], [click, <<"#more">>]]},
     #{page => <<"/stream">>,
       steps => [[click, <<"#add">>], [click, <<"#prepend">>], [click, <<"#insert-at">>], [click, <<"#update">>],
                 [click, <<"#delete">>], [click, <<"#limit">>], [click, <<"#reset">>], [click, <<"#add">>]]}].

init_per_suite(Config) ->
    case os:find_executable("node") =/= false andalso filelib:is_regular("/usr/bin/chromium") of
        false -> {skip, "node or /usr/bin/chromium missing"};
        true -> [{root, root()} | Config]
    end.

end_per_suite(_Config) ->
    ok.

init_per_group(Group, Config) ->
    Version = case Group of liveview_1_2 -> <<"1.2">>; liveview_0_20 -> <<"0.20">> end,
    {ok, #{url := Url}} = live_load_demo_target:start(#{port => 0, slow_ms => 20, liveview => Version}),
    [{url, iolist_to_binary(Url)}, {liveview, Version} | Config].

end_per_group(_Group, _Config) ->
    ok = live_load_demo_target:stop().

root() ->
    Here = filename:dirname(filename:absname(code:which(?MODULE))),
    Up = fun F(D, 0) -> [D]; F(D, N) -> [D | F(filename:dirname(D), N - 1)] end,
    [R | _] = [D || D <- Up(Here, 8), filelib:is_regular(filename:join(D, "test/js/protocol_diff.js"))],
    R.

demo_pages() ->
    [{doc, "The real LiveView JS client (Chromium) and the protocol client run the same steps on every demo "
      "page (streams included) against the demo target playing this LiveView version; the main view's "
      "HTML is the same after every step."}].
demo_pages(Config) ->
    Browser = browser_run(Config),
    {ok, Conn} = live_load_protocol:start_link(#{}),
    Url = ?config(url, Config),
    Results = [run_page(Conn, Url, P, Browser) || P <- pages()],
    Steps = lists:sum([length(maps:get(steps, P)) + 1 || P <- pages()]),
    Bad = [R || R <- lists:append(Results), R =/= ok],
    %% the browser side is real: every page's HTML changed over its steps, and the counter's
    %% second click shows 2 in the JS client's DOM
    [?assert(length(lists:usort([H || {{P, _}, H} <- maps:to_list(Browser), P =:= maps:get(page, Pg)])) >= 2)
     || Pg <- pages()],
    ?assertMatch({_, _}, binary:match(maps:get({<<"/counter">>, 2}, Browser), <<"<span id=\"count\">2</span>">>)),
    %% streamed rows stay in the DOM: after add, prepend and insert-at the stream shows all six
    ?assertEqual(6, count_rows(maps:get({<<"/stream">>, 3}, Browser))),
    %% and the comparison can fail: one changed character is a different page
    ?assertNotEqual(normalise(<<"<p class=\"phx-connected a\">1</p>">>), normalise(<<"<p class=\"a\">2</p>">>)),
    ?assertEqual(normalise(<<"<p class=\"phx-click-loading a\" data-phx-ref-src=\"x\">1</p>">>),
                 normalise(<<"<p class=\"a\">1</p>">>)),
    %% and the browser ran the client of the version asked for
    ?assertEqual(case ?config(liveview, Config) of <<"1.2">> -> <<"1.2.12">>; V -> V end,
                 maps:get(client, Browser)),
    ct:pal("differential (LiveView ~s): ~b steps on ~b pages, ~b mismatches",
           [?config(liveview, Config), Steps, length(pages()), length(Bad)]),
    reliability_row(?config(root, Config), ?config(liveview, Config), Steps, length(Bad)),
    ?assertEqual([], Bad),
    ?assertEqual(Steps, length(lists:append(Results))).

browser_run(Config) ->
    Json = binary_to_list(iolist_to_binary(live_load_json:encode([json_page(P) || P <- pages()]))),
    Script = filename:join(?config(root, Config), "test/js/protocol_diff.js"),
    Cmd = "cd " ++ ?config(root, Config) ++ " && BASE=" ++ binary_to_list(?config(url, Config)) ++
        " node " ++ Script ++ " '" ++ Json ++ "' 2>&1",
    Out = os:cmd(Cmd),
    Lines = [L || L <- string:split(Out, "\n", all), lists:prefix("STEP ", L)],
    case Lines of
        [] -> ct:fail({browser_run_failed, Out});
        _ -> ok
    end,
    [Client] = [L || L <- string:split(Out, "\n", all), lists:prefix("CLIENT ", L)],
    {ok, #{<<"version">> := Version}} = live_load_json:decode(list_to_binary(string:slice(Client, 7))),
    maps:from_list([{client, Version} |
                    [begin
                         {ok, #{<<"page">> := P, <<"i">> := I, <<"html">> := H}} =
                             live_load_json:decode(list_to_binary(string:slice(L, 5))),
                         {{P, I}, normalise(H)}
                     end || L <- Lines]]).

json_page(#{page := P, steps := S}) ->
    #{<<"page">> => P, <<"steps">> => [[atom_to_binary(Op) | Args] || [Op | Args] <- S]}.

run_page(Conn, Url, #{page := Path, steps := Steps}, Browser) ->
    {ok, U} = live_load_protocol:new_user(Conn, #{base_url => Url}),
    ok = act(U, {navigate, Path}),
    ok = act(U, wait_for_liveview),
    First = compare(U, Path, 0, Browser),
    Rest = [begin ok = step(U, S), compare(U, Path, I, Browser) end
            || {I, S} <- lists:zip(lists:seq(1, length(Steps)), Steps)],
    live_load_protocol:close_user(U),
    [First | Rest].

step(U, [click, Sel]) -> ok = act(U, {click, Sel}), settle(U, click, Sel);
step(U, [fill, Sel, V]) -> ok = act(U, {fill, Sel, V}), settle(U, change, Sel);
step(U, [press, Sel, <<"Enter">> = K]) -> ok = act(U, {press, Sel, K}), settle(U, submit, Sel);
step(U, [press, Sel, K]) -> ok = act(U, {press, Sel, K}), settle(U, keyup, Sel);
step(U, [select, Sel, V]) -> ok = act(U, {select_options, Sel, [V]}), settle(U, change, Sel);
step(U, [check, Sel]) -> ok = act(U, {check, Sel}), settle(U, change, Sel);
step(U, [uncheck, Sel]) -> ok = act(U, {uncheck, Sel}), settle(U, change, Sel).

%% a push may have been a navigation (no reply to wait for on the new view): short wait, either way
settle(U, Kind, Sel) ->
    case act(U, {wait_for_loading, Kind, Sel}, 2000) of
        ok -> ok;
        {error, {loading_timeout, _, _}} -> ok;
        Other -> ct:pal("wait_for_loading ~p ~s: ~p", [Kind, Sel, Other]), ok
    end.

count_rows(H) ->
    length(binary:matches(H, <<"<li id=\"items-">>)) - 1. %% items-empty is not a row

compare(U, Path, I, Browser) ->
    Want = maps:get({Path, I}, Browser),
    compare(U, Path, I, Want, 50, none).

compare(_U, Path, I, Want, 0, Got) ->
    ct:pal("MISMATCH ~s step ~b~nbrowser:  ~s~nprotocol: ~s", [Path, I, Want, Got]),
    {mismatch, Path, I};
compare(U, Path, I, Want, N, _) ->
    case act(U, wait_for_liveview) of
        ok ->
            {ok, H} = act(U, {inner_html, <<"[data-phx-main]">>}),
            case normalise(H) of
                Want -> ok;
                Got -> timer:sleep(100), compare(U, Path, I, Want, N - 1, Got)
            end;
        _ -> timer:sleep(100), compare(U, Path, I, Want, N - 1, none)
    end.

act(U, A) -> act(U, A, 15000).
act(U, A, Ms) -> live_load_protocol:action(U, A, erlang:monotonic_time(millisecond) + Ms).

%% @doc LiveView's bookkeeping out of the HTML: data-phx-* attributes other than the link ones,
%% the attribute 0.20 puts on a submitted form (phx-page-loading), phx-* classes (phx-connected,
%% loading classes), empty class attributes; whitespace between tags.
-spec normalise(binary()) -> binary().
normalise(H) ->
    R = fun(S, P, W) -> re:replace(S, P, W, [global, {return, binary}]) end,
    H1 = R(R(H, <<" data-phx-(?!link)[a-z-]+(=\"[^\"]*\")?">>, <<>>), <<" phx-page-loading(=\"\")?">>, <<>>),
    H2 = iolist_to_binary(classes(re:split(H1, <<" class=\"([^\"]*)\"">>, [{return, binary}]))),
    H3 = R(H2, <<">\\s+<">>, <<"><">>),
    string:trim(H3).

%% re:split keeps the captured class list between the pieces: drop phx-* classes, then empty lists
classes([Text, Classes | Rest]) ->
    Kept = [C || C <- binary:split(Classes, [<<" ">>, <<"\t">>, <<"\n">>], [global, trim_all]),
                 not lists:prefix("phx-", binary_to_list(C))],
    Attr = case Kept of
               [] -> <<>>;
               _ -> [<<" class=\"">>, lists:join(<<" ">>, Kept), <<"\"">>]
           end,
    [Text, Attr | classes(Rest)];
classes(Last) -> Last.

reliability_row(Root, Version, Steps, Bad) ->
    File = case os:getenv("RELIABILITY_OUT") of
               false -> filename:join(Root, "_build/reliability/rows.tsv");
               F -> F
           end,
    ok = filelib:ensure_dir(File),
    Line = io_lib:format("protocol differential (JS client vs protocol client, demo pages, LiveView ~s)\t~s\t~b steps, ~b mismatches~n",
                         [Version, case Bad of 0 -> "pass"; _ -> "FAIL" end, Steps, Bad]),
    ok = file:write_file(File, Line, [append]).
