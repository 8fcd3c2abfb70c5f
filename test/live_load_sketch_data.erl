%% @doc Test data and exact quantiles for the live_load_sketch tests (test profile only).
-module(live_load_sketch_data).

-export([kinds/0, generate/3, exact_quantile/2, qs/0, within/3]).

kinds() ->
    [uniform, lognormal, pareto, mixed_sign, with_zeros, integers].

%% @doc N values of distribution Kind, deterministic for Seed.
generate(Kind, Seed, N) ->
    S0 = rand:seed_s(exsss, Seed),
    {L, _} = lists:foldl(fun(_, {Acc, S}) ->
                                 {V, S1} = value(Kind, S),
                                 {[V | Acc], S1}
                         end, {[], S0}, lists:seq(1, N)),
    L.

value(uniform, S) ->
    {U, S1} = rand:uniform_s(S),
    {U * 1000.0, S1};
value(lognormal, S) ->
    %% latencies: median 1 ms
    {X, S1} = rand:normal_s(S),
    {math:exp(X * 1.2), S1};
value(pareto, S) ->
    {U, S1} = rand:uniform_real_s(S),
    {1.0 / math:pow(U, 1 / 1.1), S1};
value(mixed_sign, S) ->
    {X, S1} = rand:normal_s(S),
    {X * 100.0, S1};
value(with_zeros, S) ->
    {U, S1} = rand:uniform_s(S),
    {X, S2} = rand:normal_s(S1),
    if U < 0.3 -> {0, S2};
       U < 0.6 -> {-math:exp(X), S2};
       true -> {math:exp(X), S2}
    end;
value(integers, S) ->
    {U, S1} = rand:uniform_s(30000, S),
    {U - 1000, S1}.

%% @doc The quantiles the issue asks for: 0.01..0.99 and 0.999.
qs() ->
    [I / 100 || I <- lists:seq(1, 99)] ++ [0.999].

%% @doc Exact quantile of a sorted list (a tuple for speed): rank floor(Q * (N - 1)).
exact_quantile(Sorted, Q) when is_tuple(Sorted) ->
    N = tuple_size(Sorted),
    element(floor(Q * (N - 1)) + 1, Sorted).

within(Est, Exact, Alpha) ->
    abs(Est - Exact) =< Alpha * abs(Exact) * (1 + 1.0e-9) + 1.0e-300.
