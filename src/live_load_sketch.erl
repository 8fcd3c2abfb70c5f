%% @doc DDSketch quantile sketches, implemented in C (`c_src/sketch/') and loaded as a NIF.
%%
%% A sketch answers quantile queries over everything inserted into it with a relative error
%% bound: for relative accuracy `a' (default 0.01), `quantile(S, Q)' is within `a * |X|' of the
%% exact value `X' of rank `floor(Q * (count - 1))' in sorted order. Sketches with the same
%% accuracy merge exactly (merging equals inserting both data sets), and serialise to a small,
%% versioned binary that other nodes can send us.
%%
%% <ul>
%% <li>Positive, zero and negative values all count: one store for positive values, one for
%% negative values and a zero counter. `min/1', `max/1', `count/1' and `sum/1' are exact
%% (`sum' saturates at +/-1.8e308); `quantile(S, 0)' is the min and `quantile(S, 1)' the max.</li>
%% <li>Each store keeps at most `max_bins' (default 2048) bins. When data spans more, the
%% LOWEST bins collapse into one: latency tails are what users read, and every quantile above
%% the collapsed range keeps the bound. With `a = 0.01', 2048 bins cover values over a ratio of
%% about 4e17 (e.g. 1 ns to 10 years, in ms) before anything collapses.</li>
%% <li>`to_binary/1' writes format version 2 (documented in
%% `c_src/sketch/ddsketch_codec.c'): header, varint/delta-coded non-empty bins, CRC32 trailer (a
%% flipped bit is `bad_checksum', never merged). `from_binary/1'
%% treats its input as hostile: truncated, corrupted, oversized or inconsistent bytes return
%% `{error, Reason}' and never allocate more than 2 x max_bins x 8 bytes.</li>
%% </ul>
%%
%% == Concurrency ==
%% A sketch is a NIF resource that any number of processes may use at once. Each sketch has
%% one mutex, held for the duration of each call; an insert holds it for about 7 ns of C work
%% inside a NIF call that costs 35-45 ns, so the lock is rarely contended. Measured with
%% `make bench-sketch' on the shared 2-core build box (wall ns per insert over all inserting
%% processes, best of 5): 2 processes on one shared sketch 56 ns vs each on its own sketch
%% 49 ns; 8 processes 125 vs 135 ns (earlier runs: 129 vs 195, 122 vs 141). Separate sketches
%% per process are what per-scheduler shards could at best achieve, and through the NIF they
%% are not measurably faster; only a tight C loop of 2 threads shows the contention (37 vs
%% 17 ns). Shards would multiply memory by the scheduler count and make every read, merge and
%% serialisation combine them. So: one mutex per sketch. `merge/2' takes both locks in
%% address order (no deadlock between `merge(A, B)' and `merge(B, A)'); `merge(S, S)' doubles S.
%%
%% == Scheduling ==
%% Every call is bounded by `max_bins' (at most 65536) and runs on a normal scheduler, except
%% `quantiles/2' with more than 256 points, `from_binary/1' of more than 64 KiB and
%% `to_binary/1' of sketches spanning more than 8192 bins, which move to a dirty CPU scheduler.
%% Integers outside the 64-bit range are not accepted as values (badarg).
-module(live_load_sketch).

-export([new/0]).
-export([new/1]).
-export([insert/2]).
-export([insert/3]).
-export([merge/2]).
-export([quantile/2]).
-export([quantiles/2]).
-export([count/1]).
-export([sum/1]).
-export([min/1]).
-export([max/1]).
-export([reset/1]).
-export([to_binary/1]).
-export([from_binary/1]).

-export_type([sketch/0, options/0, decode_error/0]).

-on_load(init/0).

-define(DEFAULT_ACCURACY, 0.01).
-define(DEFAULT_MAX_BINS, 2048).
-define(MIN_ACCURACY, 1.0e-6).
-define(MAX_BINS_LIMIT, 65536).

-opaque sketch() :: reference().
-type options() :: #{relative_accuracy => float(), max_bins => pos_integer()}.
-type decode_error() :: truncated | bad_magic | unsupported_version | bad_header | bad_varint
                      | too_many_bins | bad_key | bad_count | count_mismatch | bad_stats
                      | trailing_bytes | bad_checksum | nomem.

-spec init() -> ok | {error, term()}.
init() ->
    Dir = case code:priv_dir(live_load) of
              {error, bad_name} ->
                  filename:join([filename:dirname(filename:dirname(code:which(?MODULE))), "priv"]);
              D ->
                  D
          end,
    erlang:load_nif(filename:join(Dir, "live_load_sketch_nif"), 0).

%% @doc A sketch with relative accuracy 0.01 and at most 2048 bins per store.
-spec new() -> sketch().
new() ->
    new(#{}).

%% @doc A sketch with the given options; raises `error({invalid_option, Name, Value})' for an
%% unknown option or a bad value. `relative_accuracy': a float in [1.0e-6, 1.0);
%% `max_bins': an integer in 1..65536.
-spec new(options()) -> sketch().
new(Opts) when is_map(Opts) ->
    maps:foreach(fun check_option/2, Opts),
    Accuracy = maps:get(relative_accuracy, Opts, ?DEFAULT_ACCURACY),
    MaxBins = maps:get(max_bins, Opts, ?DEFAULT_MAX_BINS),
    new_nif(Accuracy, MaxBins);
new(Opts) ->
    error({invalid_option, options, Opts}).

check_option(relative_accuracy, A) when is_float(A), A >= ?MIN_ACCURACY, A < 1.0 -> ok;
check_option(max_bins, N) when is_integer(N), N >= 1, N =< ?MAX_BINS_LIMIT -> ok;
check_option(Name, Value) -> error({invalid_option, Name, Value}).

new_nif(_Accuracy, _MaxBins) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Adds one occurrence of `Value' (any number in the 64-bit integer or float range).
-spec insert(sketch(), number()) -> ok.
insert(_S, _Value) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Adds `Count' (a positive integer) occurrences of `Value'.
-spec insert(sketch(), number(), pos_integer()) -> ok.
insert(_S, _Value, _Count) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Adds everything in `From' to `Into'; `From' is unchanged. Both must have the same
%% relative accuracy (`{error, incompatible}' otherwise); `Into' keeps its own bin limit.
%% `{error, count_overflow}' when the total count would exceed 2^62.
-spec merge(Into :: sketch(), From :: sketch()) -> ok | {error, incompatible | count_overflow}.
merge(_Into, _From) ->
    erlang:nif_error(nif_not_loaded).

%% @doc The value at quantile `Q' (a number in [0, 1], badarg otherwise); `undefined' when
%% the sketch is empty.
-spec quantile(sketch(), number()) -> float() | undefined.
quantile(_S, _Q) ->
    erlang:nif_error(nif_not_loaded).

%% @doc The values at several quantiles, in the order given, computed in one pass over the
%% bins. Each element is `undefined' when the sketch is empty.
-spec quantiles(sketch(), [number()]) -> [float() | undefined].
quantiles(_S, _Qs) ->
    erlang:nif_error(nif_not_loaded).

%% @doc How many values were inserted (exact).
-spec count(sketch()) -> non_neg_integer().
count(_S) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Sum of the inserted values (0.0 when empty).
-spec sum(sketch()) -> float().
sum(_S) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Smallest inserted value (exact), `undefined' when empty.
-spec min(sketch()) -> float() | undefined.
min(_S) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Largest inserted value (exact), `undefined' when empty.
-spec max(sketch()) -> float() | undefined.
max(_S) ->
    erlang:nif_error(nif_not_loaded).

%% @doc Empties the sketch, keeping its accuracy and bin limit.
-spec reset(sketch()) -> ok.
reset(_S) ->
    erlang:nif_error(nif_not_loaded).

%% @doc The sketch as a compact, versioned binary (format 2, with a CRC32 trailer; see the module doc).
-spec to_binary(sketch()) -> binary().
to_binary(_S) ->
    erlang:nif_error(nif_not_loaded).

%% @doc A new sketch from `to_binary/1' output, possibly from another node. Never crashes on
%% bad input: returns `{error, Reason}' instead. Raises badarg only for a non-binary.
-spec from_binary(binary()) -> {ok, sketch()} | {error, decode_error()}.
from_binary(_Bin) ->
    erlang:nif_error(nif_not_loaded).
