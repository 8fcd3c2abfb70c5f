%% @doc The connection behaviour: what a scenario context needs from a backend, at the level of
%% the context's actions (navigate, click, fill, wait for LiveView...), not of a wire protocol.
%%
%% Two backends ship with live_load: `browser' (`live_load_browser_actions': headless Chromium
%% through the C port, CDP plus JavaScript in the page) and `protocol' (the C LiveView client of
%% `src/protocol/', no browser). A context picks one with its `connection' option; the run option
%% `connection' (or `users => #{browser => N, protocol => M}') picks it per user.
%%
%% A backend process (`start_link/1') serves many users. Events for a user go to the user's owner as
%% `{live_load_event, User, Event :: map()}' (`User' is the term `new_user/2' returned); the shapes
%% are documented in guides/interfaces.md and turned into metrics by {@link live_load_emit}, which
%% adds the `connection' dimension. Every action gets a deadline (monotonic ms) and answers
%% `{error, timeout}' past it; an action a backend cannot do answers
%% `{error, {unsupported_by_connection, Kind, Function}}'.
%%
%% Optional callbacks: `new_user/1' (a user on the node's shared backend process, started on first
%% use: the browser pool) and `kind/0' (`browser' | `protocol', default `browser').
-module(live_load_connection).

-export([resolve/1]).
-export([kinds/0]).
-export([unsupported/2]).
-export([user_kind/2]).
-export([kind_index/3]).

-type user() :: term().
-type kind() :: browser | protocol.
-type state() :: attached | visible | hidden | detached.
-type loading_type() :: click | change | submit | keydown | keyup | blur | focus | hook.
-type action() :: {navigate, binary()}
                | reload
                | {click, binary()}
                | {fill, binary(), binary()}
                | {clear, binary()}
                | {press, binary(), binary()}
                | {check, binary()}
                | {uncheck, binary()}
                | {select_options, binary(), [binary()]}
                | {focus, binary()}
                | {blur, binary()}
                | {hover, binary()}
                | {drag_and_drop, binary(), binary()}
                | {wait_for_selector, binary(), #{state := state()}}
                | wait_for_liveview
                | ensure_liveview
                | {wait_for_loading, loading_type(), binary()}
                | {submit_form, binary()}
                | page_content
                | {inner_html, binary()}
                | {inner_text, binary()}
                | {text_content, binary()}
                | {input_value, binary()}
                | {get_attribute, binary(), binary()}
                | {visible, binary()}
                | {checked, binary()}
                | storage_snapshot
                | {restore_storage, map()}
                | reset_storage.
-type result() :: ok | {ok, term()} | {error, term()}.
-export_type([user/0, kind/0, action/0, result/0, state/0, loading_type/0]).

-callback start_link(Opts :: map()) -> {ok, pid()} | {error, term()}.
%% UserOpts: owner => pid() (events go to it), user_id, mode, timeout (ms), base_url (optional),
%% network (browser: capture HTTP and WebSocket events).
-callback new_user(Conn :: pid(), UserOpts :: map()) -> {ok, user()} | {error, term()}.
-callback new_user(UserOpts :: map()) -> {ok, user()} | {error, term()}.
-callback close_user(user()) -> ok.
-callback user_count(Conn :: pid()) -> non_neg_integer().
-callback action(user(), action(), Deadline :: integer()) -> result().
-callback kind() -> kind().
-optional_callbacks([new_user/1, kind/0]).

-define(PROTOCOL_MODULE, live_load_protocol).

%% @doc The backend module and kind for a `connection' value: `browser', `protocol', or a module
%% implementing this behaviour.
-spec resolve(term()) -> {ok, module(), kind()} | {error, {invalid_option, connection, term()}}.
resolve(browser) ->
    {module, _} = code:ensure_loaded(live_load_browser_actions),
    {ok, live_load_browser_actions, browser};
resolve(protocol) ->
    case implements(?PROTOCOL_MODULE) of
        true -> {ok, ?PROTOCOL_MODULE, protocol};
        false -> {error, {invalid_option, connection, protocol}}
    end;
resolve(Mod) when is_atom(Mod), Mod =/= undefined ->
    case implements(Mod) of
        true -> {ok, Mod, kind_of(Mod)};
        false -> {error, {invalid_option, connection, Mod}}
    end;
resolve(Other) ->
    {error, {invalid_option, connection, Other}}.

implements(Mod) ->
    code:ensure_loaded(Mod) =:= {module, Mod} andalso erlang:function_exported(Mod, action, 3)
        andalso erlang:function_exported(Mod, new_user, 2).

kind_of(Mod) ->
    case erlang:function_exported(Mod, kind, 0) andalso Mod:kind() of
        protocol -> protocol;
        _ -> browser
    end.

%% @doc The connection kinds a run can use.
-spec kinds() -> [kind()].
kinds() -> [browser, protocol].

%% @doc The connection kind of user `Id' (1-based) in a run with these counts per kind: the
%% browser users are spread evenly over the ids (user Id is a browser user when
%% `Id * B div N' steps up at Id), so both kinds start throughout the ramp and exactly `B' of the
%% ids `1..N' are browser users.
-spec user_kind(pos_integer(), #{browser := non_neg_integer(), protocol := non_neg_integer()}) -> kind().
user_kind(Id, #{browser := B, protocol := P}) ->
    N = max(1, B + P),
    case (Id * B) div N > ((Id - 1) * B) div N of
        true -> browser;
        false -> protocol
    end.

%% @doc How many users of `Kind' the ids `1..Id' hold (user `Id''s 1-based index among its kind
%% when it is of that kind): a browser user's browser is chosen round robin with it.
-spec kind_index(pos_integer(), kind(), #{browser := non_neg_integer(), protocol := non_neg_integer()}) ->
          non_neg_integer().
kind_index(Id, browser, #{browser := B, protocol := P}) -> (Id * B) div max(1, B + P);
kind_index(Id, protocol, Kinds) -> Id - kind_index(Id, browser, Kinds).

%% @doc The error of an action a backend of `Kind' cannot do (`Function' is the context function).
-spec unsupported(kind(), atom()) -> {error, {unsupported_by_connection, kind(), atom()}}.
unsupported(Kind, Function) ->
    {error, {unsupported_by_connection, Kind, Function}}.
