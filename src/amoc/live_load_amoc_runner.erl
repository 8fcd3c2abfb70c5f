%% @doc The generic amoc scenario: runs any live_load scenario module on amoc without the
%% include, named by the setting `live_load_scenario':
%% `amoc_dist:do(live_load_amoc_runner, 4, [{live_load_scenario, my_scenario}, {base_url, Url}])'.
%% `live_load:run/1' uses it for `engine => amoc' and `distributed => true'.
-module(live_load_amoc_runner).
%% -behaviour(amoc_scenario), added after linting (see live_load_amoc_behaviour)
-compile({core_transform, live_load_amoc_behaviour}).

-export([init/0]).
-export([start/2]).
-export([terminate/1]).
-export([verify_scenario/1]).

-required_variable(#{name => live_load_scenario, default_value => undefined,
                     description => "the live_load scenario module to run",
                     verification => {?MODULE, verify_scenario, 1}}).

-spec init() -> {ok, {module(), term()}} | {error, term()}.
init() ->
    Config = amoc_config,
    Scenario = Config:get(live_load_scenario),
    case live_load_amoc_scenario:init(Scenario) of
        {ok, State} -> {ok, {Scenario, State}};
        {error, _} = E -> E
    end.

-spec start(pos_integer(), {module(), term()}) -> term().
start(UserId, {Scenario, State}) -> live_load_amoc_scenario:start(Scenario, UserId, State).

-spec terminate({module(), term()}) -> ok.
terminate({Scenario, State}) -> live_load_amoc_scenario:terminate(Scenario, State).

%% @doc The setting must name a loadable live_load scenario.
-spec verify_scenario(term()) -> true | {false, term()}.
verify_scenario(M) ->
    case live_load_scenario:check(M) of
        ok -> true;
        {error, Reason} -> {false, Reason}
    end.
