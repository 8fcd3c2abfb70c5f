%% @doc live_load's knobs as amoc settings (`amoc_config'), so that
%% `amoc_dist:do(Scenario, N, [{base_url, <<"http://...">>}])' passes amoc's checks and
%% `AMOC_BASE_URL' works from the environment (its value parsed as an Erlang term:
%% `AMOC_BASE_URL='"http://127.0.0.1:4000"''). amoc finds the `-required_variable's of this
%% module when it scans the code path at start.
%%
%% A key amoc knows of no module gets amoc's own `{undefined_parameters, [Key]}'; a bad value
%% fails amoc's verification with our reason, e.g.
%% `{parameters_verification_failed, [{users_per_browser, 0, {verification_failed,
%% {invalid_option, users_per_browser, 0}}}]}' (`live_load:run/1' answers the plain
%% `{invalid_option, users_per_browser, 0}'). A scenario's own config keys are declared with
%% `-required_variable' in the scenario module; they reach its `config/1'.
-module(live_load_amoc_settings).

-export([read/1]).
-export([verify_base_url/1]).
-export([verify_scenario_duration/1]).
-export([verify_iteration_timeout/1]).
-export([verify_users_per_browser/1]).
-export([verify_mode/1]).
-export([verify_on_failure/1]).
-export([verify_browser/1]).
-export([verify_options/1]).

-required_variable(#{name => base_url, default_value => undefined,
                     description => "the target's base URL (binary or string), given to config/1",
                     verification => {?MODULE, verify_base_url, 1}}).
-required_variable(#{name => scenario_duration, default_value => 600000,
                     description => "ms each user loops, from the node's start",
                     verification => {?MODULE, verify_scenario_duration, 1}}).
-required_variable(#{name => iteration_timeout, default_value => 120000,
                     description => "ms an iteration may take before it is killed and the user failed",
                     verification => {?MODULE, verify_iteration_timeout, 1}}).
-required_variable(#{name => users_per_browser, default_value => 8,
                     description => "users per Chromium process on each node",
                     verification => {?MODULE, verify_users_per_browser, 1}}).
-required_variable(#{name => mode, default_value => faithful,
                     description => "faithful | fast",
                     verification => {?MODULE, verify_mode, 1}}).
-required_variable(#{name => on_failure, default_value => continue,
                     description => "continue | stop_user: what a user does after a failed iteration",
                     verification => {?MODULE, verify_on_failure, 1}}).
-required_variable(#{name => browser, default_value => true,
                     description => "false runs users without a browser (tests)",
                     verification => {?MODULE, verify_browser, 1}}).
-required_variable(#{name => live_load_options, default_value => #{},
                     description => "other live_load run options (map): browser_connection_opts, "
                                    "browser_connection_adapter, connection, protocol_opts, data, "
                                    "user_kinds, config (map given to config/1)",
                     verification => {?MODULE, verify_options, 1}}).
-required_variable(#{name => live_load_run_id, default_value => undefined,
                     description => "the run id shared by every node (set by live_load:run/1)"}).

-define(KNOBS, [scenario_duration, iteration_timeout, users_per_browser, mode, on_failure, browser]).

%% @doc The run options of `Scenario' on this node, from amoc's settings, in the shape
%% `live_load_options:validate/1' takes. The scenario's own `-required_variable's and
%% `base_url' (when set) go to its `config/1'.
%%
%% amoc collects a module's `-required_variable's only when that module is the scenario given
%% to `do/3', or a helper it classed as configurable (no `-behaviour(amoc_scenario)', on the code
%% path or loaded when amoc started, or added with `amoc_code_server:add_module/1'). A scenario run through
%% `live_load_amoc_runner' (`live_load:run/1' with `engine => amoc' or `distributed => true')
%% is neither, so its own variables are read here, in amoc's order: the `config' map of the
%% `live_load_options' setting (where `live_load:run/1' puts the scenario's options), else
%% `AMOC_<NAME>' from the environment, else the declared `default_value'; each value passes the
%% declared `verification' (`none', a list of allowed values, `{M, F, 1}' or a fun), else
%% `{error, {invalid_option, Name, Value}}'.
-spec read(module()) -> {ok, map()} | {error, {invalid_option, atom(), term()}}.
read(Scenario) ->
    Get = fun(Name) -> amoc_get(Name) end,
    Extra = Get(live_load_options),
    Given = maps:get(config, Extra, #{}),
    case own(declared(Scenario), Given, collected(), #{}) of
        {ok, Own} ->
            Base = case Get(base_url) of
                       undefined -> #{};
                       Url -> #{base_url => Url}
                   end,
            Config = maps:merge(maps:merge(Base, Own), Given),
            Knobs = maps:from_list([{K, Get(K)} || K <- ?KNOBS]),
            {ok, maps:merge(maps:merge(Config, maps:without([config], Extra)),
                            Knobs#{scenario => Scenario, quiet => true})};
        {error, _} = E -> E
    end.

own([], _Given, _Collected, Acc) ->
    {ok, Acc};
own([#{name := N} = Decl | Rest], Given, Collected, Acc) ->
    Value = case {Given, lists:member(N, Collected)} of
                {#{N := V}, _} -> verify(Decl, V);
                {_, true} -> {ok, amoc_get(N)};        % collected and verified by amoc
                {_, false} -> verify(Decl, env(N, maps:get(default_value, Decl, undefined)))
            end,
    case Value of
        {ok, V1} -> own(Rest, Given, Collected, Acc#{N => V1});
        {error, _} = E -> E
    end.

verify(#{name := N} = Decl, V) ->
    Ok = try
             case maps:get(verification, Decl, none) of
                 none -> true;
                 L when is_list(L) -> lists:member(V, L);
                 {M, F, 1} -> M:F(V);
                 Fun when is_function(Fun, 1) -> Fun(V);
                 _ -> true
             end
         catch _:_ -> false
         end,
    case Ok of
        true -> {ok, V};
        {true, V1} -> {ok, V1};
        _ -> {error, {invalid_option, N, V}}
    end.

%% The names amoc collected for the scenario of the running do/3.
collected() ->
    Scenario = amoc_config_scenario,
    case catch Scenario:get_current_configuration() of
        {ok, Map} when is_map(Map) -> maps:keys(Map);
        _ -> []
    end.

%% AMOC_<NAME> parsed as amoc parses it, else the default.
env(Name, Default) ->
    Env = amoc_config_env,
    case catch Env:get(Name, Default) of
        {'EXIT', _} -> Default;
        V -> V
    end.

declared(Scenario) ->
    Attrs = try Scenario:module_info(attributes) catch _:_ -> [] end,
    [D || #{name := N} = D <- lists:append(proplists:get_all_values(required_variable, Attrs)),
          is_atom(N)].

amoc_get(Name) ->
    Config = amoc_config,
    Config:get(Name).

-spec verify_base_url(term()) -> {true, binary() | undefined} | {false, term()}.
verify_base_url(undefined) -> {true, undefined};
verify_base_url(B) when is_binary(B), byte_size(B) > 0 -> {true, B};
verify_base_url(L) when is_list(L) ->
    try unicode:characters_to_binary(L) of
        B when is_binary(B), byte_size(B) > 0 -> {true, B};
        _ -> invalid(base_url, L)
    catch _:_ -> invalid(base_url, L)
    end;
verify_base_url(V) -> invalid(base_url, V).

-spec verify_scenario_duration(term()) -> true | {false, term()}.
verify_scenario_duration(V) -> option(scenario_duration, V).
-spec verify_iteration_timeout(term()) -> true | {false, term()}.
verify_iteration_timeout(V) -> option(iteration_timeout, V).
-spec verify_users_per_browser(term()) -> true | {false, term()}.
verify_users_per_browser(V) -> option(users_per_browser, V).
-spec verify_mode(term()) -> true | {false, term()}.
verify_mode(V) -> option(mode, V).
-spec verify_on_failure(term()) -> true | {false, term()}.
verify_on_failure(V) -> option(on_failure, V).
-spec verify_browser(term()) -> true | {false, term()}.
verify_browser(V) -> option(browser, V).

-spec verify_options(term()) -> true | {false, term()}.
verify_options(#{} = M) ->
    Known = [browser_connection_opts, browser_connection_adapter, connection, protocol_opts,
             data, user_kinds, config],
    case [K || K <- maps:keys(M), not lists:member(K, Known)] of
        [] ->
            case [E || K <- Known -- [config, user_kinds], is_map_key(K, M),
                       {error, E} <- [live_load_options:check_option(K, maps:get(K, M))]] of
                [] ->
                    case maps:get(config, M, #{}) of
                        C when is_map(C) -> true;
                        C -> invalid(config, C)
                    end;
                [E | _] -> {false, E}
            end;
        [K | _] -> invalid(K, maps:get(K, M))
    end;
verify_options(V) -> invalid(live_load_options, V).

option(Name, V) ->
    case live_load_options:check_option(Name, V) of
        ok -> true;
        {error, Reason} -> {false, Reason}
    end.

invalid(Name, V) -> {false, {invalid_option, Name, V}}.
