%% @doc Owner of the per-node metric tables and of the current run's settings.
%%
%% This process only creates the ETS tables and keeps them alive; it is not on the recording
%% path. Recording processes read and write the public tables directly (see
%% {@link live_load_metrics}). The run settings (start time, bucket width, caps) live in a
%% `persistent_term' so that every recorder reads them without copying; they change only at
%% {@link live_load_metrics:reset/0} and {@link live_load_metrics:start_run/1}.
%%
%% Tables:
%% <ul>
%% <li>`live_load_metrics_sketches' (read_concurrency): `{{s, Metric, Dims}, Sketch}' one
%%     DDSketch per metric and dimension combination, `{{b, Metric, Bucket}, Sketch}' one
%%     per metric and time bucket.</li>
%% <li>`live_load_metrics_counters' (write_concurrency, decentralized counters): counters,
%%     per-bucket counters, metric errors, overflow counts, error entries.</li>
%% <li>`live_load_metrics_meta' (read_concurrency): admitted dimension values and
%%     declared metrics.</li>
%% </ul>
-module(live_load_metrics_store).
-behaviour(gen_server).

-export([start_link/0]).
-export([start/0]).
-export([settings/0]).
-export([put_settings/1]).
-export([clear/0]).
-export([init/1, handle_call/3, handle_cast/2]).

-export_type([settings/0]).

-define(SKETCHES, live_load_metrics_sketches).
-define(COUNTERS, live_load_metrics_counters).
-define(META, live_load_metrics_meta).
-define(SETTINGS, {live_load_metrics, settings}).

-type settings() :: #{run := integer(),
                      run_id := live_load_metrics:run_id(),
                      start_mono_ms := integer(),
                      started_at_ms := integer(),
                      bucket_ms := pos_integer(),
                      max_buckets := pos_integer(),
                      max_dim_values := pos_integer(),
                      max_series := pos_integer()}.

%% @doc Start the table owner, linked (supervisor child).
-spec start_link() -> {ok, pid()} | {error, term()}.
start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

%% @doc Start the table owner without a link (a node without the live_load application,
%% e.g. a test peer).
-spec start() -> {ok, pid()} | {error, term()}.
start() ->
    gen_server:start({local, ?MODULE}, ?MODULE, [], []).

%% @doc The current run settings.
-spec settings() -> settings().
settings() ->
    persistent_term:get(?SETTINGS).

%% @doc Replace the run settings (validated by the caller).
-spec put_settings(settings()) -> ok.
put_settings(Settings) ->
    persistent_term:put(?SETTINGS, Settings).

%% @doc Empty every table.
-spec clear() -> ok.
clear() ->
    true = ets:delete_all_objects(?SKETCHES),
    true = ets:delete_all_objects(?COUNTERS),
    true = ets:delete_all_objects(?META),
    ok.

%% @private
-spec init([]) -> {ok, no_state}.
init([]) ->
    Public = [named_table, public, set],
    _ = ets:new(?SKETCHES, [{read_concurrency, true} | Public]),
    _ = ets:new(?COUNTERS, [{write_concurrency, true}, {decentralized_counters, true} | Public]),
    _ = ets:new(?META, [{read_concurrency, true} | Public]),
    case persistent_term:get(?SETTINGS, undefined) of
        undefined -> ok = live_load_metrics:reset();
        _ -> ok
    end,
    {ok, no_state}.

%% @private
-spec handle_call(term(), gen_server:from(), no_state) -> {reply, {error, unknown_call}, no_state}.
handle_call(_Request, _From, State) ->
    {reply, {error, unknown_call}, State}.

%% @private
-spec handle_cast(term(), no_state) -> {noreply, no_state}.
handle_cast(_Msg, State) ->
    {noreply, State}.
