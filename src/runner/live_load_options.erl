%% @doc Validation of the options of `live_load:run/1'.
%%
%% Every option live_load consumes is checked and defaulted here; a bad value gives
%% `{error, {invalid_option, Name, Value}}'. Options live_load does not know are passed, as a map,
%% to the scenario's `config/1'. The scenario list comes from `scenario', else `scenarios', else
%% `otp_app' (every module of that application implementing `live_load_scenario').
-module(live_load_options).

-export([validate/1]).
-export([defaults/0]).

-export_type([run_opts/0]).

-type run_opts() :: #{scenarios := [module()],
                      users := pos_integer(),
                      scenario_duration := pos_integer(),
                      iteration_timeout := pos_integer(),
                      user_rate := pos_integer() | undefined,
                      users_per_browser := pos_integer(),
                      browser := boolean(),
                      browser_connection_adapter := module() | undefined,
                      browser_connection_opts := map(),
                      mode := faithful | fast,
                      quiet := boolean(),
                      progress_interval := pos_integer() | undefined,
                      thresholds := [live_load_threshold:threshold()],
                      data := live_load_data:feeder() | map() | undefined,
                      prometheus := term(),
                      config_opts := map(),
                      given := map()}.

-define(CONSUMED, [scenario, scenarios, otp_app, users, scenario_duration, iteration_timeout,
                   user_rate, users_per_browser, browser, browser_connection_adapter,
                   browser_connection_opts, mode, quiet, progress_interval, distributed,
                   flame_backend, cluster_opts, thresholds, data, prometheus]).

%% @doc The defaults of the consumed options.
-spec defaults() -> map().
defaults() ->
    #{users => 1,
      scenario_duration => 10 * 60 * 1000,
      iteration_timeout => 2 * 60 * 1000,
      user_rate => undefined,
      users_per_browser => 8,
      browser => true,
      browser_connection_adapter => undefined,
      browser_connection_opts => #{},
      mode => faithful,
      quiet => false,
      progress_interval => undefined,
      distributed => false,
      data => undefined,
      prometheus => undefined}.

%% @doc Checks `Opts' (a map or a proplist of `{Key, Value}').
-spec validate(term()) -> {ok, run_opts()} | {error, term()}.
validate(Opts) when is_map(Opts) ->
    validate_map(Opts);
validate(Opts) when is_list(Opts) ->
    case [O || O <- Opts, not (is_tuple(O) andalso tuple_size(O) =:= 2)] of
        [] -> validate_map(maps:from_list(lists:reverse(Opts)));  %% first occurrence wins
        [Bad | _] -> {error, {invalid_option, Bad}}
    end;
validate(Other) ->
    {error, {invalid_options, Other}}.

validate_map(Given) ->
    Opts = maps:merge(defaults(), Given),
    Checks = [users, scenario_duration, iteration_timeout, user_rate, users_per_browser, browser,
              browser_connection_adapter, browser_connection_opts, mode, quiet, progress_interval,
              distributed, data, prometheus],
    case check_all(Checks, Opts) of
        ok ->
            case {scenarios(Given), live_load_threshold:parse_all(maps:get(thresholds, Given, []))} of
                {{ok, Scenarios}, {ok, Thresholds}} ->
                    Run = maps:with(Checks -- [distributed], Opts),
                    {ok, Run#{scenarios => Scenarios, thresholds => Thresholds,
                              config_opts => maps:without(?CONSUMED, Given),
                              given => Given}};
                {{error, _} = E, _} -> E;
                {_, {error, _} = E} -> E
            end;
        {error, _} = E -> E
    end.

check_all([], _Opts) -> ok;
check_all([Name | Rest], Opts) ->
    Value = maps:get(Name, Opts),
    case check(Name, Value) of
        ok -> check_all(Rest, Opts);
        {error, _} = E -> E
    end.

check(distributed, false) -> ok;
check(distributed, true) -> {error, distributed_requires_amoc};
check(Name, V) when Name =:= users; Name =:= scenario_duration; Name =:= iteration_timeout;
                    Name =:= users_per_browser ->
    pos_int(Name, V);
check(Name, undefined) when Name =:= user_rate; Name =:= progress_interval -> ok;
check(Name, V) when Name =:= user_rate; Name =:= progress_interval -> pos_int(Name, V);
check(Name, V) when Name =:= browser; Name =:= quiet; Name =:= distributed ->
    case is_boolean(V) of true -> ok; false -> invalid(Name, V) end;
check(browser_connection_adapter, undefined) -> ok;
check(browser_connection_adapter, M) when is_atom(M) ->
    %% a live_load_browser_connection implementation
    case code:ensure_loaded(M) =:= {module, M} andalso erlang:function_exported(M, new_user, 2)
        andalso erlang:function_exported(M, start_link, 1) of
        true -> ok;
        false -> invalid(browser_connection_adapter, M)
    end;
check(browser_connection_opts, V) when is_map(V) -> ok;
check(Name, undefined) when Name =:= data; Name =:= prometheus -> ok;
check(data, V) -> live_load_data:check_spec(V);
check(prometheus, V) ->
    case live_load_prometheus:parse_address(V) of
        {ok, _} -> ok;
        {error, _} = E -> E
    end;
check(mode, V) when V =:= faithful; V =:= fast -> ok;
check(Name, V) -> invalid(Name, V).

pos_int(_Name, V) when is_integer(V), V > 0 -> ok;
pos_int(Name, V) -> invalid(Name, V).

invalid(Name, V) -> {error, {invalid_option, Name, V}}.

scenarios(#{scenario := M}) ->
    case live_load_scenario:check(M) of
        ok -> {ok, [M]};
        {error, _} = E -> E
    end;
scenarios(#{scenarios := Ms}) when is_list(Ms), Ms =/= [] ->
    check_scenarios(Ms);
scenarios(#{scenarios := Ms}) ->
    invalid(scenarios, Ms);
scenarios(#{otp_app := App}) ->
    live_load_scenario:discover(App);
scenarios(_) ->
    {error, {missing_option, scenario}}.

check_scenarios(Ms) ->
    case [E || M <- Ms, {error, _} = E <- [live_load_scenario:check(M)]] of
        [] -> {ok, Ms};
        [E | _] -> E
    end.
