%% @doc live_load's entry point: `run/1' runs load-test scenarios, `stop/0' interrupts a run.
%%
%% ```
%% live_load:run(#{scenario => my_scenario, users => 8, scenario_duration => 60000,
%%                 base_url => <<"http://127.0.0.1:4000">>}).
%% %% => #{my_scenario => Result}
%% '''
%% Options (a map or a proplist):
%% <ul>
%% <li>`scenario' (module) | `scenarios' ([module]) | `otp_app' (every module of that application
%%     implementing `live_load_scenario'), in that priority order.</li>
%% <li>`users' (default 1), `user_rate' (users started per minute; default all within about 3 s),
%%     `scenario_duration' (ms, default 10 min), `iteration_timeout' (ms, default 2 min);
%%     `infinity' is rejected for both durations.</li>
%% <li>`on_failure' (`continue', default: a failed iteration is recorded and the user goes on,
%%     keeping the load constant; `stop_user': the user ends at its first failed iteration, as
%%     LiveLoad does).</li>
%% <li>`browser_connection_adapter' (module), `browser_connection_opts' (map, given to every
%%     browser of the pool), `users_per_browser' (default 8), `mode' (`faithful' | `fast').</li>
%% <li>`quiet' (no progress line), `progress_interval' (ms).</li>
%% <li>`engine' (`local', default: the embedded engine; `amoc': `amoc:do/3' on this node) and
%%     `distributed' (`true': a cluster formed from `cluster' (alias `cluster_opts'), the users
%%     run by `amoc_dist:do/3' on its workers); both need amoc on the code path, else
%%     `{error, {amoc_not_available, _}}'. See `guides/distributed.md'.</li>
%% <li>`flame_backend' (with `distributed'): the workers are FLAME runners of that backend,
%%     through the mix build's provider `LiveLoad.Cluster.FLAME' (`guides/elixir.md'); without
%%     it or without FLAME: `{error, {flame_not_available, #{option, reason}}}'.</li>
%% <li>`base_url' is checked (absolute http(s) URL) and goes to `config/1'.</li>
%% <li>`thresholds' (list of expressions, e.g. `"liveview.event.p95 < 100ms"', or maps
%%     `#{expr => Expression, abort_on_fail => true, delay_abort_eval => Ms}'): checked on each
%%     scenario's result, which gets a `thresholds' section; an `abort_on_fail' threshold is also
%%     checked every 2 s during the run and stops it when it fails (`run.aborted_by'); see
%%     `guides/ci.md'.</li>
%% <li>`data' (`#{source => "users.csv", strategy => per_user | per_iteration | random}'): a
%%     row per user or iteration in `live_load_context:data(Ctx)'; see `live_load_data'.</li>
%% <li>`prometheus' (`"127.0.0.1:9568"'): serves `/metrics' during the run.</li>
%% <li>Every other option goes to the scenario's `config/1', unless its name is within edit
%%     distance 2 of a live_load option or a declared config key:
%%     `{error, {unknown_option, Name, #{did_you_mean => [Close]}}}'.</li>
%% </ul>
%% Scenarios run one after another, each with its own browsers and users; one scenario's error
%% does not stop the others; an interrupted run ({@link stop/0}) runs no further scenario.
%% Every result says which engine and nodes ran it, and whether it was interrupted. Bad options
%% give `{error, Reason}' before anything starts, e.g. `{error, {invalid_option, users, -3}}',
%% `{error, {unknown_scenario, M}}', `{error, {not_a_scenario, M}}'. See `guides/scenarios.md'.
-module(live_load).

-export([run/1]).
-export([stop/0]).

%% @doc Runs every scenario of `Opts'; returns each one's result or error.
-spec run(map() | [{atom(), term()}]) -> #{module() => map() | {error, term()}} | {error, term()}.
run(Opts) ->
    case live_load_options:validate(Opts) of
        {ok, #{scenarios := Scenarios} = Run} ->
            case scenario_thresholds(Scenarios, Run, []) of
                {ok, Thresholds} ->
                    case start() of
                        ok ->
                            with_data(Run, fun(Run1) ->
                                with_prometheus(Run1, fun() -> run_each(Scenarios, Run1, Thresholds, #{}) end)
                            end);
                        {error, Reason} ->
                            {error, {live_load_not_started, Reason}}
                    end;
                {error, _} = E -> E
            end;
        {error, _} = E ->
            E
    end.

%% @doc Interrupts the run in progress on this node (local, amoc or distributed): users are
%% stopped, browsers closed, the cluster torn down, and `run/1' returns the partial result with
%% `run.interrupted => true'.
-spec stop() -> ok.
stop() ->
    live_load_engine:stop(),
    live_load_amoc_engine:stop().

run_each([], _Run, _Thresholds, Acc) ->
    Acc;
run_each([S | Rest], Run, Thresholds, Acc) ->
    RunId = run_id(S),
    Own = maps:get(S, Thresholds),
    Watch = live_load_threshold_watch:start(Own, RunId, fun stop/0),
    Ran = engine(S, Run#{run_id => RunId, thresholds := Own}),
    Result = result(Ran, live_load_threshold_watch:stop(Watch)),
    case Result of
        #{<<"run">> := #{<<"interrupted">> := true}} -> Acc#{S => Result};
        _ -> run_each(Rest, Run, Thresholds, Acc#{S => Result})
    end.

engine(S, #{distributed := true} = Run) -> live_load_amoc_engine:run_distributed(S, Run);
engine(S, #{engine := amoc} = Run) -> live_load_amoc_engine:run_local(S, Run);
engine(S, Run) -> live_load_engine:run(S, Run).

%% One id per scenario run, the same on every node (snapshots of two runs must not mix).
run_id(S) ->
    iolist_to_binary(io_lib:format("~s-~b-~.36b", [S, erlang:system_time(millisecond),
                                                 erlang:unique_integer([positive])])).

%% #{Scenario => the run's thresholds followed by the scenario's own}, all parsed before anything runs.
scenario_thresholds([], _Run, Acc) ->
    {ok, maps:from_list(Acc)};
scenario_thresholds([S | Rest], #{thresholds := Given, config_opts := ConfigOpts} = Run, Acc) ->
    case live_load_scenario:thresholds(S, ConfigOpts) of
        {ok, Own} -> scenario_thresholds(Rest, Run, [{S, Given ++ Own} | Acc]);
        {error, _} = E -> E
    end.

%% The data file is read once on this node; the engine puts the feeder in each user's CtxOpts.
with_data(#{data := undefined} = Run, Fun) -> Fun(Run);
with_data(#{data := Spec, users := Users} = Run, Fun) ->
    case live_load_data:load(Spec) of
        {ok, Feeder} ->
            try live_load_data:check_users(Feeder, Users) of
                ok -> Fun(Run#{data := Feeder});
                {error, _} = E -> E
            after live_load_data:unload(Feeder)
            end;
        {error, _} = E -> E
    end.

with_prometheus(#{prometheus := undefined}, Fun) -> Fun();
with_prometheus(#{prometheus := Address}, Fun) ->
    case live_load_prometheus:start(Address) of
        {ok, Pid, _Port} ->
            try Fun()
            after live_load_prometheus:stop(Pid)
            end;
        {error, _} = E -> E
    end.

%% The result (its `thresholds' section is made with it, by `live_load_run_result'); a run an
%% `abort_on_fail' threshold stopped says so in `run.aborted_by', and that threshold failed.
result({ok, Result}, none) -> Result;
result({ok, #{<<"run">> := Run} = Result}, {aborted, #{expression := E, observed := O, at_ms := At} = Abort}) ->
    Result#{<<"run">> := Run#{<<"aborted_by">> => #{<<"expression">> => E, <<"observed">> => O, <<"at_ms">> => At}},
            <<"thresholds">> => live_load_threshold_eval:aborted(maps:get(<<"thresholds">>, Result, []), Abort)};
result({error, _} = E, _) -> E.

start() ->
    case application:ensure_all_started(live_load) of
        {ok, _} -> ok;
        {error, _} = E -> E
    end.

