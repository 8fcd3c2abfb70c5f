%% @doc Top supervisor of the live_load application.
%%
%% Children (one line each, added by the area that owns them):
%% - `live_load_metrics' tables owner (per node metric store)
%% - `live_load_browser_sup' (browser pools)
%% - `live_load_throttle' registry
-module(live_load_sup).
-behaviour(supervisor).

-export([start_link/0]).
-export([init/1]).

-spec start_link() -> {ok, pid()} | ignore | {error, term()}.
start_link() ->
    supervisor:start_link({local, ?MODULE}, ?MODULE, []).

-spec init([]) -> {ok, {supervisor:sup_flags(), [supervisor:child_spec()]}}.
init([]) ->
    SupFlags = #{strategy => one_for_one, intensity => 10, period => 10},
    Children = [
        %% CHILDREN: each area adds its child spec on its own line below.
        #{id => live_load_metrics_store, start => {live_load_metrics_store, start_link, []}},
        #{id => live_load_throttle_sup, start => {live_load_throttle_sup, start_link, []}, type => supervisor},
        #{id => live_load_browser_sup, start => {live_load_browser_sup, start_link, []}, type => supervisor}
    ],
    {ok, {SupFlags, Children}}.
