%% @doc The runner's only seam with `live_load_context': make a user's context, read how an
%% iteration ended, start the next iteration fresh (error and halt cleared, assigns kept), close it.
-module(live_load_runner_ctx).

-export([new/1]).
-export([outcome/1]).
-export([next_iteration/1]).
-export([close/1]).
-export([describe/1]).

-type outcome() :: ok | halted | {failed, Step :: term(), Reason :: term()}.
-export_type([outcome/0]).

%% @doc A context for one user, owned by the calling process (browser events come to it).
%% Opts: `browser' (pid or `undefined' for a context without a browser), `user_id', `mode'.
-spec new(map()) -> {ok, term()} | {error, term()}.
new(Opts) ->
    try live_load_context:new(Opts) of
        {ok, Ctx} -> {ok, Ctx};
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
        Error -> {failed, step_of(Error), reason_of(Error)}
    end.

%% @doc The context for the next iteration: error and halt cleared, assigns kept.
-spec next_iteration(term()) -> term().
next_iteration(Ctx) ->
    live_load_context:reset(Ctx).

-spec close(term()) -> ok.
close(Ctx) ->
    try live_load_context:close(Ctx) catch _:_ -> ok end,
    ok.

%% @doc `{Kind, Message}' binaries describing a failure reason, for the error table.
-spec describe(term()) -> {binary(), binary()}.
describe({Kind, Detail}) when is_atom(Kind) ->
    {atom_to_binary(Kind), message(Detail)};
describe(Kind) when is_atom(Kind) ->
    {atom_to_binary(Kind), atom_to_binary(Kind)};
describe(Other) ->
    {<<"step_error">>, message(Other)}.

message(B) when is_binary(B) -> B;
message(T) -> iolist_to_binary(io_lib:format("~0tp", [T])).

step_of(#{step := S}) -> S;
step_of(_) -> undefined.

reason_of(#{reason := R}) -> R;
reason_of(R) -> R.
