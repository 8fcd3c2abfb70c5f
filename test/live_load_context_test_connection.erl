%% A `live_load_connection' backend for the context's pipeline tests: it does no page work, records
%% each action with its deadline in the caller's process dictionary and answers like the protocol
%% backend does for what it cannot do (hover, drag and drop, storage).
-module(live_load_context_test_connection).
-behaviour(live_load_connection).

-export([start_link/1, new_user/2, close_user/1, user_count/1, action/3, kind/0, actions/0]).

-spec start_link(map()) -> {ok, pid()}.
start_link(_Opts) -> {ok, self()}.

-spec new_user(pid(), map()) -> {ok, term()}.
new_user(_Conn, #{owner := Owner}) -> {ok, {test_user, Owner, make_ref()}}.

-spec close_user(term()) -> ok.
close_user(_User) -> ok.

-spec user_count(pid()) -> non_neg_integer().
user_count(_Conn) -> 0.

-spec kind() -> protocol.
kind() -> protocol.

-spec action(term(), live_load_connection:action(), integer()) -> live_load_connection:result().
action(_User, Action, Deadline) ->
    put(?MODULE, [{Action, Deadline} | get_actions()]),
    case Action of
        {hover, _} -> live_load_connection:unsupported(protocol, hover);
        {drag_and_drop, _, _} -> live_load_connection:unsupported(protocol, drag_and_drop);
        {get_attribute, _, <<"missing">>} -> {ok, null};
        {get_attribute, _, _} -> {ok, <<"v">>};
        _ -> ok
    end.

%% The actions seen so far, oldest first.
-spec actions() -> [{live_load_connection:action(), integer()}].
actions() -> lists:reverse(get_actions()).

get_actions() ->
    case get(?MODULE) of
        undefined -> [];
        L -> L
    end.
