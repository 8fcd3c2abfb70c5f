%% @doc The connection behaviour: what the scenario context needs from a browser backend.
%%
%% `live_load_browser' (the C port driving Chromium over CDP) is the implementation shipped with
%% live_load; another backend (a remote browser farm, a different engine) implements these
%% callbacks and is selected with the pool option `connection => Module'.
%%
%% A user is an opaque term returned by `new_user/2'; events for it are sent to its owner as
%% `{live_load_event, User, Event :: map()}' (shapes in `guides/browser.md').
-module(live_load_browser_connection).

-type user() :: term().
-type call_result() :: {ok, map()}
                     | {error, {cdp, integer(), binary()}}
                     | {error, browser_down}
                     | {error, timeout}
                     | {error, term()}.
-export_type([user/0, call_result/0]).

-callback start_link(Opts :: map()) -> {ok, pid()} | {error, term()}.
-callback new_user(Conn :: pid(), UserOpts :: map()) -> {ok, user()} | {error, term()}.
-callback call(user(), Method :: binary(), Params :: map(), Timeout :: timeout()) -> call_result().
-callback call_browser(user(), Method :: binary(), Params :: map(), Timeout :: timeout()) -> call_result().
-callback close_user(user()) -> ok.
%% Several commands sent at once, results in order; without it they are sent one after another.
-callback calls(user(), [{Method :: binary(), Params :: map()}], Timeout :: timeout()) -> [call_result()].
%% Live users by mode; without it the pool counts every user as faithful.
-callback users_by_mode(Conn :: pid()) -> #{faithful := non_neg_integer(), fast := non_neg_integer()}.
-optional_callbacks([calls/3, users_by_mode/1]).
-callback user_count(Conn :: pid()) -> non_neg_integer().
