%% PropEr properties of live_load_sketch, run by EUnit:
%% accuracy against exact sorted quantiles, merge == inserting both, exact binary round trip.
-module(live_load_sketch_prop_tests).

-include_lib("proper/include/proper.hrl").
-include_lib("eunit/include/eunit.hrl").

-define(S, live_load_sketch).
-define(NUMTESTS, 150).

properties_test_() ->
    Opts = [{numtests, ?NUMTESTS}, {to_file, user}],
    [{timeout, 300, {atom_to_list(P), ?_assert(proper:quickcheck(?MODULE:P(), Opts))}}
     || P <- [prop_accuracy_distributions, prop_accuracy_any_numbers, prop_merge_equals_union,
              prop_roundtrip_exact, prop_accuracy_other_alpha]].

%% Generators.

dataset() ->
    {oneof(live_load_sketch_data:kinds()), integer(1, 1 bsl 40), integer(1, 4000)}.

any_number() ->
    oneof([float(), integer(), 0, 0.0,
           ?LET(E, float(-30.0, 30.0), math:exp(E)),
           ?LET(E, float(-30.0, 30.0), -math:exp(E))]).

values() ->
    ?LET({Kind, Seed, N}, dataset(), live_load_sketch_data:generate(Kind, Seed, N)).

%% Properties.

prop_accuracy_distributions() ->
    ?FORALL({Kind, Seed, N}, dataset(),
            ?WHENFAIL(io:format("kind ~p seed ~p n ~p~n", [Kind, Seed, N]),
                      accurate(live_load_sketch_data:generate(Kind, Seed, N), #{}, 0.01))).

prop_accuracy_any_numbers() ->
    %% 65536 bins per store: no collapse for these magnitudes (collapse has its own EUnit test)
    ?FORALL(L, non_empty(list(any_number())), accurate(L, #{max_bins => 65536}, 0.01)).

prop_accuracy_other_alpha() ->
    ?FORALL({Alpha, L}, {oneof([0.001, 0.005, 0.02, 0.05, 0.1]), values()},
            accurate(L, #{relative_accuracy => Alpha, max_bins => 65536}, Alpha)).  %% no collapse

prop_merge_equals_union() ->
    ?FORALL({L1, L2, Bins}, {values(), values(), oneof([2048, 64])},
            begin
                Opts = #{max_bins => Bins},
                A = sketch(L1, Opts),
                B = sketch(L2, Opts),
                Both = sketch(L1 ++ L2, Opts),
                BinB = ?S:to_binary(B),
                ok = ?S:merge(A, B),
                Qs = [I / 100 || I <- lists:seq(0, 100)] ++ [0.999],
                Same = [?S:count(A), ?S:min(A), ?S:max(A)] =:= [?S:count(Both), ?S:min(Both), ?S:max(Both)],
                SumClose = abs(?S:sum(A) - ?S:sum(Both)) =< 1.0e-9 * max(1.0, abs(?S:sum(Both))),
                %% Without a collapse the bins are identical, hence every quantile. With a small cap
                %% merge collapses at a different moment than sequential inserts, so only the
                %% totals are compared.
                QuantilesSame = Bins =:= 64 orelse ?S:quantiles(A, Qs) =:= ?S:quantiles(Both, Qs),
                ?WHENFAIL(io:format("same ~p sum ~p ~p quantiles ~p~n", [Same, ?S:sum(A), ?S:sum(Both), QuantilesSame]),
                          Same andalso SumClose andalso QuantilesSame andalso BinB =:= ?S:to_binary(B))
            end).

prop_roundtrip_exact() ->
    ?FORALL({L, Opts}, {list(any_number()), oneof([#{}, #{max_bins => 32}, #{relative_accuracy => 0.05}])},
            begin
                S = sketch(L, Opts),
                Bin = ?S:to_binary(S),
                {ok, S2} = ?S:from_binary(Bin),
                Qs = [I / 100 || I <- lists:seq(0, 100)],
                Bin =:= ?S:to_binary(S2)
                    andalso ?S:quantiles(S, Qs) =:= ?S:quantiles(S2, Qs)
                    andalso [?S:count(S), ?S:sum(S), ?S:min(S), ?S:max(S)]
                            =:= [?S:count(S2), ?S:sum(S2), ?S:min(S2), ?S:max(S2)]
            end).

%% Helpers.

sketch(L, Opts) ->
    S = ?S:new(Opts),
    lists:foreach(fun(V) -> ok = ?S:insert(S, V) end, L),
    S.

accurate(L, Opts, Alpha) ->
    S = sketch(L, Opts),
    Sorted = list_to_tuple(lists:sort([float(V) || V <- L])),
    Qs = live_load_sketch_data:qs(),
    Bad = [{Q, live_load_sketch_data:exact_quantile(Sorted, Q), E}
           || {Q, E} <- lists:zip(Qs, ?S:quantiles(S, Qs)),
              not live_load_sketch_data:within(E, live_load_sketch_data:exact_quantile(Sorted, Q), Alpha)],
    ?WHENFAIL(io:format("off by more than ~p: ~p~n", [Alpha, lists:sublist(Bad, 5)]),
              Bad =:= [] andalso ?S:min(S) =:= element(1, Sorted)
              andalso ?S:max(S) =:= element(tuple_size(Sorted), Sorted)
              andalso ?S:count(S) =:= length(L)).
