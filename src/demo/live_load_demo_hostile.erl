%% @doc Hostile pages of the demo target (`/hostile/*'): pages that misbehave on purpose, so the
%% reliability suite can prove live_load survives what page scripts can do.
%%
%% Dead pages (no LiveView): `big-dom' (a script builds about `?mb=' MB of DOM, default 50),
%% `alert-loop' (`alert()' in an endless loop), `window-close' (`window.close()' on load),
%% `navigate-away' (replaces itself with `/' on load). LiveView page `/hostile/big-frame':
%% `#big' (`phx-click="big"') answers with a diff of about `?mb=' MB (default 10) in one
%% WebSocket frame, into `#blob'; `#blob-size' shows its length.
-module(live_load_demo_hostile).
-behaviour(live_load_demo_page).

-export([dead_pages/0, dead/2]).
-export([mount/1, handle_params/2, handle_event/3, render/1, title/1]).

-define(MAX_MB, 200).

%% @doc The names of the dead hostile pages.
-spec dead_pages() -> [binary()].
dead_pages() -> [<<"big-dom">>, <<"alert-loop">>, <<"window-close">>, <<"navigate-away">>].

%% @doc Title and body of a dead hostile page.
-spec dead(binary(), #{binary() => binary()}) -> {binary(), iodata()}.
dead(<<"big-dom">>, Q) ->
    %% 100-byte paragraphs, built in the page so the HTTP response stays small
    N = mb(Q, 50) * 10000,
    {<<"big DOM">>,
     [<<"<main id=\"big-dom\"><p id=\"state\">building</p><div id=\"blob\"></div></main><script>"
        "(function(){var p='<p>'+'x'.repeat(93)+'</p>',s=[];for(var i=0;i<">>, integer_to_binary(N),
      <<";i++)s.push(p);document.getElementById('blob').innerHTML=s.join('');"
        "document.getElementById('state').textContent='built';})();</script>">>]};
dead(<<"alert-loop">>, _Q) ->
    {<<"alert loop">>, <<"<main id=\"alert-loop\">alerts</main><script>for(;;){alert('live_load');}</script>">>};
dead(<<"window-close">>, _Q) ->
    {<<"window close">>, <<"<main id=\"window-close\">closing</main><script>window.close();</script>">>};
dead(<<"navigate-away">>, _Q) ->
    {<<"navigate away">>, <<"<main id=\"navigate-away\">leaving</main>"
                           "<script>window.addEventListener('load',function(){location.replace('/');});</script>">>}.

mb(Q, Default) ->
    case string:to_integer(maps:get(<<"mb">>, Q, <<>>)) of
        {N, <<>>} when is_integer(N), N > 0, N =< ?MAX_MB -> N;
        _ -> Default
    end.

-spec mount(map()) -> map().
mount(Q) -> #{blob => <<>>, mb => mb(Q, 10)}.

-spec handle_params(map(), map()) -> map().
handle_params(_Q, A) -> A.

-spec handle_event(binary(), map(), map()) -> {noreply, map()}.
handle_event(<<"big">>, _, #{mb := Mb} = A) ->
    {noreply, A#{blob := binary:copy(<<"0123456789">>, Mb * 104857)}};
handle_event(_, _, A) -> {noreply, A}.

-spec render(map()) -> live_load_demo_rendered:tree().
render(#{blob := B}) ->
    live_load_demo_rendered:tpl(
      [<<"<main id=\"big-frame\"><button id=\"big\" phx-click=\"big\">big</button>"
         "<p>size: <span id=\"blob-size\">">>, {d, integer_to_binary(byte_size(B))},
       <<"</span></p><pre id=\"blob\">">>, {d, B}, <<"</pre></main>">>]).

-spec title(map()) -> binary().
title(_) -> <<"big frame">>.
