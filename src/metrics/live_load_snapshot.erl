%% @doc The node snapshot: what {@link live_load_metrics:snapshot/0} sends to the
%% collector, its validation, and the merge of several nodes' data.
%%
%% A snapshot is a map (sketches serialised by the DDSketch NIF):
%% ```
%% #{format => <<"live_load.snapshot/1">>, node => node(), run_id => binary() | integer(),
%%   started_at_ms => integer(), bucket_ms => pos_integer(), max_buckets => pos_integer(),
%%   declared => [{Metric, Unit, Description}],
%%   sketches => [{Metric, Dims, SketchBinary}],      % one per metric and dimension combination
%%   buckets => [{Metric, BucketIndex, SketchBinary}],
%%   counters => [{Counter, Dims, integer()}],
%%   bucket_counters => [{Counter, BucketIndex, integer()}],
%%   metric_errors => [{Metric, Dims, integer()}],
%%   bucket_errors => [{Metric, BucketIndex, integer()}],
%%   errors => [{Kind, Message, Metric | undefined, Count, FirstMs, LastMs}],
%%   overflow => [{Name, DimensionKey, FoldedCount}]}
%% '''
%% {@link decode/1} checks every field and deserialises every sketch (the NIF validates and
%% bounds the bytes), so bytes from another node never reach the merge unchecked.
%% Decoded data ({@type data()}) holds maps keyed as in the lists above, with sketch
%% resources; bucket indexes are relative to the data's own `started_at_ms'. `run_id' (see
%% {@link live_load_metrics:start_run/1}) is kept in the data (`undefined' for snapshots made
%% before run ids), so a collector can refuse another run's data.
-module(live_load_snapshot).

-export([format/0]).
-export([decode/1]).
-export([empty/0]).
-export([merge/1]).

-export_type([snapshot/0, data/0]).

-define(FORMAT, <<"live_load.snapshot/1">>).
-define(MAX_BUCKET_INDEX, 1000000).

-type snapshot() :: #{atom() => term()}.
-type sketch() :: term().
-type dims() :: live_load_metrics:dims().
-type data() :: #{node := node() | merged,
                  run_id => binary() | integer() | undefined,
                  started_at_ms := integer(),
                  bucket_ms := pos_integer(),
                  declared := #{binary() => {live_load_metrics:unit(), binary()}},
                  sketches := #{{binary(), dims()} => sketch()},
                  buckets := #{{binary(), non_neg_integer()} => sketch()},
                  counters := #{{binary(), dims()} => integer()},
                  bucket_counters := #{{binary(), non_neg_integer()} => integer()},
                  metric_errors := #{{binary(), dims()} => integer()},
                  bucket_errors := #{{binary(), non_neg_integer()} => integer()},
                  errors := #{{binary(), binary(), binary() | undefined} =>
                                  {non_neg_integer(), integer(), integer()}},
                  overflow := #{{binary(), binary()} => non_neg_integer()}}.

%% @doc The format tag of snapshots made by this version.
-spec format() -> binary().
format() -> ?FORMAT.

%% @doc Data with nothing recorded.
-spec empty() -> data().
empty() ->
    #{node => merged, started_at_ms => erlang:system_time(millisecond), bucket_ms => 5000,
      declared => #{}, sketches => #{}, buckets => #{}, counters => #{},
      bucket_counters => #{}, metric_errors => #{}, bucket_errors => #{}, errors => #{},
      overflow => #{}}.

%% @doc Validate a snapshot received from a node and deserialise its sketches.
-spec decode(term()) -> {ok, data()} | {error, {invalid_snapshot, term()}}.
decode(#{format := ?FORMAT, node := Node, started_at_ms := Started, bucket_ms := Width,
         max_buckets := _, declared := Declared, sketches := Sketches, buckets := Buckets,
         counters := Counters, bucket_counters := BCounters, metric_errors := MErrors,
         bucket_errors := BErrors, errors := Errors, overflow := Overflow} = Snapshot)
  when is_atom(Node), is_integer(Started), is_integer(Width), Width > 0 ->
    %% Merging an empty default sketch into each decoded one checks, at no cost, that it
    %% has our relative accuracy (the later merges would fail otherwise).
    Ref = live_load_sketch:new(),
    try
        {ok, #{node => Node, run_id => run_id(Snapshot), started_at_ms => Started, bucket_ms => Width,
               declared => entries(declared, Declared, fun declared/1),
               sketches => entries(sketches, Sketches, fun(E) -> sketch_entry(E, Ref) end),
               buckets => entries(buckets, Buckets, fun(E) -> bucket_entry(E, Ref) end),
               counters => entries(counters, Counters, fun counter_entry/1),
               bucket_counters => entries(bucket_counters, BCounters, fun bucket_counter/1),
               metric_errors => entries(metric_errors, MErrors, fun counter_entry/1),
               bucket_errors => entries(bucket_errors, BErrors, fun bucket_counter/1),
               errors => entries(errors, Errors, fun error_entry/1),
               overflow => entries(overflow, Overflow, fun overflow_entry/1)}}
    catch
        throw:{invalid, Field, Entry} -> {error, {invalid_snapshot, {Field, Entry}}}
    end;
decode(#{format := Format}) when Format =/= ?FORMAT ->
    {error, {invalid_snapshot, {format, Format}}};
decode(_) ->
    {error, {invalid_snapshot, shape}}.

run_id(#{run_id := Id}) when is_binary(Id); is_integer(Id); Id =:= undefined -> Id;
run_id(#{run_id := Other}) -> throw({invalid, run_id, summary(Other)});
run_id(_) -> undefined.

entries(Field, List, Fun) when is_list(List) ->
    maps:from_list([check(Field, E, Fun) || E <- List]);
entries(Field, Other, _) ->
    throw({invalid, Field, Other}).

check(Field, E, Fun) ->
    case Fun(E) of
        false -> throw({invalid, Field, summary(E)});
        KV -> KV
    end.

%% The offending entry goes into the node's error report: keep it short.
summary(E) when is_tuple(E) -> list_to_tuple([summary(X) || X <- tuple_to_list(E)]);
summary(B) when is_binary(B), byte_size(B) > 64 -> {binary, byte_size(B)};
summary(E) -> E.

declared({M, U, D}) when is_binary(M), is_binary(D) ->
    lists:member(U, [ms, bytes, count, percent]) andalso {M, {U, D}};
declared(_) -> false.

sketch_entry({M, D, Bin}, Ref) when is_binary(M), is_binary(Bin) ->
    dims(D) andalso sketch({M, D}, Bin, Ref);
sketch_entry(_, _) -> false.

bucket_entry({M, I, Bin}, Ref) when is_binary(M), is_binary(Bin) ->
    index(I) andalso sketch({M, I}, Bin, Ref);
bucket_entry(_, _) -> false.

sketch(Key, Bin, Ref) ->
    case live_load_sketch:from_binary(Bin) of
        {ok, S} -> live_load_sketch:merge(S, Ref) =:= ok andalso {Key, S};
        {error, _} -> false
    end.

counter_entry({C, D, N}) when is_binary(C), is_integer(N) -> dims(D) andalso {{C, D}, N};
counter_entry(_) -> false.

bucket_counter({C, I, N}) when is_binary(C), is_integer(N) -> index(I) andalso {{C, I}, N};
bucket_counter(_) -> false.

error_entry({K, Msg, M, N, F, L})
  when is_binary(K), is_binary(Msg), is_binary(M) orelse M =:= undefined,
       is_integer(N), N >= 0, is_integer(F), is_integer(L) ->
    {{K, Msg, M}, {N, F, L}};
error_entry(_) -> false.

overflow_entry({Name, Key, N}) when is_binary(Name), is_binary(Key), is_integer(N), N >= 0 ->
    {{Name, Key}, N};
overflow_entry(_) -> false.

dims(D) when is_map(D) ->
    lists:all(fun({K, V}) -> is_binary(K) andalso is_binary(V) end, maps:to_list(D));
dims(_) -> false.

index(I) -> is_integer(I) andalso I >= 0 andalso I =< ?MAX_BUCKET_INDEX.

%% @doc Merge several nodes' data into new data (`node => merged'). The inputs are not
%% changed (their sketches stay each node's own figures). Time buckets are aligned on wall
%% clock time: the merged run starts at the earliest node start and uses that node's
%% bucket width.
-spec merge([data()]) -> data().
merge([]) ->
    empty();
merge(Datas) ->
    [#{started_at_ms := Start, bucket_ms := Width} | _] =
        lists:sort(fun(#{started_at_ms := A}, #{started_at_ms := B}) -> A =< B end, Datas),
    Acc0 = (empty())#{started_at_ms => Start, bucket_ms => Width},
    lists:foldl(fun(D, Acc) -> merge_one(D, Acc) end, Acc0, Datas).

merge_one(D, #{started_at_ms := Start, bucket_ms := Width} = Acc) ->
    #{started_at_ms := DStart, bucket_ms := DWidth} = D,
    Shift = fun({Name, I}) -> {Name, (DStart - Start + I * DWidth) div Width} end,
    Same = fun(K) -> K end,
    Acc#{declared := maps:merge(maps:get(declared, Acc), maps:get(declared, D)),
         sketches := merge_sketches(maps:get(sketches, D), Same, maps:get(sketches, Acc)),
         buckets := merge_sketches(maps:get(buckets, D), Shift, maps:get(buckets, Acc)),
         counters := add(maps:get(counters, D), Same, maps:get(counters, Acc)),
         bucket_counters := add(maps:get(bucket_counters, D), Shift, maps:get(bucket_counters, Acc)),
         metric_errors := add(maps:get(metric_errors, D), Same, maps:get(metric_errors, Acc)),
         bucket_errors := add(maps:get(bucket_errors, D), Shift, maps:get(bucket_errors, Acc)),
         errors := maps:fold(fun merge_error/3, maps:get(errors, Acc), maps:get(errors, D)),
         overflow := add(maps:get(overflow, D), Same, maps:get(overflow, Acc))}.

merge_sketches(From, KeyFun, Into) ->
    maps:fold(fun(K0, S, Acc) ->
                      K = KeyFun(K0),
                      Target = case Acc of
                                   #{K := T} -> T;
                                   _ -> live_load_sketch:new()
                               end,
                      ok = live_load_sketch:merge(Target, S),
                      Acc#{K => Target}
              end, Into, From).

add(From, KeyFun, Into) ->
    maps:fold(fun(K0, N, Acc) ->
                      K = KeyFun(K0),
                      Acc#{K => N + maps:get(K, Acc, 0)}
              end, Into, From).

merge_error(K, {N, F, L}, Acc) ->
    case Acc of
        #{K := {N0, F0, L0}} -> Acc#{K => {N0 + N, min(F0, F), max(L0, L)}};
        _ -> Acc#{K => {N, F, L}}
    end.
