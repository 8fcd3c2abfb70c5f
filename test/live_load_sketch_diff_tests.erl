%% Differential test against the reference DDSketch, @datadog/sketches-js (npm), run by node:
%% same accuracy and bin cap, same inputs; the quantiles agree within the accuracy bound, and
%% both are within the bound of the exact sorted quantile.
-module(live_load_sketch_diff_tests).

-include_lib("eunit/include/eunit.hrl").

-define(S, live_load_sketch).

diff_test_() ->
    Cases = [{Kind, Seed, N, Alpha}
             || {Kind, N} <- [{uniform, 5000}, {lognormal, 20000}, {pareto, 20000},
                              {mixed_sign, 10000}, {with_zeros, 10000}, {integers, 5000}],
                Seed <- [1, 2],
                Alpha <- [0.01, 0.02]],
    {timeout, 300, [{lists:flatten(io_lib:format("~p seed ~p alpha ~p", [K, Se, A])),
                     fun() -> compare(K, Se, N, A) end} || {K, Se, N, A} <- Cases]}.

compare(Kind, Seed, N, Alpha) ->
    Values = live_load_sketch_data:generate(Kind, Seed, N),
    Qs = live_load_sketch_data:qs(),
    S = ?S:new(#{relative_accuracy => Alpha}),
    [ok = ?S:insert(S, V) || V <- Values],
    Ours = ?S:quantiles(S, Qs),
    Theirs = reference(Alpha, 2048, Values, Qs),
    Sorted = list_to_tuple(lists:sort([float(V) || V <- Values])),
    lists:foreach(
      fun({Q, O, T}) ->
              Exact = live_load_sketch_data:exact_quantile(Sorted, Q),
              Ctx = {q, Q, exact, Exact, ours, O, sketches_js, T},
              ?assert(live_load_sketch_data:within(O, Exact, Alpha), Ctx),
              ?assert(live_load_sketch_data:within(T, Exact, Alpha), Ctx),
              ?assert(abs(O - T) =< Alpha * max(abs(O), abs(T)) * (1 + 1.0e-9) + 1.0e-300, Ctx)
      end, lists:zip3(Qs, Ours, Theirs)).

reference(Alpha, MaxBins, Values, Qs) ->
    Node = os:find_executable("node"),
    ?assertNotEqual(false, Node),
    Script = script(),
    File = filename:join(tmp_dir(), "live_load_sketch_diff_" ++ integer_to_list(erlang:unique_integer([positive]))),
    Body = [io_lib:format("~p ~p~n", [Alpha, MaxBins]),
            [[num(V), $\n] || V <- Values], "--\n",
            [[num(Q), $\n] || Q <- Qs]],
    ok = file:write_file(File, Body),
    try
        Port = open_port({spawn_executable, Node},
                         [{args, [Script, File]}, exit_status, binary, stream, use_stdio]),
        Out = collect(Port, []),
        [binary_to_float(L) || L <- binary:split(Out, <<"\n">>, [global, trim_all])]
    after
        file:delete(File)
    end.

num(V) when is_integer(V) -> integer_to_list(V);
num(V) -> float_to_list(V, [short]).

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, [D | Acc]);
        {Port, {exit_status, 0}} -> iolist_to_binary(lists:reverse(Acc));
        {Port, {exit_status, St}} -> error({node_failed, St, iolist_to_binary(lists:reverse(Acc))})
    after 120000 -> error(node_timeout)
    end.

script() ->
    Root = case os:getenv("LIVE_LOAD_ROOT") of
               false -> root_from_cwd();
               R -> R
           end,
    Script = filename:join(Root, "test/js/sketch_diff.js"),
    ?assert(filelib:is_regular(Script), {missing, Script}),
    ?assert(filelib:is_dir(filename:join(Root, "node_modules/@datadog/sketches-js")),
            "run `make setup` (npm ci) first"),
    Script.

root_from_cwd() ->
    {ok, Cwd} = file:get_cwd(),
    Cwd.

tmp_dir() ->
    case os:getenv("TMPDIR") of
        false -> "/tmp";
        D -> D
    end.
