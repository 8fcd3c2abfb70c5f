%% @doc The periodic puller behind {@link live_load_collector:start_pulling/2}.
%%
%% One process on the primary node. Every `interval_ms' it asks every node still up for its
%% snapshot (in parallel, `timeout' per pull) and keeps, per node, the last valid one (this
%% run's `run_id', a decodable snapshot). A snapshot is cumulative, so the last one holds
%% everything the node recorded up to that pull.
%%
%% A node is `down' from the moment the master loses its connection (`nodedown', or a pull
%% answered `noconnection'): `down_at' is that time (ms since the epoch), the node is not
%% pulled again, and its last valid snapshot stays in the result and in the merge. A pull that
%% times out or answers badly mid-run changes nothing (a loaded node, or a node whose run has
%% not started yet); only the final pull of {@link stop/1} decides the status of the nodes
%% still up, and a node whose final answer is bad keeps its earlier data, reported `invalid'
%% with the reason.
-module(live_load_collector_pull).
-behaviour(gen_server).

-export([start/3]).
-export([stop/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

-define(DEFAULT_INTERVAL, 5000).
-define(DEFAULT_TIMEOUT, 30000).

%% @doc Start pulling `Nodes'; the puller ends with `Owner'.
-spec start([node()], map(), pid()) -> {ok, pid()}.
start(Nodes, Opts, Owner) ->
    {ok, _} = gen_server:start(?MODULE, {Nodes, Opts, Owner}, []).

%% @doc Final pull and the collected result; the puller ends.
-spec stop(pid()) -> {ok, live_load_collector:collected()}.
stop(Pid) ->
    gen_server:call(Pid, stop, infinity).

%% @private
-spec init({[node()], map(), pid()}) -> {ok, map()}.
init({Nodes, Opts, Owner}) ->
    _ = erlang:monitor(process, Owner),
    _ = [erlang:monitor_node(N, true) || N <- Nodes, N =/= node()],
    State = #{nodes => maps:from_list([{N, #{node => N, status => ok, pulls => 0}} || N <- Nodes]),
              order => Nodes,
              run_id => maps:get(run_id, Opts, any),
              interval => maps:get(interval_ms, Opts, ?DEFAULT_INTERVAL),
              timeout => maps:get(timeout, Opts, ?DEFAULT_TIMEOUT)},
    {ok, schedule(State)}.

%% @private
-spec handle_call(stop, gen_server:from(), map()) -> {stop, normal, {ok, live_load_collector:collected()}, map()}.
handle_call(stop, _From, State) ->
    #{nodes := Final, order := Order} = S1 = pull(final, State),
    Results = [maps:get(N, Final) || N <- Order],
    Merged = live_load_snapshot:merge([D || #{data := D} <- Results]),
    {stop, normal, {ok, #{nodes => Results, merged => Merged}}, S1}.

%% @private
-spec handle_cast(term(), map()) -> {noreply, map()}.
handle_cast(_Msg, State) ->
    {noreply, State}.

%% @private
-spec handle_info(term(), map()) -> {noreply, map()} | {stop, normal, map()}.
handle_info(pull, State) ->
    {noreply, schedule(pull(periodic, State))};
handle_info({nodedown, Node}, State) ->
    {noreply, lost(Node, nodedown, erlang:system_time(millisecond), State)};
handle_info({'DOWN', _, process, _, _}, State) ->
    {stop, normal, State};
handle_info(_Msg, State) ->
    {noreply, State}.

schedule(#{interval := I} = State) ->
    _ = erlang:send_after(I, self(), pull),
    State.

pull(Kind, #{nodes := Nodes, run_id := RunId, timeout := Timeout} = State) ->
    Up = [N || {N, #{status := S}} <- maps:to_list(Nodes), S =/= down],
    Answers = erpc:multicall(Up, live_load_metrics, snapshot, [], Timeout),
    Now = erlang:system_time(millisecond),
    lists:foldl(fun({N, A}, S) -> answer(Kind, N, live_load_collector:node_result(N, A, RunId), Now, S) end,
                State, lists:zip(Up, Answers)).

answer(_Kind, N, #{status := ok, data := Data}, _Now, #{nodes := Nodes} = S) ->
    #{N := Entry} = Nodes,
    S#{nodes := Nodes#{N := maps:remove(reason, Entry#{status := ok, data => Data,
                                                       pulls := maps:get(pulls, Entry) + 1})}};
answer(_Kind, N, #{status := down, reason := noconnection}, Now, S) ->
    lost(N, noconnection, Now, S);
answer(periodic, _N, _Bad, _Now, S) ->
    S;
answer(final, N, #{status := Status, reason := Reason}, Now, #{nodes := Nodes} = S) ->
    #{N := Entry} = Nodes,
    Entry1 = Entry#{status := Status, reason => Reason},
    S#{nodes := Nodes#{N := case Status of
                                down -> Entry1#{down_at => Now};
                                _ -> Entry1
                            end}}.

lost(N, Reason, Now, #{nodes := Nodes} = S) ->
    case Nodes of
        #{N := #{status := down}} -> S;
        #{N := Entry} -> S#{nodes := Nodes#{N := Entry#{status := down, reason => Reason, down_at => Now}}};
        _ -> S
    end.
