%% @doc The scenario behaviour, and how live_load finds and calls scenarios.
%%
%% A scenario module implements:
%% <ul>
%% <li>`config(Opts) -> Config' (optional, once per node): gets the run options live_load did not
%%     consume, as a map; the default returns that map.</li>
%% <li>`throttles(Config) -> [live_load_throttle:spec()]' (optional, once per node): throttles the
%%     users share; default none.</li>
%% <li>`thresholds(Opts) -> [Expression]' (optional): pass/fail rules checked on the result
%%     (`live_load_threshold'); gets the same map as `config/1'; default none.</li>
%% <li>`run(Ctx, UserId, Config) -> Ctx': one iteration of one user, a pipeline of
%%     `live_load_context' steps.</li>
%% <li>`config_keys() -> [atom()]' (optional): the config keys the scenario reads; a run option
%%     that is none of them nor a live_load option but close to one is refused as misspelt.</li>
%% </ul>
%% See `guides/scenarios.md'.
-module(live_load_scenario).

-export([check/1]).
-export([discover/1]).
-export([config/2]).
-export([throttles/2]).
-export([thresholds/2]).

-callback config(Opts :: map()) -> Config :: term().
-callback throttles(Config :: term()) -> [live_load_throttle:spec()].
-callback thresholds(Opts :: map()) -> [unicode:chardata()].
-callback run(Ctx :: term(), UserId :: pos_integer(), Config :: term()) -> Ctx :: term().
-callback config_keys() -> [atom()].
-optional_callbacks([config/1, throttles/1, thresholds/1, config_keys/0]).

%% @doc `ok' when `Module' can be loaded and implements this behaviour.
-spec check(term()) -> ok | {error, {unknown_scenario, term()} | {not_a_scenario, module()}}.
check(Module) when is_atom(Module) ->
    case code:ensure_loaded(Module) of
        {module, Module} ->
            case implements(Module) of
                true -> ok;
                false -> {error, {not_a_scenario, Module}}
            end;
        {error, _} ->
            {error, {unknown_scenario, Module}}
    end;
check(Other) ->
    {error, {unknown_scenario, Other}}.

implements(Module) ->
    Attrs = Module:module_info(attributes),
    Behaviours = proplists:get_value(behaviour, Attrs, []) ++ proplists:get_value(behavior, Attrs, []),
    lists:member(?MODULE, Behaviours) andalso erlang:function_exported(Module, run, 3).

%% @doc Every module of application `App' that implements this behaviour, sorted by name.
-spec discover(atom()) -> {ok, [module()]} | {error, {unknown_application, term()} | {no_scenarios, atom()}}.
discover(App) when is_atom(App) ->
    case application:load(App) of
        R when R =:= ok; R =:= {error, {already_loaded, App}} ->
            {ok, Modules} = application:get_key(App, modules),
            case lists:sort([M || M <- Modules, check(M) =:= ok]) of
                [] -> {error, {no_scenarios, App}};
                Found -> {ok, Found}
            end;
        {error, _} ->
            {error, {unknown_application, App}}
    end;
discover(Other) ->
    {error, {unknown_application, Other}}.

%% @doc Calls the scenario's `config/1' (or returns the options); a crash becomes an error.
-spec config(module(), map()) -> {ok, term()} | {error, {config_failed, term()}}.
config(Module, Opts) ->
    case erlang:function_exported(Module, config, 1) of
        false -> {ok, Opts};
        true ->
            try {ok, Module:config(Opts)}
            catch Class:Reason:Stack -> {error, {config_failed, {Class, Reason, Stack}}}
            end
    end.

%% @doc Calls the scenario's `throttles/1' (or returns `[]').
-spec throttles(module(), term()) -> {ok, [live_load_throttle:spec()]} | {error, {throttles_failed, term()}}.
throttles(Module, Config) ->
    case erlang:function_exported(Module, throttles, 1) of
        false -> {ok, []};
        true ->
            try Module:throttles(Config) of
                Specs when is_list(Specs) -> {ok, Specs};
                Other -> {error, {throttles_failed, {not_a_list, Other}}}
            catch Class:Reason:Stack -> {error, {throttles_failed, {Class, Reason, Stack}}}
            end
    end.

%% @doc The scenario's thresholds, parsed (`[]' without a `thresholds/1' callback).
-spec thresholds(module(), map()) -> {ok, [live_load_threshold:threshold()]} | {error, term()}.
thresholds(Module, Opts) ->
    case erlang:function_exported(Module, thresholds, 1) of
        false -> {ok, []};
        true ->
            try Module:thresholds(Opts) of
                Exprs when is_list(Exprs) -> live_load_threshold:parse_all(Exprs);
                Other -> {error, {thresholds_failed, Module, {not_a_list, Other}}}
            catch Class:Reason:Stack -> {error, {thresholds_failed, Module, {Class, Reason, Stack}}}
            end
    end.
