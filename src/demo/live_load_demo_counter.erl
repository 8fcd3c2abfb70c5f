%% @doc `/counter': `#count', `#inc' (+1), `#slow' (the handler sleeps `slow_ms'), `#crash'
%% (the view process crashes), and `#keys' (keyup events, last key in `#last-key').
-module(live_load_demo_counter).
-behaviour(live_load_demo_page).

-export([mount/1, handle_params/2, handle_event/3, render/1, title/1]).

-spec mount(map()) -> map().
mount(_Query) -> #{count => 0, slow => 0, last_key => <<>>}.

-spec handle_params(map(), map()) -> map().
handle_params(_Query, A) -> A.

-spec handle_event(binary(), map(), map()) -> {noreply, map()} | crash.
handle_event(<<"inc">>, _, #{count := C} = A) -> {noreply, A#{count := C + 1}};
handle_event(<<"slow">>, _, #{slow := S} = A) ->
    timer:sleep(live_load_demo_target:config(slow_ms)),
    {noreply, A#{slow := S + 1}};
handle_event(<<"crash">>, _, _) -> crash;
handle_event(<<"key">>, #{<<"key">> := K}, A) when is_binary(K) -> {noreply, A#{last_key := K}};
handle_event(_, _, A) -> {noreply, A}.

-spec render(map()) -> live_load_demo_rendered:tree().
render(#{count := C, slow := S, last_key := K}) ->
    live_load_demo_rendered:tpl(
      [<<"<main id=\"counter-page\"><h1>Counter</h1><p>Count: <span id=\"count\">">>, {d, C},
       <<"</span></p><p><button id=\"inc\" phx-click=\"inc\">+1</button> "
         "<button id=\"slow\" phx-click=\"slow\">slow</button> "
         "<button id=\"crash\" phx-click=\"crash\">crash</button></p>"
         "<p>Slow clicks done: <span id=\"slow-count\">">>, {d, S},
       <<"</span></p><p><input id=\"keys\" name=\"keys\" phx-keyup=\"key\" autocomplete=\"off\"> "
         "last key: <span id=\"last-key\">">>, {d, K},
       <<"</span></p><p><a href=\"/\">home</a> <a href=\"/nav\">nav</a></p></main>">>]).

-spec title(map()) -> binary().
title(_) -> <<"Counter">>.
