%% @doc What each context step does in the browser. Every function returns `ok', `{ok, Value}' or
%% `{error, Reason}' with a reason a user can read: `{selector_timeout, Sel}',
%% `{invalid_selector, Sel}', `{not_actionable, Sel, Why}', `{navigation_error, Url, Text}',
%% `{loading_timeout, Kind, Sel}', `{event_lost, Sel}', `not_liveview', `liveview_timeout',
%% `browser_down', `timeout', `{cdp, Code, Message}', `{js_exception, Text}'.
-module(live_load_context_actions).

-export([navigate/3]).
-export([reload/2]).
-export([click/2]).
-export([fill/3]).
-export([press/3]).
-export([set_checked/3]).
-export([select/4]).
-export([on/4]).
-export([hover/2]).
-export([drag/3]).
-export([liveview/2]).
-export([loading/3]).
-export([submit/2]).
-export([page_content/1]).
-export([read/4]).
-export([is_visible/2]).
-export([throttle/1]).

-define(JS, live_load_context_js).
-define(PAGE, live_load_context_page).
-define(DRAG_STEPS, 5).

-type page() :: live_load_context_page:page().
-type result() :: ok | {error, term()}.

%% ---------------------------------------------------------------- navigation

-spec navigate(page(), term(), binary()) -> result().
navigate(P, User, Url) ->
    case ?PAGE:call(P, <<"Page.navigate">>, #{<<"url">> => Url}) of
        {ok, #{<<"errorText">> := Text}} when is_binary(Text), Text =/= <<>> ->
            {error, {navigation_error, Url, Text}};
        {ok, #{<<"loaderId">> := Loader}} when is_binary(Loader) ->
            case await_lifecycle(P, User, <<"load">>, Loader) of
                ok -> http_status(P, Url);
                {error, _} = E -> E
            end;
        {ok, _} -> ok;                              % same-document navigation
        {error, {cdp, _, Msg}} -> {error, {navigation_error, Url, Msg}};
        {error, _} = E -> E
    end.

-spec reload(page(), term()) -> result().
reload(P, User) ->
    _ = live_load_context_events:drain(User),
    case ?PAGE:call(P, <<"Page.reload">>, #{}) of
        {ok, _} ->
            Deadline = deadline(P),
            IsInit = fun(#{<<"method">> := <<"Page.lifecycleEvent">>, <<"params">> := #{<<"name">> := <<"init">>}}) -> true;
                        (_) -> false
                     end,
            case live_load_context_events:await(User, IsInit, Deadline) of
                {ok, #{<<"params">> := #{<<"loaderId">> := Loader}}} -> await_lifecycle(P, User, <<"load">>, Loader);
                {error, _} = E -> E
            end;
        {error, _} = E -> E
    end.

await_lifecycle(P, User, Name, Loader) ->
    Match = fun(#{<<"type">> := <<"cdp">>, <<"method">> := <<"Page.lifecycleEvent">>,
                  <<"params">> := #{<<"name">> := N, <<"loaderId">> := L}}) -> N =:= Name andalso L =:= Loader;
               (_) -> false
            end,
    case live_load_context_events:await(User, Match, deadline(P)) of
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
    with_element(P, Sel, stable, fun(Id) -> press_element(P, Id) end).

press_element(P, Id) ->
    case ?PAGE:mode(P) of
        faithful -> ?PAGE:click_at(P, Id);
        fast -> ok_of(?PAGE:on_element(P, Id, ?JS:element_fun(click), []))
    end.

-spec fill(page(), binary(), binary()) -> result().
fill(P, Sel, Value) ->
    with_element(P, Sel, editable,
                 fun(Id) ->
                         case ?PAGE:on_element(P, Id, ?JS:element_fun(prepare_fill), [Value]) of
                             {ok, <<"set">>} -> ok;
                             {ok, <<"type">>} when Value =:= <<>> -> ?PAGE:key(P, <<"Delete">>);
                             {ok, <<"type">>} -> ?PAGE:insert_text(P, Value);
                             {ok, Other} -> {error, {unexpected, Other}};
                             {error, _} = E -> E
                         end
                 end).

-spec press(page(), binary(), binary()) -> result().
press(P, Sel, Key) ->
    case live_load_context_keys:events(Key) of
        {ok, _} ->
            with_element(P, Sel, visible,
                         fun(Id) ->
                                 case ?PAGE:on_element(P, Id, ?JS:element_fun(focus), []) of
                                     {ok, _} -> ?PAGE:key(P, Key);
                                     {error, _} = E -> E
                                 end
                         end);
        {error, _} = E -> E
    end.

-spec set_checked(page(), binary(), boolean()) -> result().
set_checked(P, Sel, Want) ->
    with_element(P, Sel, stable,
                 fun(Id) ->
                         case ?PAGE:on_element(P, Id, ?JS:element_fun(checked), []) of
                             {ok, Want} -> ok;
                             {ok, _} ->
                                 case press_element(P, Id) of
                                     ok ->
                                         case ?PAGE:on_element(P, Id, ?JS:element_fun(checked), []) of
                                             {ok, Want} -> ok;
                                             {ok, _} -> {error, {check_failed, Sel}};
                                             {error, _} = E -> E
                                         end;
                                     {error, _} = E -> E
                                 end;
                             {error, _} = E -> E
                         end
                 end).

-spec select(page(), binary(), [binary()], boolean()) -> result().
select(P, Sel, Values, Multiple) ->
    with_element(P, Sel, editable,
                 fun(Id) ->
                         case ?PAGE:on_element(P, Id, ?JS:element_fun(select_options), [Values, Multiple]) of
                             {ok, L} when is_list(L) -> ok;
                             {ok, <<"no_such_option">>} -> {error, {no_such_option, Sel, Values}};
                             {ok, Why} -> {error, {not_actionable, Sel, Why}};
                             {error, _} = E -> E
                         end
                 end).

%% @doc Waits for the element to be `Need', then runs a simple element function on it (or nothing).
-spec on(page(), binary(), attached | visible | editable | stable, atom()) -> result().
on(P, Sel, Need, none) ->
    with_element(P, Sel, Need, fun(_) -> ok end);
on(P, Sel, Need, Fun) ->
    with_element(P, Sel, Need, fun(Id) -> ok_of(?PAGE:on_element(P, Id, ?JS:element_fun(Fun), [])) end).

-spec hover(page(), binary()) -> result().
hover(P, Sel) ->
    with_element(P, Sel, stable, fun(Id) -> ok_of(?PAGE:move_to(P, Id)) end).

-spec drag(page(), binary(), binary()) -> result().
drag(P, Source, Target) ->
    with_element(P, Source, stable,
                 fun(SrcId) ->
                         case ?PAGE:move_to(P, SrcId) of
                             {ok, From} ->
                                 Btn = #{<<"button">> => <<"left">>, <<"clickCount">> => 1},
                                 case ?PAGE:mouse(P, <<"mousePressed">>, From, Btn) of
                                     ok -> drag_to(P, Target, From, Btn);
                                     {error, _} = E -> E
                                 end;
                             {error, _} = E -> E
                         end
                 end).

drag_to(P, Target, {X0, Y0}, Btn) ->
    case ?PAGE:element(P, Target, visible) of
        {ok, DstId} ->
            case ?PAGE:centre(P, DstId) of
                {ok, {X1, Y1} = To} ->
                    Moves = [fun() ->
                                     F = I / ?DRAG_STEPS,
                                     ?PAGE:mouse(P, <<"mouseMoved">>, {X0 + (X1 - X0) * F, Y0 + (Y1 - Y0) * F},
                                                 #{<<"button">> => <<"left">>, <<"buttons">> => 1})
                             end || I <- lists:seq(1, ?DRAG_STEPS)],
                    ?PAGE:seq(Moves ++ [fun() -> ?PAGE:mouse(P, <<"mouseReleased">>, To, Btn) end]);
                {error, _} = E -> E
            end;
        {error, _} = E -> E
    end.

%% ---------------------------------------------------------------- LiveView

-spec liveview(page(), boolean()) -> result().
liveview(P, Ensure) ->
    case ?PAGE:eval(P, ?JS:call(?JS:wait_liveview(), [?PAGE:left(P) - 50, Ensure])) of
        {ok, #{<<"error">> := <<"not_liveview">>}} -> {error, not_liveview};
        {ok, #{<<"error">> := <<"timeout">>}} -> {error, liveview_timeout};
        {ok, #{<<"error">> := Other}} -> {error, {liveview, Other}};
        {ok, #{}} -> ok;
        {ok, Other} -> {error, {unexpected, Other}};
        {error, _} = E -> E
    end.

-spec loading(page(), binary(), binary()) -> result().
loading(P, Kind, Sel) ->
    case ?PAGE:eval(P, ?JS:call(?JS:wait_loading(), [Sel, Kind, ?PAGE:left(P) - 50])) of
        {ok, #{<<"error">> := <<"timeout">>}} -> {error, {loading_timeout, binary_to_existing_atom(Kind), Sel}};
        {ok, #{<<"error">> := <<"invalid_selector">>}} -> {error, {invalid_selector, Sel}};
        {ok, #{<<"error">> := <<"lost">>}} -> {error, {event_lost, Sel}};
        {ok, #{<<"error">> := Other}} -> {error, {liveview, Other}};
        {ok, #{}} -> ok;
        {ok, Other} -> {error, {unexpected, Other}};
        {error, _} = E -> E
    end.

-spec submit(page(), binary()) -> result().
submit(P, Sel) ->
    Clicked = with_element(P, Sel, attached,
                           fun(FormId) ->
                                   case ?PAGE:call(P, <<"Runtime.callFunctionOn">>,
                                                   #{<<"objectId">> => FormId,
                                                     <<"functionDeclaration">> => ?JS:element_fun(submit_button),
                                                     <<"objectGroup">> => <<"live_load">>}) of
                                       {ok, #{<<"result">> := #{<<"objectId">> := Button}}} -> press_element(P, Button);
                                       {ok, #{<<"result">> := #{<<"value">> := <<"submitted">>}}} -> ok;
                                       {ok, #{<<"exceptionDetails">> := _} = R} -> {error, {js_exception, R}};
                                       {ok, Other} -> {error, {unexpected, Other}};
                                       {error, _} = E -> E
                                   end
                           end),
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
    with_element(P, Sel, attached,
                 fun(Id) ->
                         case ?PAGE:on_element(P, Id, ?JS:element_fun(Fun), Args) of
                             {ok, <<"not_an_input">>} when Fun =:= input_value -> {error, {not_an_input, Sel}};
                             {ok, null} -> {ok, undefined};
                             Other -> Other
                         end
                 end).

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

%% ---------------------------------------------------------------- throttles

%% live_load_throttle belongs to the runner area; it is called only when loaded, so a context
%% works (and xref stays clean) in builds without it.
-spec throttle(atom() | binary()) -> result().
throttle(Name) ->
    Mod = live_load_throttle,
    case code:ensure_loaded(Mod) =:= {module, Mod} andalso erlang:function_exported(Mod, wait, 1) of
        true ->
            case Mod:wait(Name) of
                ok -> ok;
                {error, _} = E -> E
            end;
        false -> {error, {unknown_throttle, Name}}
    end.

%% ---------------------------------------------------------------- helpers

with_element(P, Sel, Need, Fun) ->
    case ?PAGE:element(P, Sel, Need) of
        {ok, Id} ->
            try Fun(Id) after ?PAGE:release(P) end;
        {error, _} = E -> E
    end.

deadline(P) -> erlang:monotonic_time(millisecond) + ?PAGE:left(P).

ok_of({ok, _}) -> ok;
ok_of({error, _} = E) -> E.
