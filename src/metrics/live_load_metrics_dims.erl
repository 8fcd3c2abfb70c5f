%% @doc Bounded dimensions: every metric or counter name admits at most `max_dim_values'
%% distinct values per dimension key, and at most `max_series' distinct dimension
%% combinations. Values past a cap are folded into `<<"other">>' and counted, so a scenario
%% that puts ids into a dimension cannot grow memory without bound.
%%
%% Admission is lock-free: a per-(name, key) counter in the counters table reserves a slot
%% with `ets:update_counter/4', the value itself is published with `ets:insert_new/2'.
%% The counter never stays above the number of admitted values, so the cap holds under any
%% interleaving of recorders.
-module(live_load_metrics_dims).

-export([normalise/3]).
-export([admit_series/3]).
-export([overflow/0]).
-export([other/0]).

-define(COUNTERS, live_load_metrics_counters).
-define(META, live_load_metrics_meta).
-define(OTHER, <<"other">>).
-define(MAX_VALUE_BYTES, 256).

%% @doc The value that stands for every value past the cap.
-spec other() -> binary().
other() -> ?OTHER.

%% @doc Map each dimension value to itself when admitted, or to `<<"other">>'. Keys and
%% values that are not binaries (integers, atoms from our own code) are converted to
%% binaries; values longer than 256 bytes are truncated.
-spec normalise(binary(), map(), pos_integer()) -> #{binary() => binary()}.
normalise(_Name, Dims, _Cap) when map_size(Dims) =:= 0 ->
    Dims;
normalise(Name, Dims, Cap) ->
    maps:fold(fun(K, V, Acc) ->
                      Key = to_bin(K),
                      Acc#{Key => admit(Name, Key, value(V), Cap)}
              end, #{}, Dims).

%% @doc Reserve a slot for a new dimension combination of `Name'; `false' past the cap
%% (the caller then records under the all-`other' combination). Called once per
%% combination, when its sketch is created.
-spec admit_series(binary(), map(), pos_integer()) -> boolean().
admit_series(_Name, Dims, _Cap) when map_size(Dims) =:= 0 ->
    true;
admit_series(Name, _Dims, Cap) ->
    reserve({series, Name}, Cap) orelse overflowed(Name, <<"*">>).

%% @doc `[{Name, Key, FoldedCount}]' for every dimension that overflowed; Key `<<"*">>'
%% counts combinations past `max_series'.
-spec overflow() -> [{binary(), binary(), pos_integer()}].
overflow() ->
    [{Name, Key, N} || {{dim_overflow, Name, Key}, N} <- ets:match_object(?COUNTERS, {{dim_overflow, '_', '_'}, '_'})].

admit(Name, Key, Value, Cap) ->
    Slot = {dim, Name, Key, Value},
    case ets:member(?META, Slot) of
        true -> Value;
        false -> admit_new(Name, Key, Value, Slot, Cap)
    end.

admit_new(Name, Key, Value, Slot, Cap) ->
    case reserve({dims, Name, Key}, Cap) of
        true ->
            %% Two recorders racing on the same new value both reserve; the loser gives its
            %% slot back.
            _ = ets:insert_new(?META, {Slot}) orelse release({dims, Name, Key}),
            Value;
        false ->
            case ets:member(?META, Slot) of
                true -> Value;
                false -> overflowed(Name, Key), ?OTHER
            end
    end.

reserve(CounterKey, Cap) ->
    case ets:update_counter(?COUNTERS, CounterKey, 1, {CounterKey, 0}) of
        N when N =< Cap -> true;
        _ -> release(CounterKey), false
    end.

%% The default covers a reset that emptied the table since the reservation.
release(CounterKey) ->
    _ = ets:update_counter(?COUNTERS, CounterKey, -1, {CounterKey, 1}),
    true.

overflowed(Name, Key) ->
    K = {dim_overflow, Name, Key},
    _ = ets:update_counter(?COUNTERS, K, 1, {K, 0}),
    false.

value(V) when is_binary(V), byte_size(V) =< ?MAX_VALUE_BYTES -> V;
value(V) when is_binary(V) -> truncate(V);
value(V) -> truncate(to_bin(V)).

%% Cut at a UTF-8 character boundary.
truncate(V) when byte_size(V) =< ?MAX_VALUE_BYTES -> V;
truncate(V) -> trim_partial(binary_part(V, 0, ?MAX_VALUE_BYTES)).

trim_partial(B) ->
    case unicode:characters_to_binary(B) of
        B -> B;
        {incomplete, Good, _} -> Good;
        {error, _, _} -> B
    end.

to_bin(B) when is_binary(B) -> B;
to_bin(A) when is_atom(A) -> atom_to_binary(A, utf8);
to_bin(I) when is_integer(I) -> integer_to_binary(I);
to_bin(F) when is_float(F) -> float_to_binary(F, [short]);
to_bin(L) when is_list(L) -> unicode:characters_to_binary(L);
to_bin(T) -> unicode:characters_to_binary(io_lib:format("~0tp", [T])).
