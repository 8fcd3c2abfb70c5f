%% @doc Supervisor of the throttles running on this node, and their name registry.
%%
%% The registry is a public ETS table owned by this supervisor (created in `init/1'), mapping a
%% throttle name (atom or binary, never made into an atom) to its process. Each throttle process
%% registers itself when it starts and removes itself when it stops.
-module(live_load_throttle_sup).
-behaviour(supervisor).

-export([start_link/0]).
-export([start_throttle/1]).
-export([stop_throttle/1]).
-export([whereis_throttle/1]).
-export([all_throttles/0]).
-export([register_throttle/1]).
-export([unregister_throttle/1]).
-export([init/1]).

-define(TABLE, live_load_throttles).

-spec start_link() -> {ok, pid()} | ignore | {error, term()}.
start_link() ->
    supervisor:start_link({local, ?MODULE}, ?MODULE, []).

-spec start_throttle(live_load_throttle:spec()) -> {ok, pid()} | {error, term()}.
start_throttle(Spec) ->
    case supervisor:start_child(?MODULE, [Spec]) of
        {ok, Pid} -> {ok, Pid};
        {error, {{already_started, _} = Reason, _}} -> {error, Reason};
        {error, {already_started, _} = Reason} -> {error, Reason};
        {error, Reason} -> {error, Reason}
    end.

-spec stop_throttle(live_load_throttle:name()) -> ok.
stop_throttle(Name) ->
    case whereis_throttle(Name) of
        undefined -> ok;
        Pid ->
            _ = supervisor:terminate_child(?MODULE, Pid),
            ok
    end.

-spec whereis_throttle(live_load_throttle:name()) -> pid() | undefined.
whereis_throttle(Name) ->
    case ets:lookup(?TABLE, Name) of
        [{_, Pid}] ->
            case is_process_alive(Pid) of
                true -> Pid;
                false -> undefined
            end;
        [] -> undefined
    end.

-spec all_throttles() -> [pid()].
all_throttles() ->
    [Pid || {_, Pid} <- ets:tab2list(?TABLE)].

%% @doc Called by a throttle process for itself; fails when a live throttle has that name.
-spec register_throttle(live_load_throttle:name()) -> ok | {error, {already_started, live_load_throttle:name()}}.
register_throttle(Name) ->
    case ets:insert_new(?TABLE, {Name, self()}) of
        true -> ok;
        false ->
            case whereis_throttle(Name) of
                undefined -> ets:insert(?TABLE, {Name, self()}), ok;
                _ -> {error, {already_started, Name}}
            end
    end.

-spec unregister_throttle(live_load_throttle:name()) -> ok.
unregister_throttle(Name) ->
    _ = ets:select_delete(?TABLE, [{{Name, self()}, [], [true]}]),
    ok.

-spec init([]) -> {ok, {supervisor:sup_flags(), [supervisor:child_spec()]}}.
init([]) ->
    _ = ets:new(?TABLE, [named_table, public, set, {read_concurrency, true}]),
    Child = #{id => live_load_throttle_server,
              start => {live_load_throttle_server, start_link, []},
              restart => temporary,
              shutdown => 1000,
              type => worker},
    {ok, {#{strategy => simple_one_for_one, intensity => 10, period => 10}, [Child]}}.
