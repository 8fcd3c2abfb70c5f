%% @doc The local engine's users: one `simple_one_for_one' supervisor per run (linked to the
%% engine), children running {@link live_load_user:run/2}. Stopping a child (or the supervisor)
%% sends it `shutdown': the user closes its context and is counted `stopped' within 5 s, else
%% it is killed.
-module(live_load_user_sup).
-behaviour(supervisor).

-export([start_link/0]).
-export([start_user/3]).
-export([init/1]).

-define(SHUTDOWN_MS, 5000).

-spec start_link() -> {ok, pid()} | {error, term()}.
start_link() ->
    supervisor:start_link(?MODULE, []).

%% @doc Starts user `Id' under `Sup'.
-spec start_user(pid(), pos_integer(), live_load_node:state()) -> {ok, pid()} | {error, term()}.
start_user(Sup, Id, Node) ->
    supervisor:start_child(Sup, [Id, Node]).

-spec init([]) -> {ok, {supervisor:sup_flags(), [supervisor:child_spec()]}}.
init([]) ->
    Child = #{id => live_load_user, start => {live_load_user, start_link, []},
              restart => temporary, shutdown => ?SHUTDOWN_MS, type => worker},
    {ok, {#{strategy => simple_one_for_one, intensity => 0, period => 1}, [Child]}}.
