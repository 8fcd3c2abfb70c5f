%% @doc The browser backend's page operations over CDP, each bounded by the action's deadline.
%%
%% A `page()' is the CDP module (`live_load_browser'), the user and the deadline (monotonic ms) of
%% the current action; every CDP call gets the time left. Interaction follows what a person does: the element
%% must be visible, enabled and stable (checked in the page each animation frame), it is scrolled
%% into view with `DOM.scrollIntoViewIfNeeded', and real mouse events go to the centre of its first
%% content quad. Keys are `Input.dispatchKeyEvent', text is `Input.insertText' (trusted input).
-module(live_load_browser_page).

-export([new/4]).
-export([call/3]).
-export([call_browser/3]).
-export([eval/2]).
-export([element/3]).
-export([on_element/4]).
-export([release/1]).
-export([click_at/2]).
-export([move_to/2]).
-export([centre/2]).
-export([mouse/4]).
-export([key/2]).
-export([insert_text/2]).
-export([left/1]).
-export([deadline/1]).
-export([user/1]).
-export([mode/1]).
-export([seq/1]).

-record(page, {conn :: module(), user :: term(), deadline :: integer(), mode :: faithful | fast}).
-opaque page() :: #page{}.
-export_type([page/0]).

-define(GROUP, <<"live_load">>).

%% @doc A page handle for one action that must answer by `Deadline' (monotonic ms).
-spec new(module(), term(), integer(), faithful | fast) -> page().
new(Conn, User, Deadline, Mode) ->
    #page{conn = Conn, user = User, deadline = Deadline, mode = Mode}.

%% @doc Milliseconds left before the step's deadline (at least 1).
-spec left(page()) -> pos_integer().
left(#page{deadline = D}) -> max(1, D - erlang:monotonic_time(millisecond)).

%% @doc The action's deadline (monotonic ms).
-spec deadline(page()) -> integer().
deadline(#page{deadline = D}) -> D.

%% @doc The user the page belongs to.
-spec user(page()) -> term().
user(#page{user = U}) -> U.

-spec mode(page()) -> faithful | fast.
mode(#page{mode = M}) -> M.

%% @doc A CDP command on the user's page session.
-spec call(page(), binary(), map()) -> {ok, map()} | {error, term()}.
call(#page{conn = C, user = U} = P, Method, Params) ->
    C:call(U, Method, Params, left(P) + 1000).

%% @doc A CDP command on the browser session (the user's browserContextId added by the connection).
-spec call_browser(page(), binary(), map()) -> {ok, map()} | {error, term()}.
call_browser(#page{conn = C, user = U} = P, Method, Params) ->
    C:call_browser(U, Method, Params, left(P) + 1000).

%% @doc Evaluates an expression in the page's main world, awaiting a promise; the JSON value.
-spec eval(page(), binary()) -> {ok, term()} | {error, term()}.
eval(P, Expr) ->
    case call(P, <<"Runtime.evaluate">>, #{<<"expression">> => Expr, <<"awaitPromise">> => true,
                                          <<"returnByValue">> => true}) of
        {ok, #{<<"exceptionDetails">> := Ex}} -> {error, {js_exception, exception_text(Ex)}};
        {ok, #{<<"result">> := R}} -> {ok, maps:get(<<"value">>, R, undefined)};
        {error, _} = E -> E
    end.

%% @doc Waits in the page until `Sel' is `Need' (attached | visible | enabled | editable | stable)
%% and returns a handle on the element.
-spec element(page(), binary(), attached | visible | editable | stable) -> {ok, binary()} | {error, term()}.
element(P, Sel, Need) ->
    Expr = live_load_browser_js:call(live_load_browser_js:actionable(),
                                     [Sel, atom_to_binary(Need), max(1, left(P) - 50)]),
    case call(P, <<"Runtime.evaluate">>, #{<<"expression">> => Expr, <<"awaitPromise">> => true,
                                          <<"objectGroup">> => ?GROUP}) of
        {ok, #{<<"exceptionDetails">> := Ex}} -> {error, {js_exception, exception_text(Ex)}};
        {ok, #{<<"result">> := #{<<"objectId">> := Id, <<"subtype">> := <<"node">>}}} -> {ok, Id};
        {ok, #{<<"result">> := #{<<"value">> := <<"invalid_selector">>}}} -> {error, {invalid_selector, Sel}};
        {ok, #{<<"result">> := #{<<"value">> := <<"selector_timeout">>}}} -> {error, {selector_timeout, Sel}};
        {ok, #{<<"result">> := #{<<"value">> := Why}}} when is_binary(Why) -> {error, {not_actionable, Sel, Why}};
        {ok, Other} -> {error, {unexpected, Other}};
        {error, _} = E -> E
    end.

%% @doc Runs a function declaration with `this' = the element and JSON arguments; its value.
-spec on_element(page(), binary(), binary(), [term()]) -> {ok, term()} | {error, term()}.
on_element(P, ObjectId, Fun, Args) ->
    case call(P, <<"Runtime.callFunctionOn">>,
              #{<<"objectId">> => ObjectId, <<"functionDeclaration">> => Fun, <<"awaitPromise">> => true,
                <<"returnByValue">> => true, <<"arguments">> => [#{<<"value">> => A} || A <- Args]}) of
        {ok, #{<<"exceptionDetails">> := Ex}} -> {error, {js_exception, exception_text(Ex)}};
        {ok, #{<<"result">> := R}} -> {ok, maps:get(<<"value">>, R, undefined)};
        {error, _} = E -> E
    end.

%% @doc Releases the element handles of this step.
-spec release(page()) -> ok.
release(P) ->
    _ = call(P, <<"Runtime.releaseObjectGroup">>, #{<<"objectGroup">> => ?GROUP}),
    ok.

%% @doc Scrolls the element into view and returns the centre of its first content quad.
-spec centre(page(), binary()) -> {ok, {number(), number()}} | {error, term()}.
centre(P, ObjectId) ->
    maybe_ok(call(P, <<"DOM.scrollIntoViewIfNeeded">>, #{<<"objectId">> => ObjectId}),
             fun() ->
                 case call(P, <<"DOM.getContentQuads">>, #{<<"objectId">> => ObjectId}) of
                     {ok, #{<<"quads">> := [[X1, Y1, X2, Y2, X3, Y3, X4, Y4] | _]}} ->
                         {ok, {(X1 + X2 + X3 + X4) / 4, (Y1 + Y2 + Y3 + Y4) / 4}};
                     {ok, _} -> {error, no_content_quads};
                     {error, _} = E -> E
                 end
             end).

%% @doc Moves the mouse to the element's centre, presses and releases the left button.
-spec click_at(page(), binary()) -> ok | {error, term()}.
click_at(P, ObjectId) ->
    case centre(P, ObjectId) of
        {ok, XY} ->
            seq([fun() -> mouse(P, <<"mouseMoved">>, XY, #{}) end,
                 fun() -> mouse(P, <<"mousePressed">>, XY, #{<<"button">> => <<"left">>, <<"clickCount">> => 1}) end,
                 fun() -> mouse(P, <<"mouseReleased">>, XY, #{<<"button">> => <<"left">>, <<"clickCount">> => 1}) end]);
        {error, _} = E -> E
    end.

%% @doc Moves the mouse to the element's centre (hover).
-spec move_to(page(), binary()) -> {ok, {number(), number()}} | {error, term()}.
move_to(P, ObjectId) ->
    case centre(P, ObjectId) of
        {ok, XY} -> maybe_ok(mouse(P, <<"mouseMoved">>, XY, #{}), fun() -> {ok, XY} end);
        {error, _} = E -> E
    end.

%% @doc One `Input.dispatchMouseEvent'.
-spec mouse(page(), binary(), {number(), number()}, map()) -> ok | {error, term()}.
mouse(P, Type, {X, Y}, Extra) ->
    ok_of(call(P, <<"Input.dispatchMouseEvent">>, Extra#{<<"type">> => Type, <<"x">> => X, <<"y">> => Y})).

%% @doc Presses a key (see {@link live_load_browser_keys}) on the focused element.
-spec key(page(), binary()) -> ok | {error, term()}.
key(P, Key) ->
    case live_load_browser_keys:events(Key) of
        {ok, Events} ->
            seq([fun() -> ok_of(call(P, <<"Input.dispatchKeyEvent">>, E)) end || E <- Events]);
        {error, _} = E -> E
    end.

%% @doc Types text into the focused element as trusted input (beforeinput + input, no key events).
-spec insert_text(page(), binary()) -> ok | {error, term()}.
insert_text(P, Text) ->
    ok_of(call(P, <<"Input.insertText">>, #{<<"text">> => Text})).

%% @doc Runs the steps in order until one returns an error (returned) or all return ok.
-spec seq([fun(() -> ok | {error, term()})]) -> ok | {error, term()}.
seq([]) -> ok;
seq([F | Fs]) ->
    case F() of
        ok -> seq(Fs);
        {error, _} = E -> E
    end.

maybe_ok({ok, _}, Next) -> Next();
maybe_ok(ok, Next) -> Next();
maybe_ok({error, _} = E, _) -> E.

ok_of({ok, _}) -> ok;
ok_of({error, _} = E) -> E.

exception_text(#{<<"exception">> := #{<<"description">> := D}}) when is_binary(D) -> D;
exception_text(#{<<"text">> := T}) when is_binary(T) -> T;
exception_text(_) -> <<"exception">>.
