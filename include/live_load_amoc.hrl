%% Makes a live_load scenario module an amoc scenario; include it after the module's own
%% attributes (it defines functions):
%%   -include_lib("live_load/include/live_load_amoc.hrl").
%% then `amoc_dist:do(my_scenario, 1000, [{base_url, <<"http://...">>}])' on an amoc master runs
%% its users on the workers. Every callback is one line into live_load_amoc_scenario (the same
%% delegate `use LiveLoad.Scenario' calls). See guides/distributed.md.
-behaviour(amoc_scenario).
-export([init/0, start/2, terminate/1]).

-spec init() -> {ok, term()} | {error, term()}.
init() -> live_load_amoc_scenario:init(?MODULE).

-spec start(pos_integer(), term()) -> term().
start(UserId, State) -> live_load_amoc_scenario:start(?MODULE, UserId, State).

-spec terminate(term()) -> ok.
terminate(State) -> live_load_amoc_scenario:terminate(?MODULE, State).
