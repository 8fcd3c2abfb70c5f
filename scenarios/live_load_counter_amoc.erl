%% @doc Example scenario that is also an amoc scenario: the counter clicks of
%% `live_load_counter_scenario', with the amoc callbacks from `include/live_load_amoc.hrl'.
%% On an amoc master (guides/distributed.md):
%% ```
%% {ok, _} = amoc_dist:do(live_load_counter_amoc, 4, [{base_url, <<"http://127.0.0.1:4000">>}, {clicks, 3}]),
%% {ok, Result} = live_load_amoc:await_result(live_load_counter_amoc, 120000).
%% '''
%% `clicks' is this scenario's own setting (a `-required_variable', so amoc accepts it and
%% `AMOC_CLICKS=3' works); live_load's own settings (`base_url', `scenario_duration', ...) are
%% declared by `live_load_amoc_settings'. It needs amoc to compile (the behaviour).
-module(live_load_counter_amoc).
-behaviour(live_load_scenario).

-required_variable(#{name => clicks, description => "clicks on #inc per iteration", default_value => 3}).

-export([config/1]).
-export([run/3]).

%% after the module's attributes: it defines amoc's init/0, start/2, terminate/1
-include_lib("live_load/include/live_load_amoc.hrl").

-spec config(map()) -> map().
config(Opts) ->
    live_load_counter_scenario:config(Opts).

-spec run(live_load_context:t(), pos_integer(), map()) -> live_load_context:t().
run(Ctx, UserId, Config) ->
    live_load_counter_scenario:run(Ctx, UserId, Config).
