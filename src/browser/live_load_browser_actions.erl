%% @doc The browser backend of {@link live_load_connection}: each context action done in headless
%% Chromium through the port (`live_load_browser'), with CDP and JavaScript in the page.
%%
%% Interaction follows what a person does (see {@link live_load_browser_page}): the element must be
%% visible, enabled and stable, real mouse and key events go to it (`fast' mode: clicks dispatched
%% in the page). Every function returns `ok', `{ok, Value}' or `{error, Reason}' with a reason a
%% user can read: `{selector_timeout, Sel}', `{invalid_selector, Sel}', `{not_actionable, Sel, Why}',
%% `{navigation_error, Url, Text}', `{loading_timeout, Kind, Sel}', `{event_lost, Sel}',
%% `{event_lost, Sel, view_crashed}',
%% `not_liveview', `liveview_timeout', `browser_down', `timeout', `{cdp, Code, Message}',
%% `{js_exception, Text}'.
%%
%% localStorage restores install init scripts; their ids are kept in the owner's process
%% dictionary (the owner is the only caller of its user's actions) so `reset_storage' can remove
%% them, and forgotten at `close_user/1'.
-module(live_load_browser_actions).
-behaviour(live_load_connection).

-export([start_link/1]).
-export([new_user/1]).
-export([new_user/2]).
-export([close_user/1]).
-export([user_count/1]).
-export([action/3]).
-export([kind/0]).

-define(JS, live_load_browser_js).
-define(PAGE, live_load_browser_page).
-define(CDP, live_load_browser).
-define(DRAG_STEPS, 5).
-define(USER_KEYS, [owner, network, sample, viewport, mode, timeout]).

-type page() :: live_load_browser_page:page().
-type result() :: ok | {error, term()}.

%% ---------------------------------------------------------------- connection callbacks

%% @doc Starts one browser (see `live_load_browser:start_link/1').
-spec start_link(map()) -> {ok, pid()} | {error, term()}.
start_link(Opts) -> ?CDP:start_link(Opts).

%% @doc A user on the least loaded browser of the node's pool (started on first use).
-spec new_user(map()) -> {ok, live_load_browser:user()} | {error, term()}.
new_user(UserOpts) -> live_load_browser_pool:new_user(maps:with(?USER_KEYS, UserOpts)).

%% @doc A user (BrowserContext + page) on this browser; options `owner', `mode', `timeout',
%% `network', `sample', `viewport' (others, such as `user_id', are ignored).
-spec new_user(pid(), map()) -> {ok, live_load_browser:user()} | {error, term()}.
new_user(Browser, UserOpts) -> ?CDP:new_user(Browser, maps:with(?USER_KEYS, UserOpts)).

-spec close_user(live_load_browser:user()) -> ok.
close_user(User) ->
    _ = erase({?MODULE, storage, User}),
    ?CDP:close_user(User).

-spec user_count(pid()) -> non_neg_integer().
user_count(Browser) -> ?CDP:user_count(Browser).

-spec kind() -> browser.
kind() -> browser.

%% @doc One context action on the user's page, answered by `Deadline' (monotonic ms).
-spec action(live_load_browser:user(), live_load_connection:action(), integer()) -> live_load_connection:result().
action(User, Action, Deadline) ->
    do(?PAGE:new(?CDP, User, Deadline, ?CDP:mode(User)), Action).

do(P, {navigate, Url}) -> navigate(P, Url);
do(P, reload) -> reload(P);
do(P, {click, Sel}) -> click(P, Sel);
do(P, {fill, Sel, Value}) -> fill(P, Sel, Value);
do(P, {clear, Sel}) -> fill(P, Sel, <<>>);
do(P, {press, Sel, Key}) -> press(P, Sel, Key);
do(P, {check, Sel}) -> set_checked(P, Sel, true);
do(P, {uncheck, Sel}) -> set_checked(P, Sel, false);
do(P, {select_options, Sel, Values}) -> select(P, Sel, Values, length(Values) > 1);
do(P, {focus, Sel}) -> on(P, Sel, visible, focus);
do(P, {blur, Sel}) -> on(P, Sel, visible, blur);
do(P, {hover, Sel}) -> hover(P, Sel);
do(P, {drag_and_drop, Source, Target}) -> drag(P, Source, Target);
do(P, {wait_for_selector, Sel, #{state := State}}) -> wait_state(P, Sel, State);
do(P, wait_for_liveview) -> liveview(P, false);
do(P, ensure_liveview) -> has_liveview(P);
do(P, {wait_for_loading, Kind, Sel}) -> loading(P, atom_to_binary(Kind), Sel);
do(P, {submit_form, Sel}) -> submit(P, Sel);
do(P, page_content) -> page_content(P);
do(P, {inner_html, Sel}) -> read(P, Sel, inner_html, []);
do(P, {inner_text, Sel}) -> read(P, Sel, inner_text, []);
do(P, {text_content, Sel}) -> read(P, Sel, text_content, []);
do(P, {input_value, Sel}) -> read(P, Sel, input_value, []);
do(P, {get_attribute, Sel, Name}) -> read(P, Sel, get_attribute, [Name]);
do(P, {visible, Sel}) -> is_visible(P, Sel);
do(P, {checked, Sel}) -> read(P, Sel, checked, []);
do(P, storage_snapshot) -> live_load_browser_storage:snapshot(P);
do(P, {restore_storage, Snapshot}) ->
    case live_load_browser_storage:restore(P, Snapshot) of
        {ok, Ids} ->
            Key = {?MODULE, storage, ?PAGE:user(P)},
            put(Key, Ids ++ case get(Key) of undefined -> []; L -> L end),
            ok;
        {error, _} = E -> E
    end;
do(P, reset_storage) ->
    Key = {?MODULE, storage, ?PAGE:user(P)},
    case live_load_browser_storage:reset(P, case get(Key) of undefined -> []; L -> L end) of
        ok -> _ = erase(Key), ok;
        {error, _} = E -> E
    end;
do(_P, Other) ->
    {error, {unsupported_action, Other}}.

%% ---------------------------------------------------------------- navigation

-spec navigate(page(), binary()) -> result().
navigate(P, Url) ->
    case ?PAGE:call(P, <<"Page.navigate">>, #{<<"url">> => Url}) of
        {ok, #{<<"errorText">> := Text}} when is_binary(Text), Text =/= <<>> ->
            {error, {navigation_error, Url, Text}};
        {ok, #{<<"loaderId">> := Loader}} when is_binary(Loader) ->
            case await_lifecycle(P, <<"load">>, Loader) of
                ok -> http_status(P, Url);
                {error, _} = E -> E
            end;
        {ok, _} -> ok;                              % same-document navigation
        {error, {cdp, _, Msg}} -> {error, {navigation_error, Url, Msg}};
        {error, _} = E -> E
    end.

-spec reload(page()) -> result().
reload(P) ->
    User = ?PAGE:user(P),
    _ = live_load_context_events:drain(browser, User),
    case ?PAGE:call(P, <<"Page.reload">>, #{}) of
        {ok, _} ->
            Deadline = deadline(P),
            IsInit = fun(#{<<"method">> := <<"Page.lifecycleEvent">>, <<"params">> := #{<<"name">> := <<"init">>}}) -> true;
                        (_) -> false
                     end,
            case live_load_context_events:await(browser, User, IsInit, Deadline) of
                {ok, #{<<"params">> := #{<<"loaderId">> := Loader}}} -> await_lifecycle(P, <<"load">>, Loader);
                {error, _} = E -> E
            end;
        {error, _} = E -> E
    end.

await_lifecycle(P, Name, Loader) ->
    Match = fun(#{<<"type">> := <<"cdp">>, <<"method">> := <<"Page.lifecycleEvent">>,
                  <<"params">> := #{<<"name">> := N, <<"loaderId">> := L}}) -> N =:= Name andalso L =:= Loader;
               (_) -> false
            end,
    case live_load_context_events:await(browser, ?PAGE:user(P), Match, deadline(P)) of
        {ok, _} -> ok;
        {error, _} = E -> E
    end.

%% Chromium renders error pages without errorText: the status comes from the navigation entry.
http_status(P, Url) ->
    case ?PAGE:eval(P, ?JS:navigation_status()) of
        {ok, S} when is_integer(S), S >= 400 -> {error, {navigation_error, Url, <<"HTTP ", (integer_to_binary(S))/binary>>}};
        {ok, _} -> ok;
        {error, _} = E -> E
    end.

%% ---------------------------------------------------------------- interaction

-spec click(page(), binary()) -> result().
click(P, Sel) ->
    press_selector(P, Sel, stable).

%% Faithful: the element's centre (one evaluate: wait, check, scroll, measure), then the mouse
%% gesture there. Fast: one evaluate that waits, checks and clicks in the page.
press_selector(P, Sel, Need) ->
    case ?PAGE:mode(P) of
        faithful ->
            case ?PAGE:on_selector(P, Sel, Need, point, []) of
                {ok, XY} -> click_point(P, Sel, XY);
                {error, _} = E -> E
            end;
        fast -> ok_of(?PAGE:on_selector(P, Sel, Need, click, []))
    end.

click_point(P, _Sel, #{<<"x">> := X, <<"y">> := Y}) -> ?PAGE:click_at(P, {X, Y});
click_point(_P, Sel, Why) when is_binary(Why) -> {error, {not_actionable, Sel, Why}};
click_point(_P, _Sel, Other) -> {error, {unexpected, Other}}.

-spec fill(page(), binary(), binary()) -> result().
fill(P, Sel, Value) ->
    case ?PAGE:on_selector(P, Sel, editable, prepare_fill, [Value]) of
        {ok, <<"set">>} -> ok;
        {ok, <<"type">>} when Value =:= <<>> -> ?PAGE:key(P, <<"Delete">>);
        {ok, <<"type">>} -> ?PAGE:insert_text(P, Value);
        {ok, Other} -> {error, {unexpected, Other}};
        {error, _} = E -> E
    end.

-spec press(page(), binary(), binary()) -> result().
press(P, Sel, Key) ->
    case live_load_browser_keys:events(Key) of
        {ok, _} ->
            case ?PAGE:on_selector(P, Sel, visible, focus, []) of
                {ok, _} -> ?PAGE:key(P, Key);
                {error, _} = E -> E
            end;
        {error, _} = E -> E
    end.

%% Clicks only when the state differs, then verifies it (the element found again by its selector:
%% a LiveView patch may have replaced it).
-spec set_checked(page(), binary(), boolean()) -> result().
set_checked(P, Sel, Want) ->
    case ?PAGE:on_selector(P, Sel, stable, checked, []) of
        {ok, Want} -> ok;
        {ok, _} ->
            case press_selector(P, Sel, stable) of
                ok ->
                    case ?PAGE:on_selector(P, Sel, attached, checked, []) of
                        {ok, Want} -> ok;
                        {ok, _} -> {error, {check_failed, Sel}};
                        {error, _} = E -> E
                    end;
                {error, _} = E -> E
            end;
        {error, _} = E -> E
    end.

-spec select(page(), binary(), [binary()], boolean()) -> result().
select(P, Sel, Values, Multiple) ->
    case ?PAGE:on_selector(P, Sel, editable, select_options, [Values, Multiple]) of
        {ok, L} when is_list(L) -> ok;
        {ok, <<"no_such_option">>} -> {error, {no_such_option, Sel, Values}};
        {ok, Why} -> {error, {not_actionable, Sel, Why}};
        {error, _} = E -> E
    end.

%% Waits for the element to be `Need', then runs a simple element function on it.
on(P, Sel, Need, Fun) ->
    ok_of(?PAGE:on_selector(P, Sel, Need, Fun, [])).

-spec hover(page(), binary()) -> result().
hover(P, Sel) ->
    case ?PAGE:on_selector(P, Sel, stable, point, []) of
        {ok, #{<<"x">> := X, <<"y">> := Y}} -> ?PAGE:mouse(P, <<"mouseMoved">>, {X, Y}, #{});
        {ok, Other} -> click_point(P, Sel, Other);
        {error, _} = E -> E
    end.

-spec drag(page(), binary(), binary()) -> result().
drag(P, Source, Target) ->
    case ?PAGE:on_selector(P, Source, stable, point, []) of
        {ok, #{<<"x">> := X, <<"y">> := Y}} ->
            From = {X, Y},
            Btn = #{<<"button">> => <<"left">>, <<"clickCount">> => 1},
            case ?PAGE:seq([fun() -> ?PAGE:mouse(P, <<"mouseMoved">>, From, #{}) end,
                            fun() -> ?PAGE:mouse(P, <<"mousePressed">>, From, Btn) end]) of
                ok -> drag_to(P, Target, From, Btn);
                {error, _} = E -> E
            end;
        {ok, Other} -> click_point(P, Source, Other);
        {error, _} = E -> E
    end.

drag_to(P, Target, {X0, Y0}, Btn) ->
    case ?PAGE:on_selector(P, Target, visible, point, []) of
        {ok, #{<<"x">> := X1, <<"y">> := Y1}} ->
            Moves = [fun() ->
                             F = I / ?DRAG_STEPS,
                             ?PAGE:mouse(P, <<"mouseMoved">>, {X0 + (X1 - X0) * F, Y0 + (Y1 - Y0) * F},
                                         #{<<"button">> => <<"left">>, <<"buttons">> => 1})
                     end || I <- lists:seq(1, ?DRAG_STEPS)],
            ?PAGE:seq(Moves ++ [fun() -> ?PAGE:mouse(P, <<"mouseReleased">>, {X1, Y1}, Btn) end]);
        {ok, Other} -> click_point(P, Target, Other);
        {error, _} = E -> E
    end.

%% ---------------------------------------------------------------- LiveView

-spec liveview(page(), boolean()) -> result().
liveview(P, false) ->
    case ?PAGE:eval(P, ?JS:call(?JS:wait_liveview(), [?PAGE:left(P) - 50, false])) of
        {ok, #{<<"error">> := <<"not_liveview">>}} -> {error, not_liveview};
        {ok, #{<<"error">> := <<"timeout">>}} -> {error, liveview_timeout};
        {ok, #{<<"error">> := Other}} -> {error, {liveview, Other}};
        {ok, #{}} -> ok;
        {ok, Other} -> {error, {unexpected, Other}};
        {error, _} = E -> E
    end.

%% Whether the loaded page has a LiveView root.
has_liveview(P) ->
    case ?PAGE:eval(P, ?JS:call(?JS:wait_liveview(), [?PAGE:left(P) - 50, true])) of
        {ok, #{<<"liveview">> := B}} when is_boolean(B) -> {ok, B};
        {ok, #{<<"error">> := <<"timeout">>}} -> {error, liveview_timeout};
        {ok, Other} -> {error, {unexpected, Other}};
        {error, _} = E -> E
    end.

wait_state(P, Sel, State) when State =:= attached; State =:= visible; State =:= hidden; State =:= detached ->
    case ?PAGE:eval(P, ?JS:call(?JS:wait_state(), [Sel, atom_to_binary(State), max(1, ?PAGE:left(P) - 50)])) of
        {ok, true} -> ok;
        {ok, <<"invalid_selector">>} -> {error, {invalid_selector, Sel}};
        {ok, <<"selector_timeout">>} -> {error, {selector_timeout, Sel}};
        {ok, Other} -> {error, {unexpected, Other}};
        {error, _} = E -> E
    end;
wait_state(_P, _Sel, State) ->
    {error, {invalid_option, state, State}}.

-spec loading(page(), binary(), binary()) -> result().
loading(P, Kind, Sel) ->
    case ?PAGE:eval(P, ?JS:call(?JS:wait_loading(), [Sel, Kind, ?PAGE:left(P) - 50])) of
        {ok, #{<<"error">> := <<"timeout">>}} -> {error, {loading_timeout, binary_to_existing_atom(Kind), Sel}};
        {ok, #{<<"error">> := <<"invalid_selector">>}} -> {error, {invalid_selector, Sel}};
        %% the view crashed (phx-error) while the push was pending: say so
        {ok, #{<<"error">> := <<"lost">>, <<"reason">> := <<"view_error">>}} -> {error, {event_lost, Sel, view_crashed}};
        {ok, #{<<"error">> := <<"lost">>}} -> {error, {event_lost, Sel}};
        {ok, #{<<"error">> := Other}} -> {error, {liveview, Other}};
        {ok, #{}} -> ok;
        {ok, Other} -> {error, {unexpected, Other}};
        {error, _} = E -> E
    end.

-spec submit(page(), binary()) -> result().
submit(P, Sel) ->
    Clicked = case ?PAGE:mode(P) of
                  faithful ->
                      case ?PAGE:on_selector(P, Sel, attached, submit_point, []) of
                          {ok, <<"submitted">>} -> ok;
                          {ok, XY} -> click_point(P, Sel, XY);
                          {error, _} = Err -> Err
                      end;
                  fast -> ok_of(?PAGE:on_selector(P, Sel, attached, submit_click, []))
              end,
    case Clicked of
        ok -> loading(P, <<"submit">>, Sel);
        {error, _} = E -> E
    end.

%% ---------------------------------------------------------------- extraction

-spec page_content(page()) -> {ok, binary()} | {error, term()}.
page_content(P) ->
    ?PAGE:eval(P, <<"document.documentElement ? document.documentElement.outerHTML : ''">>).

-spec read(page(), binary(), atom(), [term()]) -> {ok, term()} | {error, term()}.
read(P, Sel, Fun, Args) ->
    case ?PAGE:on_selector(P, Sel, attached, Fun, Args) of
        {ok, <<"not_an_input">>} when Fun =:= input_value -> {error, {not_an_input, Sel}};
        Other -> Other
    end.

-spec is_visible(page(), binary()) -> {ok, boolean()} | {error, term()}.
is_visible(P, Sel) ->
    Expr = ?JS:call(<<"(sel) => { let el; try { el = document.querySelector(sel); } catch (e) { return 'invalid_selector'; }
  if (!el) return false; const r = el.getBoundingClientRect(), st = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && st.visibility !== 'hidden'; }">>, [Sel]),
    case ?PAGE:eval(P, Expr) of
        {ok, <<"invalid_selector">>} -> {error, {invalid_selector, Sel}};
        {ok, B} when is_boolean(B) -> {ok, B};
        {ok, Other} -> {error, {unexpected, Other}};
        {error, _} = E -> E
    end.

%% ---------------------------------------------------------------- helpers

deadline(P) -> ?PAGE:deadline(P).

ok_of({ok, _}) -> ok;
ok_of({error, _} = E) -> E.
