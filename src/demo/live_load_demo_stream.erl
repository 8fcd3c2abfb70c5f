%% @doc `/stream': a LiveView stream in `<ul id="items" phx-update="stream">' (rows
%% `<li id="items-N">', and a static `#items-empty' row the stream never touches). Each button
%% sends one stream operation: `#add' (insert at the end), `#prepend' (at 0), `#insert-at'
%% (at 1), `#update' (insert the oldest item again with a new text), `#delete' (the oldest
%% item), `#reset' (reset with two new items), `#limit' (insert at the end, limit -3). `#ops'
%% counts the operations. The rows live only in the browser's DOM, as with a real stream.
-module(live_load_demo_stream).
-behaviour(live_load_demo_page).

-export([mount/1, handle_params/2, handle_event/3, render/1, title/1]).

-spec mount(map()) -> map().
mount(_Query) ->
    Items = [1, 2, 3],
    ops(#{ops => 0, gen => 0, next => 4, items => Items}, [insert(N, -1, null) || N <- Items], [], false).

-spec handle_params(map(), map()) -> map().
handle_params(_Query, A) -> A.

-spec handle_event(binary(), map(), map()) -> {noreply, map()}.
handle_event(<<"add">>, _, A) -> {noreply, new(A, -1, null)};
handle_event(<<"prepend">>, _, A) -> {noreply, new(A, 0, null)};
handle_event(<<"insert_at">>, _, A) -> {noreply, new(A, 1, null)};
handle_event(<<"limit">>, _, A) -> {noreply, new(A, -1, -3)};
handle_event(<<"update">>, _, #{items := [N | _]} = A) ->
    {noreply, ops(A, [{id(N), -1, null, false, {N, <<"updated ", (integer_to_binary(N))/binary>>}}], [], false)};
handle_event(<<"delete">>, _, #{items := [N | Rest]} = A) ->
    {noreply, ops(A#{items := Rest}, [], [id(N)], false)};
handle_event(<<"reset">>, _, #{next := Next} = A) ->
    {noreply, ops(A#{items := [Next, Next + 1], next := Next + 2}, [insert(Next, -1, null), insert(Next + 1, -1, null)],
                  [], true)};
handle_event(_, _, A) -> {noreply, ops(A, [], [], false)}.

new(#{next := N, items := Items} = A, At, Limit) ->
    ops(A#{next := N + 1, items := Items ++ [N]}, [insert(N, At, Limit)], [], false).

insert(N, At, Limit) -> {id(N), At, Limit, false, {N, <<"item ", (integer_to_binary(N))/binary>>}}.

id(N) -> <<"items-", (integer_to_binary(N))/binary>>.

%% what the next rendering sends: this event's operations only (a stream is pruned after render)
ops(#{ops := O, gen := G} = A, Inserts, Deletes, Reset) ->
    A#{ops := O + 1, gen := G + 1, inserts => Inserts, deletes => Deletes, reset => Reset}.

-spec render(map()) -> live_load_demo_rendered:tree().
render(#{ops := O, gen := G, inserts := Ins, deletes := Dels, reset := Reset}) ->
    R = live_load_demo_rendered,
    Row = fun({N, Text}) -> R:tpl([<<"<li id=\"">>, {d, id(N)}, <<"\">">>, {d, Text}, <<"</li>">>]) end,
    R:tpl([<<"<main id=\"stream-page\"><h1>Stream</h1><p>operations <span id=\"ops\">">>, {d, O},
           <<"</span></p><p><button id=\"add\" phx-click=\"add\">add</button> "
             "<button id=\"prepend\" phx-click=\"prepend\">prepend</button> "
             "<button id=\"insert-at\" phx-click=\"insert_at\">insert at 1</button> "
             "<button id=\"update\" phx-click=\"update\">update</button> "
             "<button id=\"delete\" phx-click=\"delete\">delete</button> "
             "<button id=\"reset\" phx-click=\"reset\">reset</button> "
             "<button id=\"limit\" phx-click=\"limit\">add, keep 3</button></p>"
             "<ul id=\"items\" phx-update=\"stream\"><li id=\"items-empty\" class=\"only\">no items</li>">>,
           {d, R:stream(Row, {0, <<>>}, Ins, #{ref => <<"0">>, gen => G, deletes => Dels, reset => Reset})},
           <<"</ul></main>">>]).

-spec title(map()) -> binary().
title(_) -> <<"Stream">>.
