%% @doc Supervisor of one running demo target, started by {@link live_load_demo_target:start/1}
%% (not by the live_load application, so tests start and stop it freely). It owns the public
%% long-poll token table, the sign-in table of `/login' and the server timing table; its children are the view, long-poll and connection supervisors and
%% the listener, started in that order and stopped together (`one_for_all').
-module(live_load_demo_sup).
-behaviour(supervisor).

-export([start_link/1]).
-export([init/1]).

-spec start_link(map()) -> {ok, pid()} | {error, term()}.
start_link(Opts) ->
    supervisor:start_link({local, ?MODULE}, ?MODULE, Opts).

-spec init(map()) -> {ok, {supervisor:sup_flags(), [supervisor:child_spec()]}}.
init(Opts) ->
    live_load_demo_longpoll = ets:new(live_load_demo_longpoll, [named_table, public, set,
                                                                 {read_concurrency, true}]),
    ok = live_load_demo_login:table(),
    ok = live_load_demo_timing:table(),
    Sup = fun(Name, Mod) ->
                  #{id => Name, start => {live_load_demo_worker_sup, start_link, [Name, Mod]},
                    type => supervisor, shutdown => infinity}
          end,
    {ok, {#{strategy => one_for_all, intensity => 3, period => 10},
          [Sup(live_load_demo_view_sup, live_load_demo_view),
           Sup(live_load_demo_longpoll_sup, live_load_demo_longpoll),
           Sup(live_load_demo_conn_sup, live_load_demo_conn),
           #{id => live_load_demo_listener, start => {live_load_demo_listener, start_link, [Opts]},
             type => worker, shutdown => 5000}]}}.
