%% @doc Live counters of one scenario run (users, iterations, errors by kind), shared by its
%% runners and read by the progress line; every update also goes to `live_load_metrics', which
%% owns the numbers that end up in the result.
-module(live_load_run_stats).

-export([new/1]).
-export([delete/1]).
-export([user_started/1]).
-export([user_done/3]).
-export([iteration/4]).
-export([error/3]).
-export([read/1]).

-record(stats, {counters :: counters:counters_ref(),
                errors :: ets:tid(),
                target :: pos_integer()}).
-opaque stats() :: #stats{}.
-export_type([stats/0]).

-define(ACTIVE, 1).
-define(STARTED, 2).
-define(FAILED_USERS, 3).
-define(OK, 4).
-define(FAILED, 5).
-define(HALTED, 6).
-define(MAX_KINDS, 64).   %% error kinds tracked for the progress line

-spec new(pos_integer()) -> stats().
new(Target) ->
    #stats{counters = counters:new(6, [write_concurrency]),
           errors = ets:new(live_load_run_errors, [public, set, {write_concurrency, true}]),
           target = Target}.

-spec delete(stats()) -> ok.
delete(#stats{errors = T}) ->
    ets:delete(T),
    ok.

-spec user_started(stats()) -> ok.
user_started(#stats{counters = C}) ->
    counters:add(C, ?ACTIVE, 1),
    counters:add(C, ?STARTED, 1).

%% @doc A user ended with `Status'; `WasStarted' is false when its context never came up.
-spec user_done(stats(), ok | halted | failed, boolean()) -> ok.
user_done(#stats{counters = C}, Status, WasStarted) ->
    WasStarted andalso counters:sub(C, ?ACTIVE, 1),
    Status =:= failed andalso counters:add(C, ?FAILED_USERS, 1),
    ok.

-spec iteration(stats(), module(), ok | failed | halted, number()) -> ok.
iteration(#stats{counters = C}, Scenario, Result, Ms) ->
    counters:add(C, case Result of ok -> ?OK; failed -> ?FAILED; halted -> ?HALTED end, 1),
    live_load_metrics:record(<<"iteration.duration">>, Ms, #{<<"scenario">> => atom_to_binary(Scenario)}),
    live_load_metrics:count(<<"iterations">>, 1, #{<<"result">> => atom_to_binary(Result)}).

%% @doc Records one error; `Kind' is an atom or binary, `Detail' any term (kept as text).
-spec error(stats(), atom() | binary(), term()) -> ok.
error(#stats{errors = T}, Kind0, Detail) ->
    Kind = case is_atom(Kind0) of true -> atom_to_binary(Kind0); false -> Kind0 end,
    Message = case is_binary(Detail) of
                  true -> Detail;
                  false -> iolist_to_binary(io_lib:format("~0tP", [Detail, 20]))
              end,
    case ets:info(T, size) < ?MAX_KINDS orelse ets:member(T, Kind) of
        true -> _ = ets:update_counter(T, Kind, 1, {Kind, 0}), ok;
        false -> ok
    end,
    live_load_metrics:error(Kind, Message, undefined).

-spec read(stats()) -> map().
read(#stats{counters = C, errors = T, target = Target}) ->
    #{users_target => Target,
      users_active => counters:get(C, ?ACTIVE),
      users_started => counters:get(C, ?STARTED),
      users_failed => counters:get(C, ?FAILED_USERS),
      iterations_ok => counters:get(C, ?OK),
      iterations_failed => counters:get(C, ?FAILED),
      iterations_halted => counters:get(C, ?HALTED),
      errors => maps:from_list(ets:tab2list(T))}.
