%% @doc One simulated user: the user loop, a plain function that runs in the calling process
%% (an amoc user process, or a child of the local engine's user supervisor).
%%
%% {@link run/2} makes the user's context, runs the scenario's `run/3' in a loop until the node's
%% deadline (`scenario_duration' after the node's clock started, see `live_load_node') has passed, closes the context and
%% returns how the user ended. It reports only through `live_load_metrics' (documented in
%% `guides/events.md'): `users.started' when the context is up (`users.start_failed' when it
%% never came up), `users.done' by `status' when the user ends, `iterations' by `result' and `iteration.duration' per iteration, and every
%% error. Nothing else (no parent pid, no shared table) is needed, so every engine only schedules.
%%
%% The iterations run in a worker process linked to the caller; the worker owns the context
%% (browser events come to it):
%% <ul>
%% <li>Making the context is bounded by `iteration_timeout', but at least 60 s (a browser
%%     context on a busy box can take seconds).</li>
%% <li>Each iteration is bounded by `iteration_timeout': past it the worker is killed and the
%%     user ends `failed'. The iteration in progress at the deadline is always finished.</li>
%% <li>A failed context (a step failed) is recorded with its step and reason; with
%%     `on_failure => continue' (default) the next iteration starts fresh with the assigns kept,
%%     after a 100 ms pause; with `on_failure => stop_user' the user ends `failed'.</li>
%% <li>A halted context ends the user `halted'. A crash of `run/3' ends it `failed'.</li>
%% <li>An exit signal from another linked process (the supervisor's `shutdown', amoc's removal
%%     of a user) stops the user at once: the context is closed, the user is counted `stopped'
%%     and the caller exits with that reason.</li>
%% </ul>
-module(live_load_user).

-export([run/2]).
-export([start_link/2]).
-export([ctx_opts/2]).

-export_type([status/0]).

-type status() :: ok | halted | failed | stopped.

-define(FAILED_PAUSE_MS, 100).
-define(MIN_INIT_TIMEOUT_MS, 60000).   %% making a context (Chromium busy) is not an iteration
-define(STOP_WAIT_MS, 3000).           %% a worker asked to stop closes its context within this

%% @doc Runs user `UserId' in a new process linked to the caller (the local engine's
%% supervisor children).
-spec start_link(pos_integer(), live_load_node:state()) -> {ok, pid()}.
start_link(UserId, Node) ->
    {ok, proc_lib:spawn_link(fun() -> run(UserId, Node) end)}.

%% @doc The options of user `UserId''s context (`live_load_runner_ctx:new/1'), computed from
%% the node's state: the one place where per-node settings become per-user context options.
-spec ctx_opts(pos_integer(), live_load_node:state()) -> map().
ctx_opts(UserId, Node) ->
    Base = #{user_id => UserId, mode => live_load_node:get(mode, Node),
             data => live_load_node:get(data, Node)},   %% the node's data feeder (#12)
    case live_load_node:backend_for(UserId, Node) of
        {protocol, shared} -> Base#{connection => protocol};
        {protocol, Pid} -> Base#{connection => protocol, server => Pid};
        {browser, pool} -> Base#{connection => live_load_node:adapter(Node)};
        {browser, Browser} -> Base#{connection => live_load_node:adapter(Node), browser => Browser}
    end.

%% @doc Runs the user loop in the calling process; returns how the user ended.
-spec run(pos_integer(), live_load_node:state()) -> status().
run(UserId, Node) ->
    OldTrap = process_flag(trap_exit, true),
    Self = self(),
    CtxOpts = ctx_opts(UserId, Node),
    Worker = spawn_link(fun() -> worker_init(Self, UserId, CtxOpts, Node) end),
    U = #{id => UserId, node => Node, worker => Worker, iteration => 0,
          timeout => live_load_node:get(iteration_timeout, Node)},
    Status = initializing(U),
    process_flag(trap_exit, OldTrap),
    Status.

initializing(#{worker := W, timeout := Timeout, node := Node} = U) ->
    receive
        {ready, W, {ok, Ctx}} ->
            %% the first user of a node with its context up starts the node's clock (under amoc
            %% the browser pool starts Chromium for it: that is no part of the run's duration)
            _ = live_load_node:deadline(Node),
            count(<<"users.started">>, #{}),
            next_iteration(U#{ctx => Ctx});
        {ready, W, {error, Reason}} ->
            start_failed(context_failed, Reason, U);
        {'EXIT', W, Reason} ->
            start_failed(worker_exit, Reason, maps:remove(worker, U));
        {'EXIT', _From, Reason} when Reason =/= normal ->
            count(<<"users.start_failed">>, #{}),
            stop(Reason, U)
    after max(Timeout, ?MIN_INIT_TIMEOUT_MS) ->
            start_failed(context_failed, <<"context not ready in time">>, U)
    end.

start_failed(Kind, Reason, U) ->
    record_error(Kind, Reason),
    count(<<"users.start_failed">>, #{}),
    finish(failed, U).

next_iteration(#{worker := W, iteration := N, node := Node} = U) ->
    case erlang:monotonic_time(millisecond) >= live_load_node:deadline(Node) of
        true -> finish(ok, U);
        false ->
            W ! {iterate, N + 1},
            looping(U#{iteration => N + 1})
    end.

looping(#{worker := W, timeout := Timeout, node := Node} = U) ->
    Scenario = live_load_node:get(scenario, Node),
    receive
        {iteration, W, ok, Ms} ->
            iteration(Scenario, ok, Ms),
            next_iteration(U);
        {iteration, W, halted, Ms} ->
            iteration(Scenario, halted, Ms),
            finish(halted, U);
        {iteration, W, {failed, Error}, Ms} ->
            iteration(Scenario, failed, Ms),
            {Kind, Text} = live_load_runner_ctx:describe(Error),
            record_error(Kind, Text),
            case live_load_node:get(on_failure, Node) of
                stop_user -> finish(failed, U);
                continue -> pause(U)
            end;
        {crashed, W, Class, Reason, Ms} ->
            iteration(Scenario, failed, Ms),
            record_error(scenario_crash, {Class, Reason}),
            finish(failed, U);
        {'EXIT', W, Reason} ->
            record_error(worker_exit, Reason),
            finish(failed, maps:remove(worker, U));
        {'EXIT', _From, Reason} when Reason =/= normal ->
            stop(Reason, U)
    after Timeout ->
            kill_worker(U),
            iteration(Scenario, failed, Timeout),
            record_error(iteration_timeout,
                         iolist_to_binary(io_lib:format("iteration killed after ~b ms", [Timeout]))),
            finish(failed, maps:remove(worker, U))
    end.

pause(U) ->
    receive
        {'EXIT', W, Reason} when W =:= map_get(worker, U) ->
            record_error(worker_exit, Reason),
            finish(failed, maps:remove(worker, U));
        {'EXIT', _From, Reason} when Reason =/= normal ->
            stop(Reason, U)
    after ?FAILED_PAUSE_MS ->
            next_iteration(U)
    end.

%% Stopped from outside: close what the user holds, count it, and exit as asked.
-spec stop(term(), map()) -> no_return().
stop(Reason, U) ->
    stop_worker(U),
    count(<<"users.done">>, #{<<"status">> => <<"stopped">>}),
    exit(Reason).

finish(Status, U) ->
    stop_worker(U),
    count(<<"users.done">>, #{<<"status">> => atom_to_binary(Status)}),
    Status.

%% The worker closes its context when asked; one stuck in a step is killed and its context
%% closed from here.
stop_worker(#{worker := W} = U) ->
    W ! stop,
    receive {'EXIT', W, _} -> ok
    after ?STOP_WAIT_MS -> kill_worker(U)
    end;
stop_worker(_U) ->
    ok.

kill_worker(#{worker := W} = U) ->
    unlink(W),
    exit(W, kill),
    receive {'EXIT', W, _} -> ok after 0 -> ok end,
    maps:is_key(ctx, U) andalso live_load_runner_ctx:close(maps:get(ctx, U)),
    ok.

iteration(Scenario, Result, Ms) ->
    live_load_metrics:record(<<"iteration.duration">>, Ms, #{<<"scenario">> => atom_to_binary(Scenario)}),
    count(<<"iterations">>, #{<<"result">> => atom_to_binary(Result)}).

count(Name, Dims) ->
    live_load_metrics:count(Name, 1, Dims).

record_error(Kind0, Detail) ->
    Kind = case is_atom(Kind0) of true -> atom_to_binary(Kind0); false -> Kind0 end,
    Message = case is_binary(Detail) of
                  true -> Detail;
                  false -> iolist_to_binary(io_lib:format("~0tP", [Detail, 20]))
              end,
    live_load_metrics:error(Kind, Message, undefined).

%% --- worker: owns the context, runs the iterations -----------------------------------------

worker_init(User, Id, CtxOpts, Node) ->
    case live_load_runner_ctx:new(CtxOpts) of
        {ok, Ctx} ->
            User ! {ready, self(), {ok, Ctx}},
            worker_loop(User, Id, Ctx, live_load_node:get(scenario, Node), live_load_node:get(config, Node));
        {error, _} = E ->
            User ! {ready, self(), E}
    end.

worker_loop(User, Id, Ctx, M, Config) ->
    receive
        {iterate, N} ->
            T0 = erlang:monotonic_time(microsecond),
            case iterate(M, live_load_runner_ctx:before_iteration(Ctx, Id, N), Id, Config) of
                {ok, Outcome, Ctx1} ->
                    live_load_throttle:release_all(),
                    User ! {iteration, self(), Outcome, ms_since(T0)},
                    worker_loop(User, Id, live_load_runner_ctx:next_iteration(Ctx1), M, Config);
                {crashed, Class, Reason} ->
                    live_load_throttle:release_all(),
                    User ! {crashed, self(), Class, Reason, ms_since(T0)},
                    live_load_runner_ctx:close(Ctx)
            end;
        stop ->
            live_load_runner_ctx:close(Ctx)
    end.

iterate(M, Ctx, Id, Config) ->
    try M:run(Ctx, Id, Config) of
        Ctx1 ->
            try live_load_runner_ctx:outcome(Ctx1) of
                Outcome -> {ok, Outcome, Ctx1}
            catch _:_ -> {crashed, error, {bad_return, Ctx1}}
            end
    catch Class:Reason -> {crashed, Class, Reason}
    end.

ms_since(T0) ->
    (erlang:monotonic_time(microsecond) - T0) / 1000.
