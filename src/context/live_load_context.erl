%% @doc The scenario context: an immutable value threaded through scenario code, Plug.Conn style.
%%
%% ```
%% run(Ctx, _UserId, _Config) ->
%%     C1 = live_load_context:navigate(Ctx, <<"http://127.0.0.1:4000/counter">>),
%%     C2 = live_load_context:wait_for_liveview(C1),
%%     C3 = live_load_context:click(C2, <<"#inc">>),
%%     live_load_context:wait_for_phx_loading_completion(C3, click, <<"#inc">>).
%% '''
%% Every page function is a step: it gets the step number, runs within the step timeout
%% (option `timeout', default 30 s: the action's deadline) and on failure stores
%% `#{step, op, selector, reason}' on the context ({@link error/1}); once a step failed or the
%% context was halted, later steps are skipped. What a step does on the page is one action of
%% the context's connection ({@link live_load_connection}: `browser', headless Chromium, or
%% `protocol', the C LiveView client); an action the connection cannot do fails the step with
%% `{unsupported_by_connection, Kind, Function}'. Selectors, URLs and values may be 1-arity funs of the context. Extraction functions
%% return the value (or `{error, Reason}'), or with `#{as => Key}' the context with the value
%% assigned. Assigns persist across iterations ({@link reset/1} clears only error and halt).
%% Connection events (LiveView timings, HTTP, WebSocket) are recorded into `live_load_metrics'
%% at every step by {@link live_load_emit}, with the dimension `connection'; guides/context.md and
%% guides/events.md have the details.
-module(live_load_context).

-include("live_load_context.hrl").

%% lifecycle
-export([new/1]).
-export([close/1]).
-export([reset/1]).
-export([set_timeout/2]).
%% navigation
-export([navigate/2]).
-export([reload/1]).
%% interaction
-export([click/2]).
-export([fill/3]).
-export([clear/2]).
-export([press/3]).
-export([check/2]).
-export([uncheck/2]).
-export([select_option/3]).
-export([select_multiple_options/3]).
-export([focus/2]).
-export([blur/2]).
-export([hover/2]).
-export([drag_and_drop/3]).
-export([wait_for_selector/2]).
%% LiveView
-export([ensure_liveview/1]).
-export([wait_for_liveview/1]).
-export([wait_for_phx_loading_completion/3]).
-export([submit_form/2]).
%% extraction
-export([page_content/2]).
-export([inner_html/3]).
-export([inner_text/3]).
-export([text_content/3]).
-export([input_value/3]).
-export([get_attribute/4]).
-export([visible/3]).
-export([is_visible/3]).
-export([checked/3]).
-export([is_checked/3]).
%% assigns
-export([assign/3]).
-export([assigns/1]).
-export([reset_assigns/1]).
-export([clear_assign/2]).
-export([update_assign/3]).
%% data
-export([data/1]).
-export([set_data/2]).
%% flow
-export([halt/1]).
-export([fail/2]).
-export([halted/1]).
-export([is_halted/1]).
-export([failed/1]).
-export([is_failed/1]).
-export([error/1]).
-export([format_error/1]).
-export([throttle/2]).
%% storage
-export([context_storage_snapshot/2]).
-export([restore_context_storage/2]).
-export([reset_context_storage/1]).

-opaque t() :: #llctx{}.
-type value(T) :: T | fun((t()) -> T).
-type selector() :: value(binary() | string()).
-type kind() :: click | change | submit | keydown | keyup | focus | blur | hook.
-type error_info() :: #{step := non_neg_integer(), op := atom(), selector := binary() | undefined,
                        reason := term()}.
-type extract_opts() :: #{as => term() | fun((term()) -> map())}.
-export_type([t/0, selector/0, kind/0, error_info/0]).

-define(KINDS, [click, change, submit, keydown, keyup, focus, blur, hook]).

%% ================================================================ lifecycle

%% @doc A context. Options: `connection' (`browser', default; `protocol'; or a module implementing
%% {@link live_load_connection}), `server' (alias `browser': the backend process to open the user
%% on; `undefined' for a context without a page; absent: a user from the node's shared backend -
%% for `browser' the pool, starting the live_load application and a browser on first use),
%% `mode' (`faithful' | `fast'), `network' (capture HTTP and WebSocket events, default true),
%% `timeout' (ms per step, default 30000), `assigns' (initial map), `user_id', `base_url'. The
%% calling process owns the user: its events come to it.
-spec new(map()) -> {ok, t()} | {error, term()}.
new(Opts) when is_map(Opts) ->
    case live_load_context_opts:validate(Opts) of
        {ok, V} ->
            Ctx = #llctx{conn = maps:get(connection, V), kind = maps:get(kind, V), mode = maps:get(mode, V),
                         network = maps:get(network, V), timeout = maps:get(timeout, V),
                         assigns = maps:get(assigns, V), user_id = maps:get(user_id, V, undefined),
                         base_url = maps:get(base_url, V, undefined)},
            case maps:find(server, V) of
                error -> source(Ctx, maps:find(browser, V));
                Found -> source(Ctx, Found)
            end;
        {error, _} = E -> E
    end;
new(Opts) ->
    {error, {invalid_option, options, Opts}}.

source(Ctx, {ok, undefined}) -> {ok, Ctx#llctx{source = none}};
source(Ctx, {ok, Pid}) -> open_user(Ctx#llctx{source = Pid});
source(Ctx, error) -> open_user(Ctx#llctx{source = pool, own = true}).

open_user(#llctx{conn = Conn} = Ctx) ->
    live_load_emit:declare(),
    UserOpts = maps:merge(#{owner => self(), mode => Ctx#llctx.mode, network => Ctx#llctx.network,
                            timeout => Ctx#llctx.timeout, user_id => Ctx#llctx.user_id},
                          case Ctx#llctx.base_url of undefined -> #{}; B -> #{base_url => B} end),
    Result = case Ctx#llctx.source of
                 pool ->
                     case erlang:function_exported(Conn, new_user, 1) of
                         true ->
                             case application:ensure_all_started(live_load) of
                                 {ok, _} -> Conn:new_user(UserOpts);
                                 {error, _} = E -> E
                             end;
                         false -> {error, {missing_option, server}}
                     end;
                 Pid -> Conn:new_user(Pid, UserOpts)
             end,
    case Result of
        {ok, User} -> {ok, Ctx#llctx{user = User, down = false}};
        {error, _} = Err -> Err
    end.

%% @doc Releases the context's user (a browser user's BrowserContext is disposed). Events already
%% received are recorded first.
-spec close(t()) -> ok.
close(#llctx{user = undefined}) ->
    ok;
close(#llctx{conn = Conn, kind = Kind, user = User}) ->
    _ = live_load_context_events:drain(Kind, User),
    Conn:close_user(User),
    _ = live_load_context_events:drain(Kind, User),
    ok.

%% @doc The context for the next iteration: error, halt and step counter cleared, assigns kept.
%% When the backend went away under the user, a fresh user is opened (on the restarted backend or
%% from the pool); if that fails, the context carries the error.
-spec reset(t()) -> t().
reset(#llctx{down = true, source = Source} = Ctx) when Source =/= none ->
    Clean = Ctx#llctx{error = undefined, halted = false, step = 0},
    _ = live_load_context_events:drain(Ctx#llctx.kind, Ctx#llctx.user),
    case open_user(Clean) of
        {ok, Fresh} -> Fresh;
        {error, Reason} -> Clean#llctx{error = #{step => 0, op => new_user, selector => undefined, reason => Reason}}
    end;
reset(#llctx{} = Ctx) ->
    Ctx#llctx{error = undefined, halted = false, step = 0}.

%% @doc Sets the step timeout (ms).
-spec set_timeout(t(), pos_integer()) -> t().
set_timeout(Ctx, Ms) when is_integer(Ms), Ms > 0 -> Ctx#llctx{timeout = Ms};
set_timeout(_Ctx, Ms) -> erlang:error({invalid_option, timeout, Ms}).

%% ================================================================ navigation

%% @doc Opens a URL and waits for its `load' event. Errors: `{navigation_error, Url, Text}' for a
%% refused connection, an unknown host or an HTTP status >= 400.
-spec navigate(t(), value(binary() | string())) -> t().
navigate(Ctx, Url) -> step(Ctx, navigate, {url, Url}, fun(U) -> {navigate, U} end).

%% @doc Reloads the page and waits for its `load' event.
-spec reload(t()) -> t().
reload(Ctx) -> step(Ctx, reload, none, fun(_) -> reload end).

%% ================================================================ interaction

%% @doc Clicks the element: waits until it is visible, enabled and stable, scrolls it into view and
%% sends real mouse events to its centre (`fast' mode: a click dispatched in the page).
-spec click(t(), selector()) -> t().
click(Ctx, Sel) -> act(Ctx, click, Sel, fun(S) -> {click, S} end).

%% @doc Replaces the field's value as typing would (trusted `Input.insertText'); date, range and
%% similar inputs get the value with input and change events.
-spec fill(t(), selector(), value(binary() | string() | number())) -> t().
fill(Ctx, Sel, Value) -> act(Ctx, fill, Sel, fun(S) -> {fill, S, text(resolve(Value, Ctx), value)} end).

%% @doc Empties the field (select all + Delete).
-spec clear(t(), selector()) -> t().
clear(Ctx, Sel) -> act(Ctx, clear, Sel, fun(S) -> {clear, S} end).

%% @doc Focuses the element and presses a key (`Enter', `Tab', `a', `Shift+Tab'...: see
%% `live_load_browser_keys').
-spec press(t(), selector(), value(binary() | string())) -> t().
press(Ctx, Sel, Key) -> act(Ctx, press, Sel, fun(S) -> {press, S, text(resolve(Key, Ctx), key)} end).

%% @doc Clicks a checkbox or radio button if it is not checked, then verifies it is.
-spec check(t(), selector()) -> t().
check(Ctx, Sel) -> act(Ctx, check, Sel, fun(S) -> {check, S} end).

%% @doc Clicks a checkbox if it is checked, then verifies it is not.
-spec uncheck(t(), selector()) -> t().
uncheck(Ctx, Sel) -> act(Ctx, uncheck, Sel, fun(S) -> {uncheck, S} end).

%% @doc Selects the option with this value (or label) of a `<select>', with input + change events.
-spec select_option(t(), selector(), value(binary() | string())) -> t().
select_option(Ctx, Sel, Value) ->
    act(Ctx, select_option, Sel, fun(S) -> {select_options, S, [text(resolve(Value, Ctx), value)]} end).

%% @doc Selects exactly these options of a `<select multiple>'.
-spec select_multiple_options(t(), selector(), value([binary() | string()])) -> t().
select_multiple_options(Ctx, Sel, Values) ->
    act(Ctx, select_multiple_options, Sel,
        fun(S) ->
                Vs = case resolve(Values, Ctx) of
                         L when is_list(L), L =/= [], not is_integer(hd(L)) -> [text(V, values) || V <- L];
                         Other -> erlang:error({invalid_option, values, Other})
                     end,
                {select_options, S, Vs}
        end).

%% @doc Focuses the element.
-spec focus(t(), selector()) -> t().
focus(Ctx, Sel) -> act(Ctx, focus, Sel, fun(S) -> {focus, S} end).

%% @doc Removes focus from the element.
-spec blur(t(), selector()) -> t().
blur(Ctx, Sel) -> act(Ctx, blur, Sel, fun(S) -> {blur, S} end).

%% @doc Moves the mouse over the element's centre.
-spec hover(t(), selector()) -> t().
hover(Ctx, Sel) -> act(Ctx, hover, Sel, fun(S) -> {hover, S} end).

%% @doc Presses the mouse on the source's centre, moves it in steps to the target's centre and
%% releases it (pointer and mouse events as a person makes them).
-spec drag_and_drop(t(), selector(), selector()) -> t().
drag_and_drop(Ctx, Source, Target) ->
    act(Ctx, drag_and_drop, Source, fun(S) -> {drag_and_drop, S, sel(resolve(Target, Ctx))} end).

%% @doc Waits until the selector matches a visible element.
-spec wait_for_selector(t(), selector()) -> t().
wait_for_selector(Ctx, Sel) ->
    act(Ctx, wait_for_selector, Sel, fun(S) -> {wait_for_selector, S, #{state => visible}} end).

%% ================================================================ LiveView

%% @doc Fails with `not_liveview' unless the page has a LiveView root, then waits until it is connected.
-spec ensure_liveview(t()) -> t().
ensure_liveview(Ctx) -> step(Ctx, ensure_liveview, none, fun(_) -> ensure_liveview end).

%% @doc Waits until every LiveView root of the page is connected (joined); `not_liveview' as soon as
%% the loaded page has no LiveView root.
-spec wait_for_liveview(t()) -> t().
wait_for_liveview(Ctx) -> step(Ctx, wait_for_liveview, none, fun(_) -> wait_for_liveview end).

%% @doc Waits until the push of `Kind' triggered on the element has been answered and its patch
%% applied; the round trip measured is recorded as `liveview.event'.
-spec wait_for_phx_loading_completion(t(), kind() | binary(), selector()) -> t().
wait_for_phx_loading_completion(Ctx, Kind, Sel) ->
    Arg = try kind(Kind) of _ -> {sel, Sel} catch error:Bad -> {bad, Bad} end,
    step(Ctx, wait_for_phx_loading_completion, Arg, fun(S) -> {wait_for_loading, kind(Kind), S} end).

%% @doc Clicks the form's submit button (or submits it when it has none) and waits for the
%% submit push to complete.
-spec submit_form(t(), selector()) -> t().
submit_form(Ctx, Sel) -> act(Ctx, submit_form, Sel, fun(S) -> {submit_form, S} end).

%% ================================================================ extraction

%% @doc The page's HTML.
-spec page_content(t(), extract_opts()) -> term().
page_content(Ctx, Opts) -> extract(Ctx, page_content, none, Opts, fun(_) -> page_content end).

%% @doc The element's `innerHTML'.
-spec inner_html(t(), selector(), extract_opts()) -> term().
inner_html(Ctx, Sel, Opts) -> read(Ctx, inner_html, Sel, Opts).

%% @doc The element's `innerText' (rendered text).
-spec inner_text(t(), selector(), extract_opts()) -> term().
inner_text(Ctx, Sel, Opts) -> read(Ctx, inner_text, Sel, Opts).

%% @doc The element's `textContent'.
-spec text_content(t(), selector(), extract_opts()) -> term().
text_content(Ctx, Sel, Opts) -> read(Ctx, text_content, Sel, Opts).

%% @doc The value of an input, textarea or select.
-spec input_value(t(), selector(), extract_opts()) -> term().
input_value(Ctx, Sel, Opts) -> read(Ctx, input_value, Sel, Opts).

%% @doc An attribute of the element, or `undefined' when it has none.
-spec get_attribute(t(), selector(), value(binary() | string()), extract_opts()) -> term().
get_attribute(Ctx, Sel, Name, Opts) ->
    extract(Ctx, get_attribute, {sel, Sel}, Opts, fun(S) -> {get_attribute, S, text(resolve(Name, Ctx), name)} end).

%% @doc Whether the selector matches a visible element now (no waiting).
-spec visible(t(), selector(), extract_opts()) -> term().
visible(Ctx, Sel, Opts) -> read(Ctx, visible, Sel, Opts).

%% @doc Same as {@link visible/3}.
-spec is_visible(t(), selector(), extract_opts()) -> term().
is_visible(Ctx, Sel, Opts) -> visible(Ctx, Sel, Opts).

%% @doc Whether the checkbox or radio button is checked.
-spec checked(t(), selector(), extract_opts()) -> term().
checked(Ctx, Sel, Opts) -> read(Ctx, checked, Sel, Opts).

%% @doc Same as {@link checked/3}.
-spec is_checked(t(), selector(), extract_opts()) -> term().
is_checked(Ctx, Sel, Opts) -> checked(Ctx, Sel, Opts).

read(Ctx, Op, Sel, Opts) -> extract(Ctx, Op, {sel, Sel}, Opts, fun(S) -> {Op, S} end).

%% ================================================================ assigns

%% @doc Stores a value under a key.
-spec assign(t(), term(), term()) -> t().
assign(#llctx{assigns = A} = Ctx, Key, Value) -> Ctx#llctx{assigns = A#{Key => Value}}.

%% @doc The assigns map.
-spec assigns(t()) -> map().
assigns(#llctx{assigns = A}) -> A.

%% @doc Removes every assign.
-spec reset_assigns(t()) -> t().
reset_assigns(Ctx) -> Ctx#llctx{assigns = #{}}.

%% @doc Removes one assign.
-spec clear_assign(t(), term()) -> t().
clear_assign(#llctx{assigns = A} = Ctx, Key) -> Ctx#llctx{assigns = maps:remove(Key, A)}.

%% @doc Replaces an assign with `Fun(Old)' (`Fun(undefined)' when absent).
-spec update_assign(t(), term(), fun((term()) -> term())) -> t().
update_assign(#llctx{assigns = A} = Ctx, Key, Fun) when is_function(Fun, 1) ->
    Ctx#llctx{assigns = A#{Key => Fun(maps:get(Key, A, undefined))}}.

%% ================================================================ data

%% @doc This iteration's data row (a map with binary keys) from the run's `data' option, or
%% `undefined' when the run has none. See `guides/scenarios.md' (per-user data).
-spec data(t()) -> map() | undefined.
data(#llctx{data = D}) -> D.

%% @doc Puts the iteration's row on the context (the runner does it before `run/3').
-spec set_data(t(), map() | undefined) -> t().
set_data(#llctx{} = Ctx, Row) when is_map(Row); Row =:= undefined -> Ctx#llctx{data = Row}.

%% ================================================================ flow

%% @doc Ends the user's run cleanly: later steps are skipped and the iteration counts as halted.
%% No effect on a failed context.
-spec halt(t()) -> t().
halt(#llctx{error = undefined} = Ctx) -> Ctx#llctx{halted = true};
halt(Ctx) -> Ctx.

%% @doc Marks the context failed with `Reason' (kept when it has already failed).
-spec fail(t(), term()) -> t().
fail(#llctx{error = undefined, step = N} = Ctx, Reason) ->
    Ctx#llctx{error = #{step => N, op => fail, selector => undefined, reason => Reason}};
fail(Ctx, _Reason) -> Ctx.

-spec halted(t()) -> boolean().
halted(#llctx{halted = H}) -> H.

-spec is_halted(t()) -> boolean().
is_halted(Ctx) -> halted(Ctx).

-spec failed(t()) -> boolean().
failed(#llctx{error = E}) -> E =/= undefined.

-spec is_failed(t()) -> boolean().
is_failed(Ctx) -> failed(Ctx).

%% @doc The recorded failure `#{step, op, selector, reason}', or `undefined'.
-spec error(t()) -> error_info() | undefined.
error(#llctx{error = E}) -> E.

%% @doc "Step 3: click(#inc) failed: {selector_timeout,<<\"#inc\">>}".
-spec format_error(error_info()) -> binary().
format_error(#{step := N, op := Op, selector := Sel, reason := R}) ->
    Arg = case Sel of undefined -> <<>>; _ -> Sel end,
    iolist_to_binary(io_lib:format("Step ~b: ~s(~ts) failed: ~0tp", [N, Op, Arg, R])).

%% @doc Waits for a pass of the named throttle (see `live_load_throttle'); an unknown throttle
%% fails the context.
-spec throttle(t(), atom() | binary()) -> t().
throttle(Ctx, Name) ->
    step(Ctx, throttle, none, fun(_) -> {local, fun() -> throttle_wait(Name) end} end).

%% live_load_throttle belongs to the runner area; it is called only when loaded, so a context
%% works (and xref stays clean) in builds without it.
throttle_wait(Name) ->
    Mod = live_load_throttle,
    case code:ensure_loaded(Mod) =:= {module, Mod} andalso erlang:function_exported(Mod, wait, 1) of
        true ->
            case Mod:wait(Name) of
                ok -> ok;
                {error, _} = E -> E
            end;
        false -> {error, {unknown_throttle, Name}}
    end.


%% ================================================================ storage

%% @doc Cookies of the user's browser context and the localStorage of the current page's origin,
%% in Playwright's storageState shape: `#{<<"cookies">> => [..], <<"origins">> => [#{<<"origin">>,
%% <<"localStorage">> => [#{<<"name">>, <<"value">>}]}]}'.
-spec context_storage_snapshot(t(), extract_opts()) -> term().
context_storage_snapshot(Ctx, Opts) ->
    extract(Ctx, context_storage_snapshot, none, Opts, fun(_) -> storage_snapshot end).

%% @doc Restores a snapshot: cookies now, localStorage when a page of that origin loads (and now
%% if the current page is of that origin).
-spec restore_context_storage(t(), value(map())) -> t().
restore_context_storage(Ctx, Snapshot) ->
    step(Ctx, restore_context_storage, none, fun(_) -> {restore_storage, resolve(Snapshot, Ctx)} end).

%% @doc Clears cookies, the current origin's localStorage and sessionStorage, and drops restores
%% still pending.
-spec reset_context_storage(t()) -> t().
reset_context_storage(Ctx) ->
    step(Ctx, reset_context_storage, none, fun(_) -> reset_storage end).

%% ================================================================ steps

act(Ctx, Op, Sel, Build) -> step(Ctx, Op, {sel, Sel}, Build).

%% A step whose value is discarded: the context, with the error recorded on failure.
step(Ctx, Op, Arg, Build) ->
    {_, C} = do(Ctx, Op, Arg, Build),
    C.

%% An extraction step: the value, or the context with the value assigned when `as' is given.
extract(Ctx, Op, Arg, Opts, Build) ->
    As = case Opts of
             #{as := A} when map_size(Opts) =:= 1 -> {as, A};
             M when map_size(M) =:= 0 -> none;
             _ -> erlang:error({invalid_option, options, Opts})
         end,
    case {do(Ctx, Op, Arg, Build), As} of
        {{{ok, V}, _C}, none} -> V;
        {{{ok, V}, C}, {as, F}} when is_function(F, 1) -> C#llctx{assigns = maps:merge(C#llctx.assigns, F(V))};
        {{{ok, V}, C}, {as, Key}} -> assign(C, Key, V);
        {{skipped, _}, none} -> {error, skipped};
        {{{error, R}, _C}, none} -> {error, R};
        {{_, C}, {as, _}} -> C
    end.

%% Runs one step: skipped after a failure or halt; otherwise numbered, timed, its action bounded by
%% the step timeout (the deadline given to the connection); exceptions become the step's error;
%% connection events are recorded afterwards.
do(#llctx{error = E} = Ctx, _Op, _Arg, _Build) when E =/= undefined -> {skipped, Ctx};
do(#llctx{halted = true} = Ctx, _Op, _Arg, _Build) -> {skipped, Ctx};
do(#llctx{step = N, timeout = T, kind = Kind} = Ctx0, Op, Arg, Build) ->
    Ctx = Ctx0#llctx{step = N + 1},
    T0 = erlang:monotonic_time(microsecond),
    Deadline = erlang:monotonic_time(millisecond) + T,
    {Sel, Result} =
        try
            S = case Arg of
                    {sel, Spec} -> sel(resolve(Spec, Ctx));
                    {url, Spec} -> text(resolve(Spec, Ctx), url);
                    {bad, Invalid} -> erlang:error(Invalid);
                    none -> undefined
                end,
            {S, answer(Op, run(Ctx, Op, Build(S), Deadline))}
        catch
            error:{invalid_option, _, _} = Bad -> {undefined, {error, Bad}};
            Class:Reason -> {undefined, {error, {exception, Class, Reason}}}
        end,
    Down = case Ctx#llctx.user of
               undefined -> ok;
               User ->
                   Ms = (erlang:monotonic_time(microsecond) - T0) / 1000,
                   live_load_emit:step(Kind, atom_to_binary(Op), Ms),
                   live_load_context_events:drain(Kind, User)
           end,
    Ctx1 = case Result =:= {error, browser_down} orelse Down =:= down of
               true -> Ctx#llctx{down = true};
               false -> Ctx
           end,
    case Result of
        {error, Why} -> {Result, Ctx1#llctx{error = #{step => N + 1, op => Op, selector => Sel, reason => Why}}};
        _ -> {Result, Ctx1}
    end.

run(_Ctx, _Op, {local, Fun}, _Deadline) ->
    Fun();
run(#llctx{down = true}, _Op, _Action, _Deadline) ->
    {error, browser_down};
run(#llctx{user = undefined}, _Op, _Action, _Deadline) ->
    {error, no_browser};
run(#llctx{conn = Conn, user = User}, ensure_liveview, ensure_liveview, Deadline) ->
    case Conn:action(User, ensure_liveview, Deadline) of
        {ok, true} -> Conn:action(User, wait_for_liveview, Deadline);
        {ok, false} -> {error, not_liveview};
        Other -> Other
    end;
run(#llctx{conn = Conn, user = User}, _Op, Action, Deadline) ->
    Conn:action(User, Action, Deadline).

%% The context's answer for a connection's: a missing attribute is `undefined'.
answer(get_attribute, {ok, null}) -> {ok, undefined};
answer(_Op, {ok, _} = R) -> R;
answer(_Op, ok) -> ok;
answer(_Op, {error, _} = E) -> E;
answer(Op, Other) -> {error, {bad_connection_answer, Op, Other}}.

resolve(F, Ctx) when is_function(F, 1) -> F(Ctx);
resolve(V, _Ctx) -> V.

sel(S) -> text(S, selector).

text(B, _Name) when is_binary(B) -> B;
text(I, _Name) when is_integer(I) -> integer_to_binary(I);
text(F, _Name) when is_float(F) -> float_to_binary(F, [short]);
text(A, Name) when is_atom(A) -> erlang:error({invalid_option, Name, A});
text(L, Name) ->
    case catch unicode:characters_to_binary(L) of
        B when is_binary(B) -> B;
        _ -> erlang:error({invalid_option, Name, L})
    end.

kind(K) when is_atom(K) ->
    case lists:member(K, ?KINDS) of
        true -> K;
        false -> erlang:error({invalid_option, kind, K})
    end;
kind(K) when is_binary(K) ->
    case [A || A <- ?KINDS, atom_to_binary(A) =:= K] of
        [A] -> A;
        [] -> erlang:error({invalid_option, kind, K})
    end;
kind(K) -> erlang:error({invalid_option, kind, K}).
