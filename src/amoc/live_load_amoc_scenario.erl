%% @doc A live_load scenario as an amoc scenario: the one place of logic behind
%% `include/live_load_amoc.hrl' (Erlang), `use LiveLoad.Scenario' (Elixir) and the generic
%% `live_load_amoc_runner'. Their amoc callbacks are one-line calls to these functions.
%%
%% <ul>
%% <li>{@link init/1} runs once per node in amoc's controller: it reads the settings
%%     (`live_load_amoc_settings'), starts the live_load application, and prepares the node
%%     with `live_load_node' (the scenario's `config/1', its throttles as `amoc_throttle', the
%%     metrics run, the node's browser pool sized by `users_per_browser'). The node's clock
%%     starts with its first user, which amoc starts once every node's `init/0' is done.
%%     amoc runs `init/0' inside a `gen_server:call' with the default 5 s timeout: past it,
%%     `do/3' fails with that node's timeout. So init starts no browser (the pool starts them
%%     as users arrive); what takes time in it is the scenario's own `config/1' (keep it
%%     fast: no HTTP calls), reading the `data' file and one call to the master per throttle
%%     (at most 4 s each).</li>
%% <li>{@link start/3} runs the user loop (`live_load_user:run/2') in the amoc user process.</li>
%% <li>{@link terminate/2} (on `amoc:stop/0' / `amoc_dist:stop/0', after the users ended) stops
%%     the node's throttles and browsers and unloads the node's data feeder.</li>
%% </ul>
-module(live_load_amoc_scenario).

-export([init/1]).
-export([start/3]).
-export([terminate/2]).
-export([node_info/1]).

%% @doc Prepares this node for `Scenario'.
-spec init(module()) -> {ok, live_load_node:state()} | {error, term()}.
init(Scenario) ->
    case application:ensure_all_started(live_load) of
        {ok, _} ->
            case with_data(live_load_amoc_settings:read(Scenario)) of
                {ok, Opts} ->
                    RunId = amoc_get(live_load_run_id),
                    case live_load_node:init(Scenario, Opts, #{browsers => pool, throttles => amoc,
                                                               run_id => RunId}) of
                        {ok, State} ->
                            persistent_term:put({?MODULE, Scenario},
                                                #{mode => maps:get(mode, Opts), options => live_load_options:recorded(maps:get(given, Opts)),
                                                  run_id => RunId}),
                            {ok, State};
                        {error, _} = E ->
                            unload(maps:get(data, Opts, undefined)),
                            E
                    end;
                {error, _} = E -> E
            end;
        {error, Reason} -> {error, {live_load_not_started, Reason}}
    end.

%% The node's own data feeder (#12): the file is read on this node; `per_user' rows follow amoc's
%% user ids, which are global, so no two users of the cluster get the same row. The hybrid split
%% (`user_kinds') is the master's, so the kinds follow the global ids too.
with_data({ok, Settings}) ->
    with_data(live_load_options:validate(maps:without([user_kinds], Settings)), Settings);
with_data({error, _} = E) ->
    E.

with_data({ok, Opts0}, Settings) ->
    Opts = case Settings of
               #{user_kinds := Kinds} -> Opts0#{user_kinds => Kinds};
               _ -> Opts0
           end,
    case Opts of
        #{data := Spec} when is_map(Spec) ->
            case live_load_data:load(Spec) of
                {ok, Feeder} -> {ok, Opts#{data := Feeder}};
                {error, _} = E -> E
            end;
        _ -> {ok, Opts}
    end;
with_data({error, _} = E, _Settings) -> E.

%% @doc Runs user `UserId' in the calling (amoc user) process.
-spec start(module(), pos_integer(), live_load_node:state()) -> live_load_user:status().
start(_Scenario, UserId, State) ->
    live_load_user:run(UserId, State).

%% @doc Stops the node's throttles and browsers, and unloads the node's data feeder.
-spec terminate(module(), live_load_node:state()) -> ok.
terminate(_Scenario, State) ->
    ok = live_load_node:terminate(State),
    unload(live_load_node:get(data, State)).

unload(#{key := _} = Feeder) -> live_load_data:unload(Feeder);
unload(_) -> ok.

%% @doc What `init/1' recorded about the run on this node (mode, options, run id), for the
%% result built on the master; `undefined' before.
-spec node_info(module()) -> map() | undefined.
node_info(Scenario) ->
    persistent_term:get({?MODULE, Scenario}, undefined).

amoc_get(Name) ->
    Config = amoc_config,
    Config:get(Name).
