#!/usr/bin/env escript
%% Benchmark of the live_load_sketch NIF (not a test). Prints "name: value" lines.
%% Run from the project root with ERL_LIBS=_build/default/lib (bench/sketch/run.sh does):
%%   single      one process; CPU time of the VM (statistics(runtime)), meant for
%%               ERL_FLAGS="+S 1:1 +sbwt none +sbwtdcpu none +sbwtdio none" so that the VM's
%%               CPU time is this process's work (the build box is shared, wall time is noisy)
%%   concurrent  P processes inserting into one shared sketch vs one sketch each (wall clock)
-mode(compile).

-define(S, live_load_sketch).
-define(N, 1000000).

main(["single"]) ->
    Values = values(),
    S = ?S:new(),
    Ns = lists:min([begin
                        ok = ?S:reset(S),
                        cpu_us(fun() -> insert_loop(S, Values) end) * 1000 / ?N
                    end || _ <- lists:seq(1, 5)]),
    out(nif_insert_ns, Ns),
    Bin = ?S:to_binary(S),
    out(nif_to_binary_bytes, byte_size(Bin)),
    out(nif_to_binary_us, per_call(50000, fun() -> ?S:to_binary(S) end)),
    out(nif_from_binary_us, per_call(20000, fun() -> {ok, _} = ?S:from_binary(Bin) end)),
    Qs = [I / 100 || I <- lists:seq(0, 100)],
    out(nif_quantiles101_us, per_call(20000, fun() -> ?S:quantiles(S, Qs) end)),
    A = full(),
    B = full(),
    out(nif_merge_us, per_call(100000, fun() -> ok = ?S:merge(A, B) end)),
    ok;
main(["concurrent"]) ->
    Values = values(),
    %% Concurrency: P processes inserting into ONE shared sketch (its mutex) vs each into its
    %% own sketch (what per-scheduler shards would at best give). ns per insert, wall clock.
    Chunk = lists:sublist(Values, 200000),
    [begin
         out(list_to_atom("nif_concurrent_shared_p" ++ integer_to_list(P) ++ "_ns"),
             concurrent(P, Chunk, shared)),
         out(list_to_atom("nif_concurrent_own_p" ++ integer_to_list(P) ++ "_ns"),
             concurrent(P, Chunk, own))
     end || P <- [1, 2, 8]],
    ok.

values() ->
    [math:exp(rand:normal()) || _ <- lists:seq(1, ?N)].  %% ms: median 1 ms, sigma 1

cpu_us(F) ->
    statistics(runtime),
    F(),
    {_, Ms} = statistics(runtime),
    Ms * 1000.

insert_loop(_S, []) -> ok;
insert_loop(S, [V | T]) -> ?S:insert(S, V), insert_loop(S, T).

per_call(Reps, F) ->
    F(),
    lists:min([cpu_us(fun() -> repeat(Reps, F) end) / Reps || _ <- lists:seq(1, 3)]).

repeat(0, _F) -> ok;
repeat(N, F) -> F(), repeat(N - 1, F).

full() ->
    S = ?S:new(),
    Gamma = 1.01 / 0.99,
    [begin
         V = math:pow(Gamma, K - 1000) * 0.999,
         ok = ?S:insert(S, V, K + 1),
         ok = ?S:insert(S, -V, K + 1)
     end || K <- lists:seq(0, 2047)],
    S.

concurrent(P, Values, Mode) ->
    Shared = ?S:new(),
    Parent = self(),
    T0 = erlang:monotonic_time(nanosecond),
    Pids = [spawn_link(fun() ->
                               S = case Mode of shared -> Shared; own -> ?S:new() end,
                               insert_loop(S, Values),
                               Parent ! {done, self()}
                       end) || _ <- lists:seq(1, P)],
    [receive {done, Pid} -> ok end || Pid <- Pids],
    (erlang:monotonic_time(nanosecond) - T0) / (P * length(Values)).

out(Name, V) when is_float(V) -> io:format("~s: ~.2f~n", [Name, V]);
out(Name, V) -> io:format("~s: ~p~n", [Name, V]).
