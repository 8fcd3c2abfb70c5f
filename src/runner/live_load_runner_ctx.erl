%% @doc The runner's only seam with `live_load_context': make a user's context, read how an
%% iteration ended, start the next iteration fresh (error and halt cleared, assigns kept), close it.
-module(live_load_runner_ctx).

-export([new/1]).
-export([outcome/1]).
-export([next_iteration/1]).
-export([before_iteration/3]).
-export([close/1]).
-export([describe/1]).

%% the feeder lives in the process that owns the context (the user's worker)
-define(FEEDER, '$live_load_data_feeder').

-type outcome() :: ok | halted | {failed, live_load_context:error_info() | map()}.
-export_type([outcome/0]).

%% @doc A context for one user, owned by the calling process (browser events come to it).
%% Opts: `browser' (pid or `undefined' for a context without a browser), `user_id', `mode',
%% `data' (the node's `live_load_data' feeder or `undefined'; kept by the calling process for
%% {@link before_iteration/3}).
-spec new(map()) -> {ok, term()} | {error, term()}.
new(Opts) ->
    put(?FEEDER, maps:get(data, Opts, undefined)),
    try live_load_context:new(maps:remove(data, Opts)) of
        {ok, Ctx} ->
            live_load_prometheus:users_changed(1),
            {ok, Ctx};
        {error, Reason} -> {error, Reason}
    catch Class:Reason -> {error, {Class, Reason}}
    end.

%% @doc How the iteration that returned `Ctx' ended.
-spec outcome(term()) -> outcome().
outcome(Ctx) ->
    case live_load_context:error(Ctx) of
        undefined ->
            case live_load_context:halted(Ctx) of
                true -> halted;
                false -> ok
            end;
        Error -> {failed, Error}
    end.

%% @doc The context for the next iteration: error and halt cleared, assigns kept.
-spec next_iteration(term()) -> term().
next_iteration(Ctx) ->
    live_load_context:reset(Ctx).

%% @doc The context handed to iteration `N' (1-based) of user `UserId', just before `run/3':
%% the one place where per-iteration state (a data row, for instance) is put on the context.
%% With a data feeder, the iteration's row goes on the context (`live_load_context:data/1');
%% no row left fails the iteration with `data_exhausted' before `run/3' does anything.
-spec before_iteration(term(), pos_integer(), pos_integer()) -> term().
before_iteration(Ctx, UserId, N) ->
    case get(?FEEDER) of
        undefined -> Ctx;
        Feeder ->
            case live_load_data:row(Feeder, UserId, N) of
                {ok, Row} -> live_load_context:set_data(Ctx, Row);
                {error, Reason} -> live_load_context:fail(Ctx, Reason)
            end
    end.

-spec close(term()) -> ok.
close(Ctx) ->
    try live_load_context:close(Ctx) catch _:_ -> ok end,
    live_load_prometheus:users_changed(-1),
    ok.

%% @doc `{Kind, Message}' binaries describing a failed step, for the error table: the kind is the
%% reason's tag (`navigation_error' for `{navigation_error, Url, Text}'), the message its text
%% (the last binary of the reason, else the reason printed) with the operation and step.
-spec describe(map()) -> {binary(), binary()}.
describe(#{reason := Reason} = Error) ->
    Kind = case Reason of
               K when is_atom(K) -> atom_to_binary(K);
               T when is_tuple(T), tuple_size(T) > 0, is_atom(element(1, T)) -> atom_to_binary(element(1, T));
               _ -> <<"step_error">>
           end,
    Text = case Reason of
               T2 when is_tuple(T2), tuple_size(T2) > 1, is_binary(element(tuple_size(T2), T2)) ->
                   element(tuple_size(T2), T2);
               T3 when is_tuple(T3), tuple_size(T3) =:= 2 -> message(element(2, T3));
               Other -> message(Other)
           end,
    Where = case Error of
                #{op := Op, step := Step} -> io_lib:format(" (~ts, step ~b)", [Op, Step]);
                #{step := Step} -> io_lib:format(" (step ~p)", [Step]);
                _ -> ""
            end,
    {Kind, iolist_to_binary([Text, Where])}.

message(B) when is_binary(B) -> B;
message(T) -> iolist_to_binary(io_lib:format("~0tP", [T, 12])).
