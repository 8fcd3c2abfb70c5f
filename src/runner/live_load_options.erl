%% @doc Validation of the options of `live_load:run/1'.
%%
%% Every option live_load consumes is checked and defaulted here; a bad value gives
%% `{error, {invalid_option, Name, Value}}'. Options live_load does not know are passed, as a map,
%% to the scenario's `config/1'. The scenario list comes from `scenario', else `scenarios', else
%% `otp_app' (every module of that application implementing `live_load_scenario').
%% `base_url' is checked here (an absolute http(s) URL) and still passed on. An unknown name close
%% to a live_load option (or to a key the scenario declares in `config_keys/0') gives
%% `{error, {unknown_option, Name, #{did_you_mean => Close}}}' (`live_load_option_names').
%% `flame_backend' (with `distributed => true') makes the cluster's provider the FLAME provider
%% of the Elixir face, `'Elixir.LiveLoad.Cluster.FLAME'' (lib/live_load/cluster/flame.ex), with
%% the backend in `provider_opts'; without that module or without FLAME on the code path:
%% `{error, {flame_not_available, #{option => flame_backend, reason => Text}}}'.
-module(live_load_options).

-export([validate/1]).
-export([defaults/0]).
-export([check_option/2]).
-export([recorded/1]).

-export_type([run_opts/0]).

-type run_opts() :: #{scenarios := [module()],
                      users := pos_integer(),          %% all kinds together
                      user_kinds := #{browser := non_neg_integer(), protocol := non_neg_integer()},
                      connection := browser | protocol,
                      protocol_opts := map(),
                      scenario_duration := pos_integer(),
                      iteration_timeout := pos_integer(),
                      user_rate := pos_integer() | undefined,
                      users_per_browser := pos_integer(),
                      browser := boolean(),
                      browser_connection_adapter := module() | undefined,
                      browser_connection_opts := map(),
                      mode := faithful | fast,
                      quiet := boolean(),
                      on_failure := continue | stop_user,
                      engine := local | amoc,
                      distributed := boolean(),
                      cluster := map() | undefined,
                      progress_interval := pos_integer() | undefined,
                      thresholds := [live_load_threshold:threshold()],
                      data := live_load_data:feeder() | map() | undefined,
                      prometheus := term(),
                      config_opts := map(),
                      run_id => binary(),
                      given := map()}.

-define(CONSUMED, [scenario, scenarios, otp_app, users, scenario_duration, iteration_timeout,
                   user_rate, users_per_browser, browser, browser_connection_adapter,
                   browser_connection_opts, mode, quiet, progress_interval, distributed,
                   cluster_opts, cluster, on_failure, engine, run_id, connection, protocol_opts,
                   thresholds, data, prometheus, flame_backend]).
%% checked by live_load, then passed on to config/1
-define(CHECKED_CONFIG, [base_url]).
%% the cluster provider `flame_backend' chooses (built by mix only: lib/)
-define(FLAME_PROVIDER, 'Elixir.LiveLoad.Cluster.FLAME').

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
      on_failure => continue,
      engine => local,
      distributed => false,
      connection => browser,
      protocol_opts => #{},
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
              on_failure, engine, distributed, cluster, connection, protocol_opts, data, prometheus],
    Distributed = maps:get(distributed, Given, false) =:= true,
    case {check_all(Checks ++ ?CHECKED_CONFIG ++ [browser_opts], Opts#{cluster => cluster(Given)}),
          [K || K <- [cluster, cluster_opts, flame_backend], is_map_key(K, Given)]} of
        {ok, [Needs | _]} when not Distributed ->
            %% a cluster without a distributed run would be silently ignored
            {error, {option_needs, Needs, #{distributed => true}}};
        {ok, _} ->
            case {then_names(scenarios(Given), Given),
                  live_load_threshold:parse_all(maps:get(thresholds, Given, [])),
                  cluster_of(Given)} of
                {{ok, Scenarios}, {ok, Thresholds}, {ok, Cluster}} ->
                    Run = users(maps:with(Checks -- [cluster], Opts)),
                    {ok, Run#{scenarios => Scenarios, thresholds => Thresholds,
                              cluster => Cluster,
                              config_opts => maps:without(?CONSUMED, Given),
                              given => Given}};
                {{error, _} = E, _, _} -> E;
                {_, {error, _} = E, _} -> E;
                {_, _, {error, _} = E} -> E
            end;
        {{error, _} = E, _} -> E
    end.

%% @doc Checks one consumed option's value (`{error, {invalid_option, Name, Value}}').
-spec check_option(atom(), term()) -> ok | {error, term()}.
check_option(Name, Value) ->
    check(Name, Value).

%% @doc What a result records of the options (it lands in the JSON, HTML and Markdown reports):
%% live_load's own options with their values, except those that can carry rows or credentials;
%% only the names of the others (the scenario's config may hold secrets), under `config_keys'.
%% `data' is recorded as its `source' (the file name), `strategy', `seed', `cycle' and the number of
%% rows given inline (`row_count'), never a row; `protocol_opts', `browser_connection_opts' and
%% `cluster'/`cluster_opts' (headers, cookies, endpoints, ssh users and keys) as the names of
%% their keys.
-spec recorded(map()) -> map().
recorded(Given) ->
    Own = ?CONSUMED ++ ?CHECKED_CONFIG,
    Kept = maps:map(fun recorded/2, maps:with(Own, Given)),
    Kept#{config_keys => lists:sort(maps:keys(maps:without(Own, Given)))}.

recorded(data, #{} = Spec) ->
    Rows = case Spec of
               #{rows := R} when is_list(R) -> #{row_count => length(R)};
               #{size := N} when is_integer(N) -> #{row_count => N};   %% a loaded feeder
               _ -> #{}
           end,
    maps:merge(maps:with([source, strategy, seed, cycle], Spec), Rows);
recorded(Name, #{} = Map) when Name =:= protocol_opts; Name =:= browser_connection_opts;
                                Name =:= cluster; Name =:= cluster_opts ->
    lists:sort(maps:keys(Map));
recorded(Name, _) when Name =:= data; Name =:= protocol_opts; Name =:= browser_connection_opts;
                       Name =:= cluster; Name =:= cluster_opts ->
    redacted;
recorded(_Name, Value) ->
    Value.

%% unknown names close to a known one are a misspelling, not scenario config
then_names({ok, Scenarios}, Given) ->
    Known = ?CONSUMED ++ ?CHECKED_CONFIG ++ live_load_option_names:declared(Scenarios),
    case live_load_option_names:misspelt(maps:keys(Given), Known) of
        [] -> {ok, Scenarios};
        [{Name, Close} | _] -> {error, {unknown_option, Name, #{did_you_mean => Close}}}
    end;
then_names({error, _} = E, _Given) -> E.

check_all([], _Opts) -> ok;
check_all([browser_opts | Rest], #{browser_connection_adapter := undefined, browser := true,
                                   browser_connection_opts := B} = Opts) ->
    %% the default browser's options are known: checked now, not when the first browser starts
    case live_load_browser_opts:browser(B) of
        {ok, _} -> check_all(Rest, Opts);
        {error, {invalid_option, K, V}} -> invalid(browser_connection_opts, #{K => V})
    end;
check_all([Name | Rest], Opts) ->
    Value = maps:get(Name, Opts, undefined),
    case check(Name, Value) of
        ok -> check_all(Rest, Opts);
        {error, _} = E -> E
    end.

check(browser_opts, _) -> ok;
check(base_url, undefined) -> ok;
check(base_url, V) ->
    case live_load_option_names:absolute_http_url(V) of true -> ok; false -> invalid(base_url, V) end;
%% `users' is a count of users of the `connection' kind, or `#{browser => N, protocol => M}' for a
%% hybrid run (#13).
check(users, #{} = Kinds) ->
    case maps:keys(Kinds) -- [browser, protocol] of
        [] when map_size(Kinds) > 0 ->
            case [K || {K, V} <- maps:to_list(Kinds), not (is_integer(V) andalso V >= 0)] of
                [] when map_size(Kinds) > 0 ->
                    case lists:sum(maps:values(Kinds)) > 0 of
                        true -> ok;
                        false -> invalid(users, Kinds)
                    end;
                _ -> invalid(users, Kinds)
            end;
        _ -> invalid(users, Kinds)
    end;
check(connection, V) when V =:= browser; V =:= protocol -> ok;
check(protocol_opts, V) when is_map(V) -> ok;
check(distributed, false) -> ok;
check(distributed, true) -> amoc_available(distributed);
check(engine, local) -> ok;
check(engine, amoc) -> amoc_available(engine);
check(on_failure, V) when V =:= continue; V =:= stop_user -> ok;
check(cluster, undefined) -> ok;
check(cluster, V) when is_map(V) -> ok;
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

%% `cluster_opts' is an alias of `cluster'.
cluster(#{cluster := C}) -> C;
cluster(#{cluster_opts := C}) -> C;
cluster(_) -> undefined.

%% The cluster of a run: with `flame_backend', its provider is the FLAME provider (which checks
%% the backend) and the backend goes in `provider_opts'; a `provider' of its own conflicts.
cluster_of(#{flame_backend := Given} = Opts) ->
    Cluster = case cluster(Opts) of
                  undefined -> #{};
                  C -> C
              end,
    case {flame_provider(), backend(Given), Cluster} of
        {{error, _} = E, _, _} -> E;
        {ok, error, _} -> invalid(flame_backend, Given);
        {ok, {ok, _}, #{provider := P}} when P =/= ?FLAME_PROVIDER ->
            {error, {conflicting_options, flame_backend, {cluster, provider}}};
        {ok, {ok, Backend}, _} ->
            Provider = ?FLAME_PROVIDER,   %% a call xref cannot see: the module is Elixir (mix build)
            case Provider:check_backend(Backend) of
                ok -> {ok, Cluster#{provider => ?FLAME_PROVIDER, provider_opts => #{backend => Backend}}};
                {error, _} = E -> E
            end
    end;
cluster_of(Opts) ->
    {ok, cluster(Opts)}.

flame_provider() ->
    case code:ensure_loaded(?FLAME_PROVIDER) of
        {module, _} -> ok;
        _ ->
            {error, {flame_not_available,
                     #{option => flame_backend,
                       reason => <<"the FLAME provider (LiveLoad.Cluster.FLAME) is part of live_load's mix "
                                   "build and is not loaded here (the rebar3 build has no Elixir); run "
                                   "through mix: LiveLoad.run/1 or mix live_load.run (guides/elixir.md)">>}}}
    end.

%% a module, `{Module, Opts}', or (from the CLI's --set) the text of an existing module name
backend(M) when is_atom(M), M =/= undefined -> {ok, M};
backend({M, Opts} = B) when is_atom(M), is_list(Opts) -> {ok, B};
backend(Text) when is_binary(Text) ->
    Names = case Text of
                <<"Elixir.", _/binary>> -> [Text];
                _ -> [<<"Elixir.", Text/binary>>, Text]
            end,
    case [A || N <- Names, A <- [existing_atom(N)], A =/= error] of
        [M | _] -> {ok, M};
        [] -> error
    end;
backend(_) -> error.

%% an atom that exists, or the name of a module on the code path (never an atom from other text)
existing_atom(B) ->
    try binary_to_existing_atom(B)
    catch error:badarg ->
            case code:where_is_file(binary_to_list(B) ++ ".beam") of
                non_existing -> error;
                _ -> binary_to_atom(B)
            end
    end.

amoc_available(Option) ->
    case code:which(amoc) of
        non_existing ->
            {error, {amoc_not_available,
                     #{option => Option,
                       reason => <<"amoc is not on the code path (code:which(amoc) =:= non_existing); "
                                   "add amoc 4.1 and telemetry with ERL_LIBS, or build with the rebar3 "
                                   "profile amoc (guides/distributed.md)">>}}};
        _ -> ok
    end.

%% `users' as the total and `user_kinds' as the count per connection kind.
users(#{users := #{} = Kinds} = Run) ->
    K = maps:merge(#{browser => 0, protocol => 0}, Kinds),
    Run#{users => maps:get(browser, K) + maps:get(protocol, K), user_kinds => K};
users(#{users := N, connection := Conn} = Run) ->
    Run#{user_kinds => maps:merge(#{browser => 0, protocol => 0}, #{Conn => N})}.

pos_int(_Name, V) when is_integer(V), V > 0 -> ok;
pos_int(Name, V) -> invalid(Name, V).

invalid(Name, V) -> {error, {invalid_option, Name, V}}.

scenarios(#{scenario := M}) ->
    case live_load_scenario:check(M) of
        ok -> {ok, [M]};
        {error, _} = E -> E
    end;
scenarios(#{scenarios := [_ | _] = Ms}) ->
    case lists:all(fun is_atom/1, Ms) of
        true -> check_scenarios(Ms);
        false -> invalid(scenarios, Ms)
    end;
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
