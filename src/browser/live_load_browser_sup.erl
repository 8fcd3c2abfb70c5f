%% @doc Supervises the node's browser pool (`live_load_browser_pool'), which owns the browsers.
-module(live_load_browser_sup).
-behaviour(supervisor).

-export([start_link/0]).
-export([init/1]).

%% @private
-spec start_link() -> {ok, pid()} | ignore | {error, term()}.
start_link() ->
    supervisor:start_link({local, ?MODULE}, ?MODULE, []).

%% @private
-spec init([]) -> {ok, {supervisor:sup_flags(), [supervisor:child_spec()]}}.
init([]) ->
    Pool = #{id => live_load_browser_pool, start => {live_load_browser_pool, start_link, []},
             shutdown => 15000},
    {ok, {#{strategy => one_for_one, intensity => 5, period => 10}, [Pool]}}.
