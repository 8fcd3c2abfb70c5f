%% Validation of node snapshots (bytes and terms from other nodes) and their merge.
-module(live_load_metrics_snapshot_tests).

-include_lib("eunit/include/eunit.hrl").

snapshot() ->
    S = live_load_sketch:new(),
    [ok = live_load_sketch:insert(S, V) || V <- [1.0, 2.0, 3.0]],
    Bin = live_load_sketch:to_binary(S),
    #{format => <<"live_load.snapshot/1">>, node => 'a@h', started_at_ms => 1000,
      bucket_ms => 100, max_buckets => 10,
      declared => [{<<"m">>, ms, <<>>}],
      sketches => [{<<"m">>, #{<<"k">> => <<"v">>}, Bin}],
      buckets => [{<<"m">>, 0, Bin}],
      counters => [{<<"c">>, #{}, 2}], bucket_counters => [{<<"c">>, 0, 2}],
      metric_errors => [{<<"m">>, #{}, 1}], bucket_errors => [{<<"m">>, 0, 1}],
      errors => [{<<"k">>, <<"msg">>, undefined, 1, 5, 6}],
      overflow => [{<<"m">>, <<"k">>, 3}]}.

valid_snapshot_decodes_test() ->
    {ok, D} = live_load_snapshot:decode(snapshot()),
    #{sketches := #{{<<"m">>, #{<<"k">> => <<"v">>}} := S}} = D,
    ?assertEqual(3, live_load_sketch:count(S)).

rejects_test_() ->
    Snap = snapshot(),
    [Bin] = [B || {_, _, B} <- maps:get(sketches, Snap)],
    Other = live_load_sketch:new(#{relative_accuracy => 0.05}),
    ok = live_load_sketch:insert(Other, 1.0),
    Cases = [{format, Snap#{format := <<"live_load.snapshot/9">>}},
             {shape, maps:remove(errors, Snap)},
             {shape, not_a_map},
             {truncated, Snap#{sketches := [{<<"m">>, #{}, binary_part(Bin, 0, byte_size(Bin) - 1)}]}},
             {garbage, Snap#{sketches := [{<<"m">>, #{}, <<"garbage bytes">>}]}},
             {accuracy, Snap#{sketches := [{<<"m">>, #{}, live_load_sketch:to_binary(Other)}]}},
             {atom_dims, Snap#{sketches := [{<<"m">>, #{k => <<"v">>}, Bin}]}},
             {atom_name, Snap#{counters := [{c, #{}, 1}]}},
             {negative_bucket, Snap#{buckets := [{<<"m">>, -1, Bin}]}},
             {unit, Snap#{declared := [{<<"m">>, furlongs, <<>>}]}},
             {not_a_list, Snap#{errors := #{}}},
             {bad_error, Snap#{errors := [{<<"k">>, <<"m">>, undefined, -1, 0, 0}]}}],
    [{atom_to_list(Name), ?_assertMatch({error, {invalid_snapshot, _}}, live_load_snapshot:decode(T))}
     || {Name, T} <- Cases].

merge_aligns_buckets_and_keeps_inputs_test() ->
    {ok, A} = live_load_snapshot:decode(snapshot()),
    {ok, B0} = live_load_snapshot:decode(snapshot()),
    B = B0#{node := 'b@h', started_at_ms := 1250},
    M = live_load_snapshot:merge([B, A]),
    ?assertMatch(#{started_at_ms := 1000, bucket_ms := 100}, M),
    #{buckets := Buckets, counters := Counters, errors := Errors, overflow := Overflow} = M,
    ?assertEqual([{<<"m">>, 0}, {<<"m">>, 2}], lists:sort(maps:keys(Buckets))),
    ?assertEqual(#{{<<"c">>, #{}} => 4}, Counters),
    ?assertEqual(#{{<<"k">>, <<"msg">>, undefined} => {2, 5, 6}}, Errors),
    ?assertEqual(#{{<<"m">>, <<"k">>} => 6}, Overflow),
    [S] = maps:values(maps:get(sketches, M)),
    ?assertEqual(6, live_load_sketch:count(S)),
    %% Each node's own sketches are unchanged by the merge.
    [SA] = maps:values(maps:get(sketches, A)),
    ?assertEqual(3, live_load_sketch:count(SA)).
