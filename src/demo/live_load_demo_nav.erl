%% @doc `/nav': live navigation. `data-phx-link="patch"' links change the query (`#nav-page'
%% shows `page', `#nav-params' the query) without a page load; `data-phx-link="redirect"'
%% links replace the view with another page over the same socket; buttons do the same from the
%% server (`#server-patch' → push_patch, `#server-navigate' → push_navigate, `#server-redirect'
%% → a full redirect to `/').
-module(live_load_demo_nav).
-behaviour(live_load_demo_page).

-export([mount/1, handle_params/2, handle_event/3, render/1, title/1]).

-spec mount(map()) -> map().
mount(_Query) -> #{page => <<"1">>, params => <<>>, patches => 0}.

-spec handle_params(map(), map()) -> map().
handle_params(Query, #{patches := P} = A) ->
    Page = case maps:get(<<"page">>, Query, <<"1">>) of
               V when is_binary(V), byte_size(V) < 12 -> V;
               _ -> <<"1">>
           end,
    A#{page := Page, params := iolist_to_binary(uri_string:compose_query(lists:sort(maps:to_list(Query)))),
       patches := P + 1}.

-spec handle_event(binary(), map(), map()) ->
    {noreply, map()} | {push_patch, binary(), map()} | {push_navigate, binary(), map()}
    | {redirect, binary(), map()}.
handle_event(<<"patch">>, _, A) -> {push_patch, <<"/nav?page=", (next(A))/binary, "&by=server">>, A};
handle_event(<<"navigate">>, _, A) -> {push_navigate, <<"/counter">>, A};
handle_event(<<"redirect">>, _, A) -> {redirect, <<"/">>, A};
handle_event(_, _, A) -> {noreply, A}.

next(#{page := P}) ->
    try integer_to_binary(binary_to_integer(P) + 1) catch error:badarg -> <<"2">> end.

-spec render(map()) -> live_load_demo_rendered:tree().
render(#{page := Page, params := Params, patches := Patches} = A) ->
    Next = next(A),
    live_load_demo_rendered:tpl(
      [<<"<main id=\"nav-page-root\"><h1>Navigation</h1><p>page <span id=\"nav-page\">">>, {d, Page},
       <<"</span> params <span id=\"nav-params\">">>, {d, Params},
       <<"</span> handle_params calls <span id=\"nav-patches\">">>, {d, Patches},
       <<"</span></p><p><a id=\"patch-next\" data-phx-link=\"patch\" data-phx-link-state=\"push\" "
         "href=\"/nav?page=">>, {d, Next}, <<"\">next page</a> "
         "<a id=\"patch-first\" data-phx-link=\"patch\" data-phx-link-state=\"replace\" href=\"/nav?page=1\">first page</a></p>"
         "<p><a id=\"redirect-counter\" data-phx-link=\"redirect\" data-phx-link-state=\"push\" href=\"/counter\">counter</a> "
         "<a id=\"redirect-form\" data-phx-link=\"redirect\" data-phx-link-state=\"push\" href=\"/form\">form</a> "
         "<a id=\"redirect-list\" data-phx-link=\"redirect\" data-phx-link-state=\"push\" href=\"/list\">list</a> "
         "<a id=\"dead-home\" href=\"/\">home</a></p>"
         "<p><button id=\"server-patch\" phx-click=\"patch\">server patch</button> "
         "<button id=\"server-navigate\" phx-click=\"navigate\">server navigate</button> "
         "<button id=\"server-redirect\" phx-click=\"redirect\">server redirect</button></p></main>">>]).

-spec title(map()) -> binary().
title(#{page := P}) -> <<"Nav ", P/binary>>.
