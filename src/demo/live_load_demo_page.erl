%% @doc The demo's pages: the route table, the behaviour each LiveView page implements, and the
%% dead (HTTP) render with the root container the LiveView client joins.
%%
%% The HTML shell is what Phoenix's `root.html.heex' + `live_render' produce: a
%% `<meta name="csrf-token">', the two client bundles from npm, a small inline script building
%% a `LiveSocket' on `/live' (long-poll fallback after 2.5 s, as `phx.new' does), and the main
%% container `<div id="phx-..." data-phx-main data-phx-session data-phx-static>' holding the
%% first render.
-module(live_load_demo_page).

-export([route/1]).
-export([render_dead/2]).
-export([session/1]).
-export([route_of_session/1]).
-export([random_token/1]).

%% Mount with the query parameters of the URL.
-callback mount(Query :: #{binary() => binary()}) -> Assigns :: map().
%% Called on join and on every live_patch to a URL of the same page.
-callback handle_params(Query :: #{binary() => binary()}, Assigns :: map()) -> map().
%% Value: click/key values as sent, forms decoded from urlencoded. `{noreply, A, Events}'
%% also pushes events to the client (`push_event': window events `phx:<name>').
-callback handle_event(Event :: binary(), Value :: map(), Assigns :: map()) ->
    {noreply, map()} | {noreply, map(), [{binary(), map()}]}
    | {push_patch, binary(), map()} | {push_navigate, binary(), map()}
    | {redirect, binary(), map()} | crash.
-callback render(Assigns :: map()) -> live_load_demo_rendered:tree().
-callback title(Assigns :: map()) -> binary().

-type route() :: {live, module()} | {hostile, binary()} | dead_index | not_found.
-export_type([route/0]).

%% @doc The page behind a path (no query string).
-spec route(binary()) -> route().
route(<<"/">>) -> dead_index;
route(<<"/counter">>) -> {live, live_load_demo_counter};
route(<<"/form">>) -> {live, live_load_demo_form};
route(<<"/list">>) -> {live, live_load_demo_list};
route(<<"/nav">>) -> {live, live_load_demo_nav};
route(<<"/stream">>) -> {live, live_load_demo_stream};
route(<<"/hostile/big-frame">>) -> {live, live_load_demo_hostile};
route(<<"/hostile/", Name/binary>>) ->
    case lists:member(Name, live_load_demo_hostile:dead_pages()) of
        true -> {hostile, Name};
        false -> not_found
    end;
route(<<"/login">>) -> {live, live_load_demo_login};
route(_) -> not_found.

%% @doc The opaque `data-phx-session' token of a live page (names its path).
-spec session(binary()) -> binary().
session(Path) -> binary:encode_hex(<<"live_load_demo:", Path/binary>>).

%% @doc The page a session token was issued for, if it is one of ours.
-spec route_of_session(term()) -> {ok, module()} | error.
route_of_session(Token) when is_binary(Token), byte_size(Token) < 200 ->
    try binary:decode_hex(Token) of
        <<"live_load_demo:", Path/binary>> ->
            case route(Path) of
                {live, Mod} -> {ok, Mod};
                _ -> error
            end;
        _ -> error
    catch
        error:_ -> error
    end;
route_of_session(_) -> error.

%% @doc Full HTML of a page for an HTTP GET (the dead render).
-spec render_dead(route(), #{binary() => binary()}) -> iodata().
render_dead(dead_index, _Query) ->
    shell(<<"live_load demo">>,
          [<<"<main id=\"index\"><h1>live_load demo target</h1><ul>">>,
           [[<<"<li><a id=\"link-", N/binary, "\" href=\"/", N/binary, "\">", N/binary, "</a></li>">>]
            || N <- [<<"counter">>, <<"form">>, <<"list">>, <<"nav">>, <<"login">>]],
           <<"</ul></main>">>]);
render_dead({hostile, Name}, Query) ->
    {Title, Body} = live_load_demo_hostile:dead(Name, Query),
    shell(Title, Body);
render_dead({live, Mod}, Query) ->
    Assigns = Mod:handle_params(Query, Mod:mount(Query)),
    Id = view_id(),
    Path = path_of(Mod),
    shell(Mod:title(Assigns),
          [<<"<div id=\"">>, Id, <<"\" data-phx-main data-phx-session=\"">>, session(Path),
           <<"\" data-phx-static=\"\">">>,
           live_load_demo_rendered:to_html(Mod:render(Assigns)),
           <<"</div>">>]).

path_of(live_load_demo_counter) -> <<"/counter">>;
path_of(live_load_demo_form) -> <<"/form">>;
path_of(live_load_demo_list) -> <<"/list">>;
path_of(live_load_demo_nav) -> <<"/nav">>;
path_of(live_load_demo_stream) -> <<"/stream">>;
path_of(live_load_demo_hostile) -> <<"/hostile/big-frame">>;
path_of(live_load_demo_login) -> <<"/login">>.

view_id() ->
    <<"phx-", (random_token(9))/binary>>.

%% @doc A random token of `Bytes' bytes, hex-encoded (safe in URLs, ids and attributes).
-spec random_token(pos_integer()) -> binary().
random_token(Bytes) -> binary:encode_hex(crypto:strong_rand_bytes(Bytes)).

shell(Title, Body) ->
    Csrf = random_token(18),
    [<<"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
       "<meta name=\"csrf-token\" content=\"">>, Csrf, <<"\">"
       "<title>">>, live_load_demo_rendered:esc(Title), <<"</title>"
       "<style>.phx-click-loading,.phx-submit-loading{opacity:.6}</style>"
       "<script defer src=\"/assets/phoenix.js?vsn=d\"></script>"
       "<script defer src=\"/assets/phoenix_live_view.js?vsn=d\"></script>"
       "<script>window.addEventListener(\"DOMContentLoaded\", function () {"
       " var csrf = document.querySelector(\"meta[name='csrf-token']\").getAttribute(\"content\");"
       " var liveSocket = new LiveView.LiveSocket(\"/live\", Phoenix.Socket,"
       " {longPollFallbackMs: 2500, params: {_csrf_token: csrf}});"
       " liveSocket.connect(); window.liveSocket = liveSocket; });</script>"
       "</head><body>">>, Body, <<"</body></html>">>].
