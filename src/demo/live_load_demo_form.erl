%% @doc `/form': `#search-form' (`phx-change="validate"', `phx-submit="search"') with `#q',
%% `<select id="kind">' and the checkbox `#exact'; `#results' lists 20 rows for the last query
%% and carries `data-q' (last validated) and `data-submitted' (last submitted).
-module(live_load_demo_form).
-behaviour(live_load_demo_page).

-export([mount/1, handle_params/2, handle_event/3, render/1, title/1]).

-define(ROWS, 20).
-define(KINDS, [<<"all">>, <<"books">>, <<"music">>, <<"films">>]).

-spec mount(map()) -> map().
mount(_Query) -> #{q => <<>>, submitted => <<>>, kind => <<"all">>, exact => false, rows => []}.

-spec handle_params(map(), map()) -> map().
handle_params(_Query, A) -> A.

-spec handle_event(binary(), map(), map()) -> {noreply, map()}.
handle_event(<<"validate">>, Form, A) ->
    A1 = fields(Form, A),
    {noreply, A1#{rows := rows(A1)}};
handle_event(<<"search">>, Form, A) ->
    A1 = fields(Form, A),
    {noreply, A1#{submitted := maps:get(q, A1), rows := rows(A1)}};
handle_event(_, _, A) -> {noreply, A}.

fields(Form, A) ->
    Q = case maps:get(<<"q">>, Form, <<>>) of V when is_binary(V) -> V; _ -> <<>> end,
    Kind = case maps:get(<<"kind">>, Form, <<"all">>) of
               K when is_binary(K) -> case lists:member(K, ?KINDS) of true -> K; false -> <<"all">> end;
               _ -> <<"all">>
           end,
    A#{q := Q, kind := Kind, exact := maps:get(<<"exact">>, Form, <<"false">>) =:= <<"true">>}.

rows(#{q := <<>>}) -> [];
rows(#{q := Q, kind := K, exact := E}) ->
    Match = case E of true -> <<"exact">>; false -> <<"fuzzy">> end,
    [<<Q/binary, " ", K/binary, " ", Match/binary, " #", (integer_to_binary(I))/binary>>
     || I <- lists:seq(1, ?ROWS)].

-spec render(map()) -> live_load_demo_rendered:tree().
render(#{q := Q, submitted := S, kind := Kind, exact := E, rows := Rows}) ->
    R = live_load_demo_rendered,
    R:tpl(
      [<<"<main id=\"form-page\"><h1>Search</h1>"
         "<form id=\"search-form\" phx-change=\"validate\" phx-submit=\"search\">"
         "<input id=\"q\" name=\"q\" type=\"text\" autocomplete=\"off\" value=\"">>, {d, Q},
       <<"\"><select id=\"kind\" name=\"kind\">">>,
       {d, R:for(fun(K) -> R:tpl([<<"<option value=\"">>, {d, K}, <<"\"">>, {d, selected(K =:= Kind)},
                                  <<">">>, {d, K}, <<"</option>">>]) end, ?KINDS)},
       <<"</select><input type=\"hidden\" name=\"exact\" value=\"false\">"
         "<label><input id=\"exact\" name=\"exact\" type=\"checkbox\" value=\"true\"">>,
       {d, checked(E)}, <<"> exact</label> <button id=\"search\" type=\"submit\">Search</button></form>"
         "<ul id=\"results\" data-q=\"">>, {d, Q}, <<"\" data-submitted=\"">>, {d, S}, <<"\">">>,
       {d, R:for(fun(Row) -> R:tpl([<<"<li>">>, {d, Row}, <<"</li>">>]) end, Rows)},
       <<"</ul><p><a href=\"/\">home</a></p></main>">>]).

selected(true) -> {tree, [<<" selected">>], []};
selected(false) -> <<>>.

checked(true) -> {tree, [<<" checked">>], []};
checked(false) -> <<>>.

-spec title(map()) -> binary().
title(_) -> <<"Search">>.
