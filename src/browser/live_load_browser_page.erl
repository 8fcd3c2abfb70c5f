%% @doc The browser backend's page operations over CDP, each bounded by the action's deadline.
%%
%% A `page()' is the CDP module (`live_load_browser'), the user and the deadline (monotonic ms) of
%% the current action; every CDP call gets the time left. Interaction follows what a person does: the element
%% must be visible, enabled and stable (checked in the page each animation frame), it is scrolled
%% into view if needed, and real mouse events go to the centre of its first box. Keys are
%% `Input.dispatchKeyEvent', text is `Input.insertText' (trusted input).
%%
%% Round trips are few: waiting for the element, checking it, scrolling it into view and reading
%% its centre is one `Runtime.evaluate' ({@link on_selector/5}, answered by value: no remote object
%% to release), and the events of one gesture (mouse moved + pressed + released, a key's down and
%% up) are sent together ({@link gesture/2}) when the connection can pipeline (`calls/3').
-module(live_load_browser_page).

-export([new/4]).
-export([call/3]).
-export([call_browser/3]).
-export([eval/2]).
-export([on_selector/5]).
-export([click_at/2]).
-export([mouse/4]).
-export([gesture/2]).
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

%% What a frame lasts in a page that draws none (fast mode: hidden target), for the stability check.
-define(FAST_FRAME_MS, 16).

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

%% @doc The commands of one gesture, in order: pipelined when the connection can (`calls/3'), one
%% after another otherwise. `ok', or the first error.
-spec gesture(page(), [{binary(), map()}]) -> ok | {error, term()}.
gesture(#page{conn = C, user = U} = P, Cmds) ->
    case erlang:function_exported(C, calls, 3) orelse
             (code:ensure_loaded(C) =:= {module, C} andalso erlang:function_exported(C, calls, 3)) of
        true -> first_error([ok_of(R) || R <- C:calls(U, Cmds, left(P) + 1000)]);
        false -> seq([fun() -> ok_of(call(P, M, Ps)) end || {M, Ps} <- Cmds])
    end.

%% @doc Evaluates an expression in the page's main world, awaiting a promise; the JSON value.
-spec eval(page(), iodata()) -> {ok, term()} | {error, term()}.
eval(P, Expr) ->
    case call(P, <<"Runtime.evaluate">>, #{<<"expression">> => iolist_to_binary(Expr), <<"awaitPromise">> => true,
                                          <<"returnByValue">> => true}) of
        {ok, #{<<"exceptionDetails">> := Ex}} -> {error, {js_exception, exception_text(Ex)}};
        {ok, #{<<"result">> := R}} -> {ok, maps:get(<<"value">>, R, undefined)};
        {error, _} = E -> E
    end.

%% @doc Waits in the page until `Sel' is `Need' (attached | visible | editable | stable), then runs
%% the element function `Fun' (see `live_load_browser_js:element_fun/1') on it with `Args': its
%% value. One round trip.
-spec on_selector(page(), binary(), attached | visible | editable | stable, atom(), [term()]) ->
          {ok, term()} | {error, term()}.
on_selector(P, Sel, Need, Fun, Args) ->
    Frame = case P#page.mode of fast -> #{frame_ms => ?FAST_FRAME_MS}; faithful -> #{} end,
    Expr = live_load_browser_js:on_selector(Sel, Need, Fun, Frame#{timeout => max(1, left(P) - 50), args => Args}),
    case eval(P, Expr) of
        {ok, #{<<"value">> := V}} -> {ok, V};
        {ok, #{<<"error">> := <<"invalid_selector">>}} -> {error, {invalid_selector, Sel}};
        {ok, #{<<"error">> := <<"selector_timeout">>}} -> {error, {selector_timeout, Sel}};
        {ok, #{<<"error">> := Why}} when is_binary(Why) -> {error, {not_actionable, Sel, Why}};
        {ok, #{}} -> {ok, undefined};   % the function returned undefined
        {ok, Other} -> {error, {unexpected, Other}};
        {error, _} = E -> E
    end.

%% @doc Moves the mouse to a point, presses and releases the left button: one gesture.
-spec click_at(page(), {number(), number()}) -> ok | {error, term()}.
click_at(P, XY) ->
    Btn = #{<<"button">> => <<"left">>, <<"clickCount">> => 1},
    gesture(P, [mouse_cmd(<<"mouseMoved">>, XY, #{}), mouse_cmd(<<"mousePressed">>, XY, Btn),
                mouse_cmd(<<"mouseReleased">>, XY, Btn)]).

%% @doc One `Input.dispatchMouseEvent'.
-spec mouse(page(), binary(), {number(), number()}, map()) -> ok | {error, term()}.
mouse(P, Type, XY, Extra) ->
    {M, Ps} = mouse_cmd(Type, XY, Extra),
    ok_of(call(P, M, Ps)).

mouse_cmd(Type, {X, Y}, Extra) ->
    {<<"Input.dispatchMouseEvent">>, Extra#{<<"type">> => Type, <<"x">> => X, <<"y">> => Y}}.

%% @doc Presses a key (see {@link live_load_browser_keys}) on the focused element: one gesture.
-spec key(page(), binary()) -> ok | {error, term()}.
key(P, Key) ->
    case live_load_browser_keys:events(Key) of
        {ok, Events} -> gesture(P, [{<<"Input.dispatchKeyEvent">>, E} || E <- Events]);
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

first_error(Rs) ->
    case [E || {error, _} = E <- Rs] of
        [] -> ok;
        [E | _] -> E
    end.

ok_of({ok, _}) -> ok;
ok_of(ok) -> ok;
ok_of({error, _} = E) -> E.

exception_text(#{<<"exception">> := #{<<"description">> := D}}) when is_binary(D) -> D;
exception_text(#{<<"text">> := T}) when is_binary(T) -> T;
exception_text(_) -> <<"exception">>.
