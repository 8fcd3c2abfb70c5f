%% @doc Per-node metric recording: latency-like values into DDSketches, counters, errors and
%% time buckets.
%%
%% Every function here runs in the caller's process and touches the public tables of
%% {@link live_load_metrics_store} directly: no recording goes through a process mailbox.
%% A sketch is created once per key with `ets:insert_new/2' (lock-free; a loser of the race
%% uses the winner's sketch) and values go straight into the NIF resource, which is safe for
%% concurrent inserts. Counters use `ets:update_counter/4' on a write-concurrent table.
%% Each recording process also remembers, in its process dictionary, the sketches it used
%% last (valid for one run, bounded by the admitted dimension combinations), so a repeated
%% `record/3' touches no ETS table at all: ~2-4 million values/s with 50-200 recorders on two
%% cores (`make bench-metrics').
%%
%% What is kept for a value recorded with `record(Metric, Value, Dims)':
%% <ul>
%% <li>the sketch of `(Metric, Dims)', Dims bounded by {@link live_load_metrics_dims};</li>
%% <li>the sketch of `(Metric, Bucket)', Bucket = (now - run start) div bucket_ms, for the
%%     time series. Values past `max_buckets' buckets are kept in the totals, dropped from
%%     the series and counted (`live_load.bucket_overflow').</li>
%% </ul>
%% Names, dimension keys and values are binaries (never atoms from outside input). Time
%% values are milliseconds. An undeclared metric has unit `ms'.
%%
%% {@link snapshot/0} serialises everything for {@link live_load_collector}; its shape is
%% checked by {@link live_load_snapshot}.
-module(live_load_metrics).

-export([record/3]).
-export([record/4]).
-export([count/3]).
-export([count/4]).
-export([error/3]).
-export([error/4]).
-export([declare/2]).
-export([reset/0]).
-export([start_run/1]).
-export([snapshot/0]).
-export([run_id/0]).
-export([quick_stats/1]).
-export([counter_values/1]).
-export([error_kinds/0]).

-export_type([unit/0, dims/0, run_options/0, run_id/0, at_opts/0]).

-define(SKETCHES, live_load_metrics_sketches).
-define(COUNTERS, live_load_metrics_counters).
-define(META, live_load_metrics_meta).
-define(MAX_MESSAGE_BYTES, 1024).
-define(MAX_MESSAGES_PER_KIND, 100).

-type unit() :: ms | bytes | count | percent.
-type dims() :: #{binary() => binary()}.
-type run_id() :: binary() | integer().
-type at_opts() :: #{at => number()}.
-type run_options() :: #{run_id => run_id(),
                         bucket_ms => pos_integer(),
                         max_buckets => pos_integer(),
                         max_dim_values => pos_integer(),
                         max_series => pos_integer()}.

-define(DEFAULTS, #{bucket_ms => 5000, max_buckets => 1440, max_dim_values => 100,
                    max_series => 1000}).

%%% Recording

%% @doc Record one value of a latency-like metric.
-spec record(binary(), number(), dims()) -> ok.
record(Metric, Value, Dims) ->
    record(Metric, Value, Dims, #{}).

%% @doc {@link record/3} for a value measured at `at' (wall-clock ms, `erlang:system_time(millisecond)'
%% base): its time bucket is the one of that moment, not of the call (events drained from a
%% mailbox late still land where they happened). Without `at': now.
-spec record(binary(), number(), dims(), at_opts()) -> ok.
record(Metric, Value, Dims, Opts) when is_binary(Metric), is_number(Value), is_map(Dims), is_map(Opts) ->
    #{run := Run} = Settings = live_load_metrics_store:settings(),
    ok = live_load_sketch:insert(cached_series(Metric, Dims, Run, Settings), Value),
    case bucket(Settings, Opts) of
        none -> ok;
        Idx -> ok = live_load_sketch:insert(cached_bucket(Metric, Idx, Run), Value)
    end.

%% @doc Add `Inc' to a counter.
-spec count(binary(), integer(), dims()) -> ok.
count(Counter, Inc, Dims) ->
    count(Counter, Inc, Dims, #{}).

%% @doc {@link count/3} at `at' (wall-clock ms), as {@link record/4}.
-spec count(binary(), integer(), dims(), at_opts()) -> ok.
count(Counter, Inc, Dims, Opts) when is_binary(Counter), is_integer(Inc), is_map(Dims), is_map(Opts) ->
    #{max_dim_values := DimCap} = Settings = live_load_metrics_store:settings(),
    D = live_load_metrics_dims:normalise(Counter, Dims, DimCap),
    bump({c, Counter, D}, Inc),
    case bucket(Settings, Opts) of
        none -> ok;
        Idx -> bump({cb, Counter, Idx}, Inc)
    end.

%% @doc Record an error; `Metric' (or `undefined') is the metric the failed operation
%% would have recorded, so its error count rises.
-spec error(binary(), binary(), binary() | undefined) -> ok.
error(Kind, Message, Metric) ->
    error(Kind, Message, Metric, #{}).

%% @doc {@link error/3} with the dimensions of the failed operation (counted in the
%% metric's dimension breakdown).
-spec error(binary(), binary(), binary() | undefined, dims()) -> ok.
error(Kind, Message, Metric, Dims)
  when is_binary(Kind), is_binary(Message), (is_binary(Metric) orelse Metric =:= undefined),
       is_map(Dims) ->
    Settings = live_load_metrics_store:settings(),
    Now = erlang:system_time(millisecond),
    Key = {err, Kind, message(Kind, Message), Metric},
    _ = ets:update_counter(?COUNTERS, Key, {2, 1}, {Key, 0, Now, Now}),
    %% false when a reset emptied the table in between: the error belongs to the old run.
    _ = ets:update_element(?COUNTERS, Key, {4, Now}),
    case Metric of
        undefined -> ok;
        _ -> metric_error(Metric, Dims, Settings)
    end.

metric_error(Metric, Dims, #{max_dim_values := DimCap} = Settings) ->
    bump({me, Metric, live_load_metrics_dims:normalise(Metric, Dims, DimCap)}, 1),
    case bucket(Settings, #{}) of
        none -> ok;
        Idx -> bump({mb, Metric, Idx}, 1)
    end.

%% @doc Declare a metric's unit and description (idempotent; the last call wins).
-spec declare(binary(), #{unit := unit(), description => binary()}) -> ok.
declare(Metric, #{unit := Unit} = Decl) when is_binary(Metric) ->
    true = lists:member(Unit, [ms, bytes, count, percent]),
    Desc = maps:get(description, Decl, <<>>),
    true = is_binary(Desc),
    true = ets:insert(?META, {{declared, Metric}, Unit, Desc}),
    ok.

%%% Run control

%% @doc Forget everything recorded and start a new run with default settings now.
-spec reset() -> ok.
reset() ->
    ok = start_run(#{}).

%% @doc Forget everything recorded and start a new run now. Options: `run_id' (a binary or
%% an integer naming the run in every snapshot, so a collector never takes another run's
%% data for its own; the same id on every node of a distributed run; default: a new
%% id unique to this node), `bucket_ms' (time
%% series bucket width, default 5000), `max_buckets' (default 1440), `max_dim_values'
%% (distinct values per dimension key, default 100), `max_series' (dimension combinations
%% per metric, default 1000).
-spec start_run(run_options()) -> ok | {error, {invalid_option, term(), term()}}.
start_run(Opts) when is_map(Opts) ->
    case validate(maps:to_list(Opts)) of
        ok ->
            S = maps:merge(?DEFAULTS#{run_id => new_run_id()}, Opts),
            %% Declarations describe the code, not the run: keep them.
            Declared = ets:match_object(?META, {{declared, '_'}, '_', '_'}),
            ok = live_load_metrics_store:clear(),
            true = ets:insert(?META, Declared),
            live_load_metrics_store:put_settings(
              S#{run => erlang:unique_integer(),
                 start_mono_ms => erlang:monotonic_time(millisecond),
                 started_at_ms => erlang:system_time(millisecond)});
        Error ->
            Error
    end;
start_run(Opts) ->
    {error, {invalid_option, options, Opts}}.

validate([]) -> ok;
validate([{run_id, V} | T]) when is_binary(V), byte_size(V) =< 256; is_integer(V) -> validate(T);
validate([{bucket_ms, V} | T]) when is_integer(V), V >= 10, V =< 86400000 -> validate(T);
validate([{max_buckets, V} | T]) when is_integer(V), V >= 1, V =< 100000 -> validate(T);
validate([{max_dim_values, V} | T]) when is_integer(V), V >= 1, V =< 100000 -> validate(T);
validate([{max_series, V} | T]) when is_integer(V), V >= 1, V =< 1000000 -> validate(T);
validate([{K, V} | _]) -> {error, {invalid_option, K, V}}.

new_run_id() ->
    iolist_to_binary([atom_to_binary(node(), utf8), "/",
                      integer_to_binary(erlang:system_time(millisecond)), "/",
                      integer_to_binary(erlang:unique_integer([positive]))]).

%% @doc The id of the current run on this node.
-spec run_id() -> run_id().
run_id() ->
    maps:get(run_id, live_load_metrics_store:settings()).

%%% Reading

%% @doc Node-local count, p50 and p95 of a metric over all its dimensions (for a progress
%% line), `undefined' when nothing was recorded.
-spec quick_stats(binary()) -> #{count := non_neg_integer(), p50 := float() | null,
                                 p95 := float() | null} | undefined.
quick_stats(Metric) ->
    case ets:select(?SKETCHES, [{{{s, Metric, '_'}, '$1'}, [], ['$1']}]) of
        [] ->
            undefined;
        Sketches ->
            All = live_load_sketch:new(),
            _ = [ok = live_load_sketch:merge(All, S) || S <- Sketches],
            #{count => live_load_sketch:count(All),
              p50 => quantile(All, 0.5), p95 => quantile(All, 0.95)}
    end.

%% @doc This node's values of counter `Name', by dimensions (for a progress line).
-spec counter_values(binary()) -> [{dims(), integer()}].
counter_values(Name) ->
    ets:select(?COUNTERS, [{{{c, Name, '$1'}, '$2'}, [], [{{'$1', '$2'}}]}]).

%% @doc This node's error counts by kind (for a progress line).
-spec error_kinds() -> #{binary() => non_neg_integer()}.
error_kinds() ->
    lists:foldl(fun({K, N}, Acc) -> maps:update_with(K, fun(M) -> M + N end, N, Acc) end, #{},
                ets:select(?COUNTERS, [{{{err, '$1', '_', '_'}, '$2', '_', '_'}, [], [{{'$1', '$2'}}]}])).

%% @doc Everything this node recorded, serialised (sketches as binaries), for
%% {@link live_load_collector}. See {@link live_load_snapshot} for the shape.
-spec snapshot() -> live_load_snapshot:snapshot().
snapshot() ->
    #{started_at_ms := Started, bucket_ms := BucketMs, max_buckets := MaxBuckets} = Settings =
        live_load_metrics_store:settings(),
    Sketches = ets:tab2list(?SKETCHES),
    Counters = ets:tab2list(?COUNTERS),
    #{format => live_load_snapshot:format(),
      node => node(),
      run_id => maps:get(run_id, Settings, undefined),
      started_at_ms => Started,
      bucket_ms => BucketMs,
      max_buckets => MaxBuckets,
      declared => [{M, U, D} || {{declared, M}, U, D} <- ets:tab2list(?META)],
      sketches => [{M, D, live_load_sketch:to_binary(S)} || {{s, M, D}, S} <- Sketches],
      buckets => [{M, I, live_load_sketch:to_binary(S)} || {{b, M, I}, S} <- Sketches],
      counters => [{C, D, N} || {{c, C, D}, N} <- Counters],
      bucket_counters => [{C, I, N} || {{cb, C, I}, N} <- Counters],
      metric_errors => [{M, D, N} || {{me, M, D}, N} <- Counters],
      bucket_errors => [{M, I, N} || {{mb, M, I}, N} <- Counters],
      errors => [{K, Msg, M, N, F, L} || {{err, K, Msg, M}, N, F, L} <- Counters],
      overflow => live_load_metrics_dims:overflow()}.

%%% Internals

normalise(Name, Dims, #{max_dim_values := DimCap}) ->
    live_load_metrics_dims:normalise(Name, Dims, DimCap).

%% The hot path. Each recording process keeps, in its process dictionary, the sketches it
%% used last: one per (metric, dimensions) it records, and the current bucket's sketch per
%% metric. A cached entry is valid for one run (the run id changes at reset), so a hit costs
%% no ETS access at all. Only dimensions whose values were all admitted are cached (their
%% number is bounded by max_series), so ids in dimensions cannot grow a process's memory.
cached_series(Metric, Dims, Run, Settings) ->
    Key = {?MODULE, Metric, Dims},
    case get(Key) of
        {Run, S} -> S;
        _ ->
            %% A sketch keyed by exactly these dimensions exists only when all their values
            %% were admitted.
            case ets:lookup(?SKETCHES, {s, Metric, Dims}) of
                [{_, S}] ->
                    put(Key, {Run, S}),
                    S;
                [] ->
                    series_sketch(Metric, normalise(Metric, Dims, Settings), Settings)
            end
    end.

cached_bucket(Metric, Idx, Run) ->
    Key = {?MODULE, bucket, Metric},
    case get(Key) of
        {Run, Idx, S} -> S;
        _ ->
            S = sketch({b, Metric, Idx}),
            put(Key, {Run, Idx, S}),
            S
    end.

series_sketch(Metric, Dims, #{max_series := Cap}) ->
    Key = {s, Metric, Dims},
    case ets:lookup(?SKETCHES, Key) of
        [{_, S}] -> S;
        [] ->
            case live_load_metrics_dims:admit_series(Metric, Dims, Cap) of
                true -> create(Key);
                false -> sketch({s, Metric, maps:map(fun(_, _) -> live_load_metrics_dims:other() end, Dims)})
            end
    end.

sketch(Key) ->
    case ets:lookup(?SKETCHES, Key) of
        [{_, S}] -> S;
        [] -> create(Key)
    end.

create(Key) ->
    S = live_load_sketch:new(),
    case ets:insert_new(?SKETCHES, {Key, S}) of
        true -> S;
        false ->
            %% Another process created it first; use theirs (unless a reset just removed it).
            case ets:lookup(?SKETCHES, Key) of
                [{_, Theirs}] -> Theirs;
                [] -> S
            end
    end.

%% An event time before the run started (a late event of the previous run, clock skew) goes to
%% the first bucket.
bucket(#{start_mono_ms := Start, bucket_ms := Width, max_buckets := Max} = S, Opts) ->
    Elapsed = case Opts of
                  #{at := At} when is_number(At) -> max(0, trunc(At) - maps:get(started_at_ms, S));
                  _ -> erlang:monotonic_time(millisecond) - Start
              end,
    case Elapsed div Width of
        Idx when Idx < Max -> Idx;
        _ -> bump({c, <<"live_load.bucket_overflow">>, #{}}, 1), none
    end.

bump(Key, Inc) ->
    _ = ets:update_counter(?COUNTERS, Key, Inc, {Key, 0}),
    ok.

%% Error messages come from outside (browser texts with ids): cap their length and the
%% number of distinct messages per kind.
message(Kind, Message) ->
    M = case byte_size(Message) > ?MAX_MESSAGE_BYTES of
            true -> binary_part(Message, 0, ?MAX_MESSAGE_BYTES);
            false -> Message
        end,
    case ets:member(?COUNTERS, {err_msg, Kind, M}) of
        true -> M;
        false ->
            CountKey = {err_msgs, Kind},
            case ets:update_counter(?COUNTERS, CountKey, 1, {CountKey, 0}) of
                N when N =< ?MAX_MESSAGES_PER_KIND ->
                    _ = ets:insert_new(?COUNTERS, {{err_msg, Kind, M}, 0}),
                    M;
                _ ->
                    <<"(other messages)">>
            end
    end.

quantile(S, Q) ->
    case live_load_sketch:count(S) of
        0 -> null;
        _ -> live_load_sketch:quantile(S, Q)
    end.
