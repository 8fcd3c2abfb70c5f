%% @doc Calibration: the measured cost of one user, for sizing a cluster from it
%% (`cluster => #{cost => Cost}', {@link live_load_cluster_size}).
%%
%% {@link measure/2} runs a short load (any fun: typically `live_load:run/1' of the scenario
%% with a few users for 20-60 s on this node) and measures, over this node's OS process and
%% every process below it (the browser port programs and their Chromium processes):
%% <ul>
%% <li>CPU: user + system time of the whole process tree between start and end (including
%%     children that exited, through the parents' `cutime'/`cstime'), from `/proc/<pid>/stat';</li>
%% <li>memory: the peak of the tree's summed PSS, sampled every `sample_ms' (default 500) from
%%     `/proc/<pid>/smaps_rollup' (BEAM included: what a worker really needs per user).</li>
%% </ul>
%% With the iteration count the fun reports, that gives
%% `#{cpu_ms_per_iteration, iteration_ms, pss_mb_per_user}': iteration_ms is
%% `wall time x users / iterations'. Linux only (`{error, no_procfs}' elsewhere).
-module(live_load_cluster_cost).

-export([measure/2]).
-export([measure/3]).
-export([calibrate/2]).

-export_type([cost/0]).

-type cost() :: #{cpu_ms_per_iteration := float(), iteration_ms := float(),
                  pss_mb_per_user := float(), iterations => non_neg_integer(),
                  cpu_ms => float(), wall_ms => integer(), peak_pss_mb => float()}.

-define(TICKS_PER_S, 100).  % USER_HZ of /proc/<pid>/stat on Linux

%% @doc The calibration of a distributed run (cluster option `calibrate'), on the node it is
%% called on (the first worker): `live_load:run(RunOpts)' of the scenario by the local engine,
%% with `Users' users, measured by {@link measure/2}. `RunOpts' are the run's own options with
%% its `users' and `scenario_duration' replaced by the calibration's. The local engine's clock
%% starts once its browsers run, so on a very busy machine the users' contexts may come up after
%% a short calibration's end, with no iteration: then it is run once more for twice as long
%% before `{error, {no_iterations, #{tried_ms := [D, 2 * D], ...}}}'.
-spec calibrate(map(), pos_integer()) -> {ok, cost()} | {error, term()}.
calibrate(#{scenario_duration := D} = RunOpts, Users) ->
    case calibrate_once(RunOpts, Users) of
        {error, {no_iterations, _}} ->
            case calibrate_once(RunOpts#{scenario_duration => 2 * D}, Users) of
                {error, {no_iterations, What}} -> {error, {no_iterations, What#{tried_ms => [D, 2 * D]}}};
                Second -> Second
            end;
        First -> First
    end.

calibrate_once(RunOpts, Users) ->
    case measure(fun() -> live_load:run(RunOpts#{users => Users, quiet => true}) end, Users) of
        {error, {no_iterations, Results}} when is_map(Results) ->
            %% what the run did, not the whole result
            {error, {no_iterations, maps:map(fun(_, #{<<"run">> := Run}) ->
                                                     maps:with([<<"users">>, <<"iterations">>, <<"duration_ms">>], Run);
                                                (_, Other) -> Other
                                             end, Results)}};
        {error, {no_iterations, Other}} ->
            {error, {no_iterations, #{result => Other}}};
        Measured -> Measured
    end.

%% @doc {@link measure/3} with default options.
-spec measure(fun(() -> term()), pos_integer()) -> {ok, cost()} | {error, term()}.
measure(Run, Users) ->
    measure(Run, Users, #{}).

%% @doc Run `Run()' for `Users' users and measure their cost. `Run' returns a live_load result
%% (its `run.iterations' are counted: ok + failed + halted) or `{iterations, N}'.
%% Options: `sample_ms' (PSS sampling period, default 500).
-spec measure(fun(() -> term()), pos_integer(), #{sample_ms => pos_integer()}) ->
          {ok, #{cpu_ms_per_iteration := float(), iteration_ms := float(),
                 pss_mb_per_user := float(), iterations := non_neg_integer(),
                 cpu_ms := float(), wall_ms := integer(), peak_pss_mb := float()}} |
          {error, term()}.
measure(Run, Users, Opts) when is_function(Run, 0), is_integer(Users), Users > 0 ->
    case filelib:is_dir("/proc/self") of
        false -> {error, no_procfs};
        true ->
            Self = os:getpid(),
            Cpu0 = tree_cpu_ticks(Self),
            T0 = erlang:monotonic_time(millisecond),
            Sampler = spawn_link(fun() -> sample(Self, maps:get(sample_ms, Opts, 500), 0) end),
            Result = Run(),
            Wall = erlang:monotonic_time(millisecond) - T0,
            Sampler ! {stop, self()},
            Peak = receive {peak, Sampler, P} -> P end,
            CpuMs = (tree_cpu_ticks(Self) - Cpu0) * 1000 / ?TICKS_PER_S,
            case iterations(Result) of
                {ok, 0} -> {error, {no_iterations, Result}};
                {ok, N} ->
                    {ok, #{cpu_ms_per_iteration => CpuMs / N, iteration_ms => Wall * Users / N,
                           pss_mb_per_user => Peak / 1024 / Users, iterations => N,
                           cpu_ms => CpuMs, wall_ms => Wall, peak_pss_mb => Peak / 1024}};
                error -> {error, {no_iterations, Result}}
            end
    end;
measure(_Run, Users, _Opts) ->
    {error, {invalid_option, users, Users}}.

iterations({iterations, N}) when is_integer(N), N >= 0 -> {ok, N};
iterations(#{<<"run">> := #{<<"iterations">> := I}}) when is_map(I) ->
    {ok, lists:sum([maps:get(K, I, 0) || K <- [<<"ok">>, <<"failed">>, <<"halted">>]])};
iterations(#{run := #{iterations := I}}) when is_map(I) ->
    {ok, lists:sum([maps:get(K, I, 0) || K <- [ok, failed, halted]])};
iterations(Results) when is_map(Results), map_size(Results) > 0 ->
    %% live_load:run/1 with several scenarios: #{Scenario => Result}
    Ns = [iterations(R) || R <- maps:values(Results)],
    case lists:member(error, Ns) of
        true -> error;
        false -> {ok, lists:sum([N || {ok, N} <- Ns])}
    end;
iterations(_) -> error.

sample(Root, Every, Peak) ->
    Now = lists:sum([pss_kb(P) || P <- tree(Root)]),
    receive
        {stop, From} -> From ! {peak, self(), max(Peak, Now)}
    after Every ->
            sample(Root, Every, max(Peak, Now))
    end.

%% The OS pids of Root and all its descendants.
tree(Root) ->
    Parents = lists:foldl(fun(Pid, Acc) ->
                                  case stat(Pid) of
                                      {ok, Fields} -> maps:update_with(lists:nth(2, Fields), fun(L) -> [Pid | L] end, [Pid], Acc);
                                      error -> Acc
                                  end
                          end, #{}, pids()),
    descend([Root], Parents, []).

descend([], _Parents, Acc) -> Acc;
descend([P | Rest], Parents, Acc) ->
    descend(maps:get(P, Parents, []) ++ Rest, Parents, [P | Acc]).

pids() ->
    case file:list_dir("/proc") of
        {ok, Names} -> [N || N <- Names, N =/= "", lists:all(fun(C) -> C >= $0 andalso C =< $9 end, N)];
        {error, _} -> []
    end.

%% Fields of /proc/<pid>/stat after the command name: [State, PPid, ...]; utime is field 14
%% of the file, i.e. the 12th after the name.
stat(Pid) ->
    case file:read_file("/proc/" ++ Pid ++ "/stat") of
        {ok, Bin} ->
            case string:split(binary_to_list(Bin), ")", trailing) of
                [_, After] -> {ok, string:lexemes(After, " \n")};
                _ -> error
            end;
        {error, _} -> error
    end.

tree_cpu_ticks(Root) ->
    lists:sum([cpu_ticks(P) || P <- tree(Root)]).

cpu_ticks(Pid) ->
    case stat(Pid) of
        {ok, Fields} when length(Fields) >= 15 ->
            lists:sum([list_to_integer(lists:nth(I, Fields)) || I <- [12, 13, 14, 15]]);
        _ -> 0
    end.

pss_kb(Pid) ->
    case file:read_file("/proc/" ++ Pid ++ "/smaps_rollup") of
        {ok, Bin} ->
            case [L || L <- binary:split(Bin, <<"\n">>, [global]), binary:match(L, <<"Pss:">>) =:= {0, 4}] of
                [L | _] -> binary_to_integer(hd(string:lexemes(binary_part(L, 4, byte_size(L) - 4), " kB")));
                [] -> 0
            end;
        {error, _} -> 0
    end.
