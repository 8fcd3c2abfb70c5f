%% EUnit tests of live_load_sketch: API contract, options, errors, collapse, concurrency.
-module(live_load_sketch_tests).

-include_lib("eunit/include/eunit.hrl").

-define(S, live_load_sketch).

empty_test() ->
    S = ?S:new(),
    ?assertEqual(0, ?S:count(S)),
    ?assertEqual(0.0, ?S:sum(S)),
    ?assertEqual(undefined, ?S:min(S)),
    ?assertEqual(undefined, ?S:max(S)),
    ?assertEqual(undefined, ?S:quantile(S, 0.5)),
    ?assertEqual([undefined, undefined], ?S:quantiles(S, [0.1, 0.9])),
    ?assertEqual([], ?S:quantiles(S, [])).

basic_stats_test() ->
    S = ?S:new(),
    ok = ?S:insert(S, 3),
    ok = ?S:insert(S, -2.5),
    ok = ?S:insert(S, 0),
    ok = ?S:insert(S, 10.0, 4),
    ?assertEqual(7, ?S:count(S)),
    ?assertEqual(40.5, ?S:sum(S)),
    ?assertEqual(-2.5, ?S:min(S)),
    ?assertEqual(10.0, ?S:max(S)),
    ?assertEqual(-2.5, ?S:quantile(S, 0)),
    ?assertEqual(10.0, ?S:quantile(S, 1)),
    ?assertEqual(0.0, ?S:quantile(S, 1 / 6)),   %% rank 1
    Q = ?S:quantile(S, 2 / 6),                  %% rank 2: 3
    ?assert(abs(Q - 3) =< 0.03),
    ?assertEqual([?S:quantile(S, 0.9), -2.5], ?S:quantiles(S, [0.9, 0.0])),
    ok = ?S:reset(S),
    ?assertEqual(0, ?S:count(S)).

bad_arguments_test() ->
    S = ?S:new(),
    ok = ?S:insert(S, 1),
    ?assertError(badarg, ?S:insert(S, foo)),
    ?assertError(badarg, ?S:insert(S, 1 bsl 70)),
    ?assertError(badarg, ?S:insert(S, 1.0, 0)),
    ?assertError(badarg, ?S:insert(S, 1.0, -1)),
    ?assertError(badarg, ?S:insert(S, 1.0, 1.5)),
    ?assertError(badarg, ?S:insert(make_ref(), 1.0)),
    ?assertError(badarg, ?S:quantile(S, 1.5)),
    ?assertError(badarg, ?S:quantile(S, -0.1)),
    ?assertError(badarg, ?S:quantile(S, half)),
    ?assertError(badarg, ?S:quantiles(S, [0.5, 2])),
    ?assertError(badarg, ?S:quantiles(S, [0.5 | 0.6])),
    ?assertError(badarg, ?S:from_binary("DK")),
    ?assertError(badarg, ?S:merge(S, self())).

options_test() ->
    ?assertEqual(0, ?S:count(?S:new(#{relative_accuracy => 0.05, max_bins => 10}))),
    ?assertError({invalid_option, relative_accuracy, 0.0}, ?S:new(#{relative_accuracy => 0.0})),
    ?assertError({invalid_option, relative_accuracy, 1.0}, ?S:new(#{relative_accuracy => 1.0})),
    ?assertError({invalid_option, relative_accuracy, 1}, ?S:new(#{relative_accuracy => 1})),
    ?assertError({invalid_option, relative_accuracy, fast}, ?S:new(#{relative_accuracy => fast})),
    ?assertError({invalid_option, max_bins, 0}, ?S:new(#{max_bins => 0})),
    ?assertError({invalid_option, max_bins, 65537}, ?S:new(#{max_bins => 65537})),
    ?assertError({invalid_option, max_bins, 2.0}, ?S:new(#{max_bins => 2.0})),
    ?assertError({invalid_option, colour, red}, ?S:new(#{colour => red})),
    ?assertError({invalid_option, options, [x]}, ?S:new([x])).

merge_test() ->
    A = ?S:new(),
    B = ?S:new(),
    [?S:insert(A, X) || X <- lists:seq(1, 100)],
    [?S:insert(B, -X) || X <- lists:seq(1, 50)],
    BinB = ?S:to_binary(B),
    ok = ?S:merge(A, B),
    ?assertEqual(BinB, ?S:to_binary(B)),            %% From unchanged
    ?assertEqual(150, ?S:count(A)),
    ?assertEqual(-50.0, ?S:min(A)),
    ?assertEqual(100.0, ?S:max(A)),
    ok = ?S:merge(A, A),                            %% into itself: doubles
    ?assertEqual(300, ?S:count(A)),
    ?assertEqual({error, incompatible}, ?S:merge(A, ?S:new(#{relative_accuracy => 0.02}))),
    %% a different bin cap is fine; Into keeps its own
    ok = ?S:merge(?S:new(#{max_bins => 16}), A).

collapse_keeps_the_tail_accurate_test_() ->
    {timeout, 60, fun collapse_keeps_the_tail_accurate/0}.

collapse_keeps_the_tail_accurate() ->
    Alpha = 0.01,
    MaxBins = 256,
    S = ?S:new(#{max_bins => MaxBins}),
    Values = live_load_sketch_data:generate(lognormal, 7, 20000),
    [?S:insert(S, V) || V <- Values],
    Sorted = list_to_tuple(lists:sort(Values)),
    %% keys: ceil(log_gamma(v)); the top MaxBins keys are kept, the rest collapsed
    Gamma = (1 + Alpha) / (1 - Alpha),
    KMax = ceil(math:log(?S:max(S)) / math:log(Gamma)),
    Floor = math:pow(Gamma, KMax - MaxBins + 1),
    Qs = [I / 1000 || I <- lists:seq(1, 999)],
    Above = [Q || Q <- Qs, live_load_sketch_data:exact_quantile(Sorted, Q) > Floor * 1.03],
    ?assert(length(Above) > 50),
    ?assert(length(Above) < 999),                  %% something did collapse
    lists:foreach(fun(Q) ->
                          Exact = live_load_sketch_data:exact_quantile(Sorted, Q),
                          Est = ?S:quantile(S, Q),
                          ?assert(live_load_sketch_data:within(Est, Exact, Alpha))
                  end, Above),
    {ok, S2} = ?S:from_binary(?S:to_binary(S)),
    ?assertEqual(?S:quantiles(S, Qs), ?S:quantiles(S2, Qs)).

from_binary_errors_test_() ->
    {timeout, 60, fun from_binary_errors/0}.

from_binary_errors() ->
    S = ?S:new(),
    [?S:insert(S, X * 1.5) || X <- lists:seq(-100, 400)],
    Bin = ?S:to_binary(S),
    ?assertEqual({error, truncated}, ?S:from_binary(<<>>)),
    ?assertEqual({error, bad_magic}, ?S:from_binary(<<"XX", 1, 0, 0:64>>)),
    <<Magic:2/binary, _V, Rest/binary>> = Bin,
    ?assertEqual({error, unsupported_version}, ?S:from_binary(<<Magic/binary, 9, Rest/binary>>)),
    %% version 1 (no checksum) is refused by name
    ?assertEqual({error, unsupported_version}, ?S:from_binary(<<Magic/binary, 1, Rest/binary>>)),
    %% a byte more moves the checksum: refused before the body is read
    ?assertEqual({error, bad_checksum}, ?S:from_binary(<<Bin/binary, 0>>)),
    %% every single flipped bit, anywhere, is rejected, never merged
    [?assertMatch({error, _}, ?S:from_binary(flip(Bin, I)))
     || I <- lists:seq(0, bit_size(Bin) - 1)],
    ?assertEqual({error, bad_checksum}, ?S:from_binary(flip(Bin, 8 * 20 + 3))),
    %% every prefix is refused
    [?assertMatch({error, _}, ?S:from_binary(binary:part(Bin, 0, N)))
     || N <- lists:seq(0, byte_size(Bin) - 1)],
    %% random garbage and random byte flips never crash the node
    Rand = rand:seed_s(exsss, 42),
    lists:foldl(fun(_, R0) ->
                        {Pos, R1} = rand:uniform_s(byte_size(Bin), R0),
                        {Byte, R2} = rand:uniform_s(256, R1),
                        <<P:(Pos - 1)/binary, _, T/binary>> = Bin,
                        Mut = <<P/binary, (Byte - 1), T/binary>>,
                        case ?S:from_binary(Mut) of
                            {ok, M} -> ?assertEqual(Mut, ?S:to_binary(M));
                            {error, Reason} -> ?assert(is_atom(Reason))
                        end,
                        R2
                end, Rand, lists:seq(1, 3000)),
    ?assertMatch({error, _}, ?S:from_binary(crypto:strong_rand_bytes(100000))).

%% Many processes insert into one sketch at once: nothing is lost.
concurrent_insert_test_() ->
    {timeout, 120,
     fun() ->
             S = ?S:new(),
             Procs = 8,
             PerProc = 20000,
             Parent = self(),
             Pids = [spawn_link(fun() ->
                                        [?S:insert(S, float(I)) || I <- lists:seq(1, PerProc)],
                                        Parent ! {done, self()}
                                end) || _ <- lists:seq(1, Procs)],
             [receive {done, P} -> ok end || P <- Pids],
             ?assertEqual(Procs * PerProc, ?S:count(S)),
             ?assertEqual(Procs * (PerProc * (PerProc + 1) / 2), ?S:sum(S)),
             ?assertEqual(1.0, ?S:min(S)),
             ?assertEqual(float(PerProc), ?S:max(S))
     end}.

%% merge(A, B) and merge(B, A) racing must not deadlock (locks are taken in address order).
concurrent_cross_merge_test_() ->
    {timeout, 120,
     fun() ->
             A = ?S:new(),
             B = ?S:new(),
             ok = ?S:insert(A, 1.0),
             ok = ?S:insert(B, 2.0),
             Parent = self(),
             Run = fun(X, Y) ->
                           spawn_link(fun() ->
                                              [begin ok = ?S:merge(X, Y), ok = ?S:reset(X), ok = ?S:insert(X, 1) end
                                               || _ <- lists:seq(1, 20000)],
                                              Parent ! {done, self()}
                                      end)
                   end,
             Pids = [Run(A, B), Run(B, A), Run(A, B), Run(B, A)],
             [receive {done, P} -> ok after 60000 -> error(deadlock) end || P <- Pids]
     end}.

%% Sketches are usable after the process that made them is gone, and are garbage collected.
resource_lifetime_test_() ->
    {timeout, 60, fun resource_lifetime/0}.

resource_lifetime() ->
    Self = self(),
    spawn(fun() -> S = ?S:new(), ok = ?S:insert(S, 5), Self ! {s, S} end),
    S = receive {s, X} -> X end,
    ?assertEqual(1, ?S:count(S)),
    [?S:to_binary(?S:new()) || _ <- lists:seq(1, 10000)],
    ok.

big_quantile_lists_run_dirty_test_() ->
    {timeout, 60, fun big_quantile_lists_run_dirty/0}.

big_quantile_lists_run_dirty() ->
    S = ?S:new(),
    [?S:insert(S, X) || X <- lists:seq(1, 1000)],
    Qs = [I / 10000 || I <- lists:seq(0, 10000)],
    R = ?S:quantiles(S, Qs),
    ?assertEqual(10001, length(R)),
    ?assertEqual(R, lists:sort(R)),
    ?assertEqual([?S:quantile(S, Q) || Q <- Qs], R).

%% Writers, readers and mergers on the same sketches at once: no crash, nothing lost, and every
%% serialised snapshot taken mid-flight decodes.
concurrent_mixed_operations_test_() ->
    {timeout, 120,
     fun() ->
             S = ?S:new(),
             Other = ?S:new(),
             ok = ?S:insert(Other, 5.0, 10),
             Parent = self(),
             Writer = fun() -> [ok = ?S:insert(S, float(I rem 997) - 100) || I <- lists:seq(1, 20000)] end,
             Reader = fun() ->
                              [begin
                                   {ok, Copy} = ?S:from_binary(?S:to_binary(S)),
                                   Qs = ?S:quantiles(Copy, [0.1, 0.5, 0.99]),
                                   true = Qs =:= lists:sort(Qs) orelse Qs =:= [undefined, undefined, undefined],
                                   _ = ?S:quantile(S, 0.9)
                               end || _ <- lists:seq(1, 300)]
                      end,
             Merger = fun() -> [ok = ?S:merge(S, Other) || _ <- lists:seq(1, 500)] end,
             Run = fun(F) -> spawn_link(fun() -> F(), Parent ! {done, self()} end) end,
             Pids = [Run(Writer), Run(Writer), Run(Reader), Run(Merger)],
             [receive {done, P} -> ok after 100000 -> error(timeout) end || P <- Pids],
             ?assertEqual(2 * 20000 + 500 * 10, ?S:count(S)),
             ?assertEqual(10, ?S:count(Other))
     end}.

flip(Bin, I) ->
    <<A:I/bitstring, B:1, C/bitstring>> = Bin,
    <<A/bitstring, (1 - B):1, C/bitstring>>.
