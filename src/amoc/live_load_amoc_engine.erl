%% @doc The amoc engine of `live_load:run/1': it only schedules, through amoc, the same user
%% loop the local engine runs (the scenario runs as `live_load_amoc_runner').
%%
%% <ul>
%% <li>{@link run_local/2} (`engine => amoc'): amoc started on this node, `amoc:do/3', the
%%     users awaited with `live_load_amoc:await/2', then `amoc:stop/0' and `amoc:reset/0'.</li>
%% <li>{@link run_distributed/2} (`distributed => true'): the cluster formed from the `cluster'
%%     options (`live_load_cluster:start/2': workers joined to amoc one at a time, pointing at
%%     this node as the master; with the cluster option `calibrate', the cost measured first on
%%     the first worker, the scenario run there by the local engine), its plan printed, `amoc_dist:do/3' with no users
%%     (every worker's `init/0'), then each worker's share of the plan with `amoc_dist:add/2'
%%     (the clock starts on each worker when its first user has its context up), the users
%%     awaited while every worker is pulled, then `amoc_dist:stop/0' and the cluster torn
%%     down, also on an error or an interrupt.</li>
%% </ul>
%% {@link stop/0} (`live_load:stop/0', SIGTERM / Ctrl-C in the CLI) stops the users through
%% amoc; the result of what ran comes back with `run.interrupted => true'.
%%
%% Workarounds for amoc 4.1.0 (`reference/amoc-4.1.md'): the runner is registered with
%% `amoc_code_server:add_module/1' (a module not on the code path when amoc started is no
%% scenario to it), which also uploads it to the workers; the master's `amoc_dist' state (persistent terms, no
%% reset function) is cleared after a distributed run so that the next run can start.
-module(live_load_amoc_engine).

-export([run_local/2]).
-export([run_distributed/2]).
-export([stop/0]).
-export([settings/2]).
-export([forget_master_run/0]).

-define(NAME, ?MODULE).
-define(RUNNER, live_load_amoc_runner).
-define(DEFAULT_RAMP_MS, 3000).

%% @doc Runs `Scenario' with `amoc:do/3' on this node.
-spec run_local(module(), live_load_options:run_opts()) -> {ok, map()} | {error, term()}.
run_local(Scenario, Run) ->
    in_process(fun() ->
                       case prepare_amoc() of
                           ok -> local(Scenario, Run);
                           {error, _} = E -> E
                       end
               end).

%% @doc Forms the cluster of `cluster', runs `Scenario' with `amoc_dist:do/3', tears down.
-spec run_distributed(module(), live_load_options:run_opts()) -> {ok, map()} | {error, term()}.
run_distributed(_Scenario, #{cluster := undefined}) ->
    {error, {missing_option, cluster}};
run_distributed(Scenario, #{cluster := ClusterOpts, users := Users} = Run) ->
    case live_load_cluster:validate(ClusterOpts) of
        ok ->
            forget_master_run(),
            in_process(fun() ->
                               case live_load_cluster:start(ClusterOpts, #{users => Users, scenario => Scenario,
                                                                            calibrate => calibration(Scenario, Run)}) of
                                   {ok, Cluster} ->
                                       try distributed(Scenario, Run, Cluster)
                                       after
                                           forget_master_run(),
                                           live_load_cluster:stop(Cluster)
                                       end;
                                   {error, _} = E -> E
                               end
                       end);
        {error, _} = E -> E
    end.

%% The cluster option `calibrate': the scenario run by the local engine on the node given (the
%% first worker), with the run's own options but the calibration's users and duration.
calibration(Scenario, #{given := Given}) ->
    fun(Node, #{users := K, duration := D}) ->
            RunOpts = (maps:without([scenario, scenarios, otp_app, users, scenario_duration,
                                     distributed, cluster, cluster_opts, engine, run_id,
                                     thresholds, prometheus, user_rate, quiet,
                                     progress_interval], Given))#{scenario => Scenario,
                                                                  scenario_duration => D},
            case push_scenario(Scenario, [Node]) of
                ok ->
                    try erpc:call(Node, live_load_cluster_cost, calibrate, [RunOpts, K], 3 * D + 120000)
                    catch error:{erpc, R} -> {error, {calibration_node, R}};
                          error:{exception, R, _} -> {error, {calibration_crashed, R}}
                    end;
                {error, _} = E -> E
            end
    end.

%% @doc Interrupts the amoc run in progress on this node, if any.
-spec stop() -> ok.
stop() ->
    case whereis(?NAME) of
        undefined -> ok;
        Pid -> Pid ! {live_load_amoc, stop}, ok
    end.

%% @doc The amoc settings of a run of `Scenario' (the generic runner's).
-spec settings(module(), live_load_options:run_opts()) -> [{atom(), term()}].
settings(Scenario, Run) ->
    Extra0 = maps:with([browser_connection_opts, browser_connection_adapter, connection,
                        protocol_opts], Run),
    %% the data file is read again on each node (its feeder lives in that node's memory); the
    %% hybrid split travels as the per-kind counts, user ids being global under amoc
    Given = maps:get(given, Run, #{}),
    Extra1 = case Given of
                 #{data := Spec} -> Extra0#{data => Spec};
                 _ -> Extra0
             end,
    Extra = case Run of
                #{user_kinds := Kinds} -> Extra1#{user_kinds => Kinds};
                _ -> Extra1
            end,
    Config = maps:get(config_opts, Run),
    [{live_load_scenario, Scenario},
     {scenario_duration, maps:get(scenario_duration, Run)},
     {iteration_timeout, maps:get(iteration_timeout, Run)},
     {users_per_browser, maps:get(users_per_browser, Run)},
     {mode, maps:get(mode, Run)},
     {on_failure, maps:get(on_failure, Run)},
     {browser, maps:get(browser, Run)},
     {live_load_options, Extra#{config => Config}},
     {live_load_run_id, maps:get(run_id, Run, undefined)},
     {user_rate, user_rate(Run)}].

%% amoc's user_rate (users per minute). Default: as the local engine, all within about 3 s (or
%% a tenth of a short run); up to 100 users that is no limit at all, because amoc's user_rate
%% throttle splits a small per-minute rate over its pool and starts the first users seconds late.
user_rate(#{user_rate := undefined, users := Users}) when Users =< 100 ->
    infinity;
user_rate(#{user_rate := undefined, users := Users, scenario_duration := Duration}) ->
    Ramp = max(1, min(?DEFAULT_RAMP_MS, Duration div 10)),
    max(1, Users * 60000 div Ramp);
user_rate(#{user_rate := Rate}) ->
    Rate.

%%% Local

local(Scenario, #{users := Users} = Run) ->
    T0 = erlang:monotonic_time(millisecond),
    Amoc = amoc,
    case Amoc:do(?RUNNER, Users, settings(Scenario, Run)) of
        ok ->
            Progress = progress(Scenario, Run, [node()], T0),
            Result = live_load_amoc:await(Scenario, #{nodes => [node()], target => Users, started => T0,
                                                      options => live_load_options:recorded(maps:get(given, Run)),
                                                      thresholds => maps:get(thresholds, Run, []),
                                                      stop => fun() -> Amoc:stop() end}),
            stop_progress(Progress),
            _ = Amoc:stop(),
            await_finished(),
            _ = Amoc:reset(),
            Result;
        {error, Reason} ->
            _ = (catch Amoc:reset()),
            {error, amoc_error(Reason)}
    end.

%% the users are gone; amoc runs the scenario's terminate/1 (browsers, throttles) then
await_finished() ->
    Controller = amoc_controller,
    await(fun() -> case catch Controller:get_status() of
                       {running, _} -> false;
                       {terminating, _} -> false;
                       _ -> true
                   end
          end, 100, 100).

%%% Distributed

distributed(Scenario, #{users := Users} = Run, Cluster) ->
    Nodes = live_load_cluster:nodes(Cluster),
    Plan = live_load_cluster:plan(Cluster),
    maps:get(quiet, Run) orelse
        io:put_chars(standard_error, live_load_cluster:format_plan(Plan)),
    Dist = amoc_dist,
    T0 = erlang:monotonic_time(millisecond),
    case prepare_workers(Scenario, Nodes) of
        ok ->
            %% every node's init/0 first (no users), then each worker gets the plan's share:
            %% amoc_dist:add/2 on one node at a time keeps amoc's user ids global and unique
            case Dist:do(?RUNNER, 0, settings(Scenario, Run)) of
                {ok, _} ->
                    case add_planned(Plan) of
                        ok ->
                            Progress = progress(Scenario, Run, Nodes, T0),
                            Result = live_load_amoc:await(Scenario, #{nodes => Nodes, target => Users, started => T0,
                                                                      options => live_load_options:recorded(maps:get(given, Run)),
                                                                      thresholds => maps:get(thresholds, Run, []),
                                                                      stop => fun() -> Dist:stop() end}),
                            stop_progress(Progress),
                            _ = (catch Dist:stop()),
                            with_plan(Result, Cluster);
                        {error, Reason} ->
                            _ = (catch Dist:stop()),
                            {error, amoc_error(Reason)}
                    end;
                {error, Reason} ->
                    {error, amoc_error(Reason)}
            end;
        {error, _} = E -> E
    end.

prepare_workers(Scenario, Nodes) ->
    case add_runner() of
        ok -> push_scenario(Scenario, Nodes);
        {error, _} = E -> E
    end.

%% amoc_dist:add(K, [Node]) for each node of the plan, in the plan's order.
add_planned(#{nodes := Nodes, users_per_node := Split}) ->
    Dist = amoc_dist,
    lists:foldl(fun(Node, ok) ->
                        case maps:get(Node, Split, 0) of
                            0 -> ok;
                            K ->
                                case Dist:add(K, [Node]) of
                                    {ok, _} -> ok;
                                    {error, Reason} -> {error, {add_users, Node, K, Reason}}
                                end
                        end;
                   (_Node, Error) -> Error
                end, ok, Nodes).

with_plan({ok, #{<<"run">> := Run} = Result}, Cluster) ->
    Plan = maps:with([nodes, users_per_node, capacity, why, formation_ms, calibration], live_load_cluster:plan(Cluster)),
    {ok, Result#{<<"run">> := Run#{<<"cluster">> => live_load_json:to_term(Plan)}}};
with_plan(Other, _Cluster) ->
    Other.

%% The scenario module on every worker, whether or not their code path has it: its object
%% code, or, for a module compiled in memory (the CLI compiles `.erl' targets), its source
%% compiled again here.
push_scenario(Scenario, Nodes) ->
    case object_code(Scenario) of
        {ok, Bin, File} ->
            Answers = erpc:multicall(Nodes, code, load_binary, [Scenario, File, Bin], 30000),
            case [{N, A} || {N, A} <- lists:zip(Nodes, Answers), A =/= {ok, {module, Scenario}}] of
                [] -> ok;
                [{N, A} | _] -> {error, {scenario_not_loaded, N, A}}
            end;
        {error, _} = E -> E
    end.

object_code(M) ->
    case code:get_object_code(M) of
        {M, Bin, File} -> {ok, Bin, File};
        error ->
            Source = proplists:get_value(source, M:module_info(compile)),
            Include = filename:join(code:lib_dir(live_load), "include"),
            case is_list(Source) andalso compile:file(Source, [binary, debug_info, {i, Include}]) of
                {ok, M, Bin} -> {ok, Bin, Source};
                _ -> {error, {scenario_code_not_found, M}}
            end
    end.

%% @doc Forgets the last `amoc_dist' run on this master: amoc 4.1.0 keeps its scenario in
%% persistent terms with no function to reset them, and leaves the master's controller
%% disabled, so a second `amoc_dist:do/3' (also after one that failed) would answer
%% `{scenario_is_running, _}' or `{invalid_status, disabled}'. The persistent terms are erased
%% and amoc is stopped on this node when its controller is disabled (the next cluster starts it).
-spec forget_master_run() -> ok.
forget_master_run() ->
    [persistent_term:erase({amoc_dist, K}) || K <- [scenario, settings, state, last_id]],
    Controller = amoc_controller,
    (catch Controller:get_status()) =:= disabled andalso application:stop(amoc),
    ok.

%%% Helpers

in_process(Fun) ->
    Caller = self(),
    Ref = make_ref(),
    {Pid, Mon} = spawn_monitor(fun() ->
                                       _ = catch register(?NAME, self()),
                                       Caller ! {Ref, try Fun()
                                                      catch C:R:S -> {error, {engine_crashed, {C, R, S}}}
                                                      end}
                               end),
    receive
        {Ref, Result} -> demonitor(Mon, [flush]), Result;
        {'DOWN', Mon, process, Pid, Reason} -> {error, {engine_crashed, Reason}}
    end.

prepare_amoc() ->
    Controller = amoc_controller,
    %% a node that was an amoc_dist master has its controller disabled: start amoc afresh
    (catch Controller:get_status()) =:= disabled andalso application:stop(amoc),
    case application:ensure_all_started(amoc) of
        {ok, _} ->
            %% amoc_throttle and amoc:do/3 need the master set on a single node
            Cluster = amoc_cluster,
            _ = Cluster:set_master_node(node()),
            add_runner();
        {error, Reason} -> {error, {amoc_not_started, Reason}}
    end.

add_runner() ->
    {module, ?RUNNER} = code:ensure_loaded(?RUNNER),
    Code = amoc_code_server,
    case Code:does_scenario_exist(?RUNNER) orelse Code:add_module(?RUNNER) of
        true -> ok;
        ok -> ok;
        {error, module_version_has_changed} -> ok;
        {error, Reason} -> {error, {amoc_add_module, ?RUNNER, Reason}}
    end.

progress(_Scenario, #{quiet := true}, _Nodes, _T0) ->
    undefined;
progress(Scenario, Run, Nodes, T0) ->
    live_load_progress:start(#{scenario => Scenario, target => maps:get(users, Run), started => T0,
                               duration => maps:get(scenario_duration, Run), nodes => Nodes,
                               interval => maps:get(progress_interval, Run)}).

stop_progress(undefined) -> ok;
stop_progress(Pid) -> live_load_progress:stop(Pid).

%% amoc's verification error carrying our precise reason becomes that reason.
amoc_error({parameters_verification_failed, [{_Name, _Value, {verification_failed, {invalid_option, _, _} = R}} | _]}) ->
    R;
amoc_error([{_Node, Reason} | _]) ->
    amoc_error(Reason);
amoc_error(Reason) ->
    {amoc_failed, Reason}.

await(_Pred, _Ms, 0) -> ok;
await(Pred, Ms, Tries) ->
    case Pred() of
        true -> ok;
        false -> timer:sleep(Ms), await(Pred, Ms, Tries - 1)
    end.
