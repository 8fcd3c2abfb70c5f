%% @doc Storage snapshots of a user's browser context, in Playwright's storageState shape.
%%
%% Cookies go through `Storage.getCookies' / `Storage.setCookies' / `Storage.clearCookies' on the
%% browser session (scoped to the user's BrowserContext). localStorage needs a document of its
%% origin: the snapshot reads the current page's origin; a restore writes it at once when the
%% current page has that origin and installs an init script that writes it on the first load of
%% that origin in this tab (a sessionStorage flag keeps later loads from overwriting the app's own
%% changes).
-module(live_load_browser_storage).

-export([snapshot/1]).
-export([restore/2]).
-export([reset/2]).
-export([validate/1]).

-define(PAGE, live_load_browser_page).
-define(JS, live_load_browser_js).
%% CookieParam fields accepted by Storage.setCookies.
-define(COOKIE_KEYS, [<<"name">>, <<"value">>, <<"url">>, <<"domain">>, <<"path">>, <<"secure">>, <<"httpOnly">>,
                      <<"sameSite">>, <<"expires">>, <<"priority">>, <<"sourceScheme">>, <<"sourcePort">>,
                      <<"partitionKey">>]).

-type snapshot() :: #{binary() => list()}.
-export_type([snapshot/0]).

%% @doc Cookies of the context and localStorage of the current origin.
-spec snapshot(live_load_browser_page:page()) -> {ok, snapshot()} | {error, term()}.
snapshot(P) ->
    case ?PAGE:call_browser(P, <<"Storage.getCookies">>, #{}) of
        {ok, #{<<"cookies">> := Cookies}} ->
            Expr = <<"(() => { try { if (location.origin === 'null') return null;
  return {origin: location.origin, localStorage: Object.keys(localStorage).map((k) => ({name: k, value: localStorage.getItem(k)}))};
  } catch (e) { return null; } })()">>,
            case ?PAGE:eval(P, Expr) of
                {ok, #{} = Origin} -> {ok, #{<<"cookies">> => Cookies, <<"origins">> => [Origin]}};
                {ok, _} -> {ok, #{<<"cookies">> => Cookies, <<"origins">> => []}};
                {error, _} = E -> E
            end;
        {ok, Other} -> {error, {unexpected, Other}};
        {error, _} = E -> E
    end.

%% @doc Restores a snapshot; the identifiers of the init scripts installed for localStorage.
-spec restore(live_load_browser_page:page(), term()) -> {ok, [binary()]} | {error, term()}.
restore(P, Snapshot) ->
    case validate(Snapshot) of
        ok ->
            #{<<"cookies">> := Cookies, <<"origins">> := Origins} = Snapshot,
            Params = [maps:with(?COOKIE_KEYS, session_cookie(C)) || C <- Cookies],
            case set_cookies(P, Params) of
                ok -> restore_origins(P, Origins, []);
                {error, _} = E -> E
            end;
        {error, _} = E -> E
    end.

set_cookies(_P, []) -> ok;
set_cookies(P, Params) ->
    case ?PAGE:call_browser(P, <<"Storage.setCookies">>, #{<<"cookies">> => Params}) of
        {ok, _} -> ok;
        {error, _} = E -> E
    end.

%% Session cookies come back with expires -1; Storage.setCookies wants the field absent.
session_cookie(#{<<"expires">> := E} = C) when is_number(E), E < 0 -> maps:remove(<<"expires">>, C);
session_cookie(C) -> C.

restore_origins(_P, [], Ids) ->
    {ok, lists:reverse(Ids)};
restore_origins(P, [#{<<"origin">> := Origin, <<"localStorage">> := Items} | Rest], Ids) ->
    Pairs = [[N, V] || #{<<"name">> := N, <<"value">> := V} <- Items],
    Writer = <<"(origin, pairs, once) => { try { if (location.origin !== origin) return false;
  if (once) { const f = '__live_load_restored:' + origin; if (sessionStorage.getItem(f)) return false; sessionStorage.setItem(f, '1'); }
  for (const [k, v] of pairs) localStorage.setItem(k, v); return true; } catch (e) { return false; } }">>,
    Json = pairs_literal(Pairs),
    Now = iolist_to_binary(["(", Writer, ")(", ?JS:literal(Origin), ",", Json, ",false)"]),
    Later = iolist_to_binary(["(", Writer, ")(", ?JS:literal(Origin), ",", Json, ",true);"]),
    case ?PAGE:eval(P, Now) of
        {ok, _} ->
            case ?PAGE:call(P, <<"Page.addScriptToEvaluateOnNewDocument">>, #{<<"source">> => Later}) of
                {ok, #{<<"identifier">> := Id}} -> restore_origins(P, Rest, [Id | Ids]);
                {ok, Other} -> {error, {unexpected, Other}};
                {error, _} = E -> E
            end;
        {error, _} = E -> E
    end.

pairs_literal(Pairs) ->
    ["[", lists:join(",", [["[", ?JS:literal(K), ",", ?JS:literal(V), "]"] || [K, V] <- Pairs]), "]"].

%% @doc Clears cookies and the current origin's storage, removes pending restore scripts.
-spec reset(live_load_browser_page:page(), [binary()]) -> ok | {error, term()}.
reset(P, ScriptIds) ->
    _ = [?PAGE:call(P, <<"Page.removeScriptToEvaluateOnNewDocument">>, #{<<"identifier">> => Id}) || Id <- ScriptIds],
    case ?PAGE:call_browser(P, <<"Storage.clearCookies">>, #{}) of
        {ok, _} ->
            case ?PAGE:eval(P, <<"(() => { try { localStorage.clear(); sessionStorage.clear(); } catch (e) { } return true; })()">>) of
                {ok, _} -> ok;
                {error, _} = E -> E
            end;
        {error, _} = E -> E
    end.

%% @doc Checks the shape of a snapshot: `{invalid_option, snapshot, Value}' names what is wrong.
-spec validate(term()) -> ok | {error, {invalid_option, snapshot, term()}}.
validate(#{<<"cookies">> := Cookies, <<"origins">> := Origins}) when is_list(Cookies), is_list(Origins) ->
    BadCookie = [C || C <- Cookies, not (is_map(C) andalso is_binary(maps:get(<<"name">>, C, undefined))
                                         andalso is_binary(maps:get(<<"value">>, C, undefined)))],
    BadOrigin = [O || O <- Origins, not origin_ok(O)],
    case {BadCookie, BadOrigin} of
        {[], []} -> ok;
        {[C | _], _} -> {error, {invalid_option, snapshot, {cookie, C}}};
        {_, [O | _]} -> {error, {invalid_option, snapshot, {origin, O}}}
    end;
validate(S) ->
    {error, {invalid_option, snapshot, S}}.

origin_ok(#{<<"origin">> := O, <<"localStorage">> := Items}) when is_binary(O), is_list(Items) ->
    lists:all(fun(#{<<"name">> := N, <<"value">> := V}) -> is_binary(N) andalso is_binary(V);
                 (_) -> false
              end, Items);
origin_ok(_) -> false.
