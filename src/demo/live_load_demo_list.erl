%% @doc `/list': 200 rows in `#items' (`<li id="item-N">'), `#more' appends 50 (a keyed
%% comprehension diff carrying only the new entries).
-module(live_load_demo_list).
-behaviour(live_load_demo_page).

-export([mount/1, handle_params/2, handle_event/3, render/1, title/1]).

-define(INITIAL, 200).
-define(STEP, 50).
-define(MAX, 20000).

-spec mount(map()) -> map().
mount(_Query) -> #{n => ?INITIAL}.

-spec handle_params(map(), map()) -> map().
handle_params(_Query, A) -> A.

-spec handle_event(binary(), map(), map()) -> {noreply, map()}.
handle_event(<<"more">>, _, #{n := N} = A) -> {noreply, A#{n := min(?MAX, N + ?STEP)}};
handle_event(_, _, A) -> {noreply, A}.

-spec render(map()) -> live_load_demo_rendered:tree().
render(#{n := N}) ->
    R = live_load_demo_rendered,
    R:tpl([<<"<main id=\"list-page\"><h1>List</h1><p><span id=\"item-count\">">>, {d, N},
           <<"</span> items <button id=\"more\" phx-click=\"more\">more</button></p><ul id=\"items\">">>,
           {d, R:for(fun(I) -> R:tpl([<<"<li id=\"item-">>, {d, I}, <<"\">Item ">>, {d, I},
                                      <<"</li>">>]) end, lists:seq(1, N))},
           <<"</ul></main>">>]).

-spec title(map()) -> binary().
title(#{n := N}) -> <<"List (", (integer_to_binary(N))/binary, ")">>.
