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
%%     lands); `flame_backend' and `cluster_opts' are reserved:
%%     `{error, {unsupported_option, Name}}'.</li>
%% <li>`base_url' is checked (absolute http(s) URL) and goes to `config/1'.</li>
%% <li>Every other option goes to the scenario's `config/1', unless its name is within edit
%%     distance 2 of a live_load option or a declared config key:
%%     `{error, {unknown_option, Name, #{did_you_mean => [Close]}}}'.</li>
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
            case start() of
                ok ->
                    maps:from_list([{S, unwrap(live_load_engine:run(S, Run))} || S <- Scenarios]);
                {error, Reason} ->
                    {error, {live_load_not_started, Reason}}
            end;
        {error, _} = E ->
            E
    end.

start() ->
    case application:ensure_all_started(live_load) of
        {ok, _} -> ok;
        {error, _} = E -> E
    end.

unwrap({ok, Result}) -> Result;
unwrap({error, _} = E) -> E.
