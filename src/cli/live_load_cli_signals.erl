%% @doc SIGTERM in the command line's VM interrupts the run instead of stopping the VM at once:
%% the first SIGTERM calls `live_load:stop/0' (users stopped, browsers closed, cluster torn
%% down, the partial result written with `run.interrupted => true'); a second one halts the
%% VM with status 143. `bin/live_load' turns Ctrl-C (SIGINT, which the VM started with `+Bi'
%% ignores) into a SIGTERM to the VM.
-module(live_load_cli_signals).
-behaviour(gen_event).

-export([install/0]).
-export([init/1, handle_event/2, handle_call/2, handle_info/2]).

%% @doc Replaces OTP's default SIGTERM handler (`init:stop/0') with this one.
-spec install() -> ok.
install() ->
    ok = os:set_signal(sigterm, handle),
    case gen_event:swap_handler(erl_signal_server, {erl_signal_handler, []}, {?MODULE, []}) of
        ok -> ok;
        {error, _} -> ok = gen_event:add_handler(erl_signal_server, ?MODULE, [])
    end.

%% @private
-spec init(term()) -> {ok, non_neg_integer()}.
init(_) ->
    {ok, 0}.

%% @private
-spec handle_event(term(), non_neg_integer()) -> {ok, non_neg_integer()}.
handle_event(sigterm, 0) ->
    io:format(standard_error, "~nlive_load: interrupted, stopping the users (again to quit at once)~n", []),
    spawn(fun live_load:stop/0),
    {ok, 1};
handle_event(sigterm, _) ->
    erlang:halt(143);
handle_event(_Signal, N) ->
    {ok, N}.

%% @private
-spec handle_call(term(), non_neg_integer()) -> {ok, ok, non_neg_integer()}.
handle_call(_Request, N) ->
    {ok, ok, N}.

%% @private
-spec handle_info(term(), non_neg_integer()) -> {ok, non_neg_integer()}.
handle_info(_Info, N) ->
    {ok, N}.
