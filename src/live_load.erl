%% @doc live_load's entry point: `run/1' runs load-test scenarios with the embedded engine.
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
%% <li>`browser_connection_adapter' (module), `browser_connection_opts' (map, given to every
%%     browser of the pool), `users_per_browser' (default 8), `mode' (`faithful' | `fast').</li>
%% <li>`quiet' (no progress line), `progress_interval' (ms).</li>
%% <li>`distributed' (`true' gives `{error, distributed_requires_amoc}' until the amoc engine
%%     lands); `flame_backend' and `cluster_opts' are reserved.</li>
%% <li>`thresholds' (list of expressions, e.g. `"liveview.event.p95 < 100ms"'): checked on each
%%     scenario's result, which gets a `thresholds' section; see `guides/ci.md'.</li>
%% <li>`data' (`#{source => "users.csv", strategy => per_user | per_iteration | random}'): a
%%     row per user or iteration in `live_load_context:data(Ctx)'; see `live_load_data'.</li>
%% <li>`prometheus' (`"127.0.0.1:9568"'): serves `/metrics' during the run.</li>
%% <li>Every other option goes to the scenario's `config/1'.</li>
%% </ul>
%% Scenarios run one after another, each with its own browsers and users; one scenario's error
%% does not stop the others. Bad options give `{error, Reason}' before anything starts, e.g.
%% `{error, {invalid_option, users, -3}}', `{error, {unknown_scenario, M}}',
%% `{error, {not_a_scenario, M}}'. See `guides/scenarios.md'.
-module(live_load).

-export([run/1]).

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
                                with_prometheus(Run1, fun() ->
                                    maps:from_list([{S, checked(live_load_engine:run(S, Run1), maps:get(S, Thresholds))}
                                                    || S <- Scenarios])
                                end)
                            end);
                        {error, Reason} ->
                            {error, {live_load_not_started, Reason}}
                    end;
                {error, _} = E -> E
            end;
        {error, _} = E ->
            E
    end.

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

%% The result with its `thresholds' section when there are thresholds.
checked({ok, Result}, []) -> Result;
checked({ok, Result}, Thresholds) ->
    Result#{<<"thresholds">> => live_load_threshold_eval:evaluate(Thresholds, Result)};
checked({error, _} = E, _) -> E.

start() ->
    case application:ensure_all_started(live_load) of
        {ok, _} -> ok;
        {error, _} = E -> E
    end.

