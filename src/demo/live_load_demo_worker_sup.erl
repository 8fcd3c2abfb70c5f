%% @doc A `simple_one_for_one' supervisor of temporary workers, used three times by the demo
%% target: connections, long-poll sessions and LiveView processes. Temporary because a dead
%% connection or view is gone for good, as in Phoenix (the client reconnects or rejoins).
-module(live_load_demo_worker_sup).
-behaviour(supervisor).

-export([start_link/2]).
-export([init/1]).

-spec start_link(atom(), module()) -> {ok, pid()} | {error, term()}.
start_link(Name, Module) ->
    supervisor:start_link({local, Name}, ?MODULE, Module).

-spec init(module()) -> {ok, {supervisor:sup_flags(), [supervisor:child_spec()]}}.
init(Module) ->
    {ok, {#{strategy => simple_one_for_one, intensity => 0, period => 1},
          [#{id => Module, start => {Module, start_link, []}, restart => temporary,
             shutdown => brutal_kill, type => worker}]}}.
