%% @doc What one node prepares once for a scenario run, whichever engine schedules the users:
%% the scenario's `config/1', its throttles (on this node, or as `amoc_throttle'), the metrics
%% run (with the run id), the browsers, and the node's deadline. The state it returns is what
%% {@link live_load_user:run/2} needs, and nothing more.
%%
%% Browsers: `{browsers, N}' starts N browsers now (the local engine knows its user count) and
%% users are spread over them by id; `pool' leaves them to `live_load_browser_pool', configured
%% here with `users_per_browser', which starts a browser when every running one is full (an amoc
%% node does not know how many users it will get).
%%
%% The clock: users loop until `scenario_duration' after the node's clock started. The local
%% engine starts it when its browsers are up ({@link start_clock/1}); on amoc it starts when the
%% node's first user has its context up ({@link deadline/1}: the browser pool started Chromium
%% for it, which takes seconds on a busy machine), and `amoc_dist:do/3' starts users only once
%% every node's `init/0' is done, so the run's clock starts when every node is ready.
-module(live_load_node).

-export([init/3]).
-export([start_clock/1]).
-export([deadline/1]).
-export([terminate/1]).
-export([get/2]).
-export([adapter/1]).
-export([backend_for/2]).

-export_type([state/0]).

-opaque state() :: #{scenario := module(),
                     config := term(),
                     throttles := [live_load_throttle:name()],
                     throttle_backend := local | amoc,
                     browsers := [pid()] | pool | none,
                     protocol := pid() | shared | none,
                     user_kinds := #{browser := non_neg_integer(), protocol := non_neg_integer()},
                     data := live_load_data:feeder() | undefined,
                     adapter := module(),
                     mode := faithful | fast,
                     iteration_timeout := pos_integer(),
                     scenario_duration := pos_integer(),
                     on_failure := continue | stop_user,
                     clock := atomics:atomics_ref(),
                     run_id := live_load_metrics:run_id()}.

%% @doc Prepares this node. `How': `browsers' (`{count, N}' | `pool'), `throttles'
%% (`local' | `amoc'), `run_id'. On an error everything started is stopped again.
-spec init(module(), live_load_options:run_opts(),
           #{browsers := {count, pos_integer()} | pool, throttles := local | amoc,
             run_id := live_load_metrics:run_id() | undefined}) ->
          {ok, state()} | {error, term()}.
init(Scenario, #{config_opts := ConfigOpts} = Opts, How) ->
    case live_load_scenario:config(Scenario, ConfigOpts) of
        {ok, Config} ->
            case live_load_scenario:throttles(Scenario, Config) of
                {ok, Specs} -> with_throttles(Scenario, Config, Specs, Opts, How);
                {error, _} = E -> E
            end;
        {error, _} = E -> E
    end.

with_throttles(Scenario, Config, Specs, Opts, #{throttles := Backend, browsers := B, run_id := RunId}) ->
    case live_load_throttle:start_all(Specs, Backend) of
        ok ->
            Names = [maps:get(name, S) || S <- Specs],
            case start_backends(B, Opts) of
                {ok, {Browsers, Protocol}} ->
                    ok = metrics_run(RunId),
                    {ok, (#{scenario => Scenario, config => Config, throttles => Names,
                                       throttle_backend => Backend, browsers => Browsers,
                                       protocol => Protocol, user_kinds => user_kinds(Opts),
                                       data => maps:get(data, Opts, undefined),
                                       adapter => adapter_of(Opts), mode => maps:get(mode, Opts),
                                       iteration_timeout => maps:get(iteration_timeout, Opts),
                                       scenario_duration => maps:get(scenario_duration, Opts),
                                       on_failure => maps:get(on_failure, Opts, continue),
                                       clock => new_clock(), run_id => live_load_metrics:run_id()})};
                {error, Reason} ->
                    live_load_throttle:stop_all(Names, Backend),
                    {error, {browser_failed, Reason}}
            end;
        {error, Reason} -> {error, {throttles_failed, Reason}}
    end.

metrics_run(undefined) -> live_load_metrics:start_run(#{});
metrics_run(RunId) -> live_load_metrics:start_run(#{run_id => RunId}).

-define(UNSET, -(1 bsl 63)).

new_clock() ->
    C = atomics:new(1, [{signed, true}]),
    atomics:put(C, 1, ?UNSET),
    C.

%% @doc Starts the node's clock now: users run until `scenario_duration' from here.
-spec start_clock(state()) -> state().
start_clock(#{scenario_duration := D, clock := C} = S) ->
    atomics:put(C, 1, erlang:monotonic_time(millisecond) + D),
    S.

%% @doc The node's deadline (monotonic ms); the first call starts the clock if nothing did.
-spec deadline(state()) -> integer().
deadline(#{scenario_duration := D, clock := C}) ->
    case atomics:get(C, 1) of
        ?UNSET ->
            case atomics:compare_exchange(C, 1, ?UNSET, erlang:monotonic_time(millisecond) + D) of
                ok -> atomics:get(C, 1);
                Set -> Set
            end;
        Set -> Set
    end.

%% @doc Stops the node's throttles and browsers.
-spec terminate(state()) -> ok.
terminate(#{throttles := Names, throttle_backend := Backend, browsers := Browsers,
            protocol := Protocol}) ->
    live_load_throttle:stop_all(Names, Backend),
    stop_browsers(Browsers),
    is_pid(Protocol) andalso stop_browsers([Protocol]),
    ok.

%% @doc One field of the state.
-spec get(scenario | config | mode | iteration_timeout | scenario_duration | on_failure
          | run_id | data, state()) -> term().
get(Key, S) ->
    maps:get(Key, S).

%% @doc The browser connection module.
-spec adapter(state()) -> module().
adapter(#{adapter := A}) -> A.

%% @doc The backend of user `Id' (#13): which connection kind it gets
%% (`live_load_connection:user_kind/2' spreads the kinds evenly over the ids, exactly as many
%% browser users as asked), and for a browser user one of the node's browsers round robin, `pool'
%% or `undefined' (no browser); for a protocol user the node's protocol process, or `shared' (the
%% node's shared protocol port, started on first use: amoc nodes).
-spec backend_for(pos_integer(), state()) ->
          {browser, pid() | pool | undefined} | {protocol, pid() | shared}.
backend_for(Id, #{user_kinds := Kinds} = S) ->
    case live_load_connection:user_kind(Id, Kinds) of
        protocol -> {protocol, maps:get(protocol, S)};
        browser -> {browser, browser_for(live_load_connection:kind_index(Id, browser, Kinds), S)}
    end.

browser_for(_N, #{browsers := none}) -> undefined;
browser_for(_N, #{browsers := pool}) -> pool;
browser_for(N, #{browsers := Bs}) -> lists:nth((max(1, N) - 1) rem length(Bs) + 1, Bs).

%% `users' of the `connection' kind, or `#{browser => N, protocol => M}' (options give `user_kinds').
user_kinds(#{user_kinds := K}) -> K;
user_kinds(Opts) -> maps:merge(#{browser => 0, protocol => 0}, #{maps:get(connection, Opts, browser) => 1}).

adapter_of(#{browser_connection_adapter := undefined}) -> live_load_browser_actions;
adapter_of(#{browser_connection_adapter := Adapter}) -> Adapter.

%% Browsers for the browser users only (protocol users never start Chromium), and for protocol
%% users one protocol backend process serving all of them on this node (`shared' under a pool).
start_backends(How, Opts) ->
    #{browser := B, protocol := P} = user_kinds(Opts),
    case start_browsers(How, B, Opts) of
        {ok, Browsers} when P =:= 0 -> {ok, {Browsers, none}};
        {ok, Browsers} when How =:= pool -> {ok, {Browsers, shared}};
        {ok, Browsers} ->
            case catch live_load_protocol:start_link(maps:get(protocol_opts, Opts, #{})) of
                {ok, Pid} -> {ok, {Browsers, Pid}};
                Error -> stop_browsers(Browsers), {error, {protocol, Error}}
            end;
        {error, _} = E -> E
    end.

start_browsers(_, _, #{browser := false}) ->
    {ok, none};
start_browsers(_, 0, _Opts) ->
    {ok, none};
start_browsers(pool, _, #{users_per_browser := Per, browser_connection_opts := BOpts} = Opts) ->
    case application:ensure_all_started(live_load) of
        {ok, _} ->
            case live_load_browser_pool:configure(#{users_per_browser => Per, browser => BOpts,
                                                    connection => adapter_of(Opts)}) of
                ok -> {ok, pool};
                {error, _} = E -> E
            end;
        {error, _} = E -> E
    end;
start_browsers({count, _}, Users, #{users_per_browser := Per, browser_connection_opts := BOpts} = Opts) ->
    start_browsers((Users + Per - 1) div Per, adapter_of(Opts), BOpts, []).

start_browsers(0, _Adapter, _BOpts, Acc) ->
    {ok, lists:reverse(Acc)};
start_browsers(N, Adapter, BOpts, Acc) ->
    case catch Adapter:start_link(BOpts) of
        {ok, Pid} ->
            start_browsers(N - 1, Adapter, BOpts, [Pid | Acc]);
        Error -> stop_browsers(Acc), {error, Error}
    end.

stop_browsers(none) -> ok;
stop_browsers(pool) -> live_load_browser_pool:stop_browsers();
stop_browsers(Browsers) ->
    lists:foreach(fun(B) ->
                          Mon = monitor(process, B),
                          exit(B, shutdown),
                          receive {'DOWN', Mon, process, B, _} -> ok
                          after 10000 -> exit(B, kill)
                          end
                  end, Browsers).
