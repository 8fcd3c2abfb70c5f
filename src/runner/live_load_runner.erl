%% @doc One simulated user: a `gen_statem' that runs the scenario's `run/3' in a loop.
%%
%% The iterations run in a worker process linked to the runner; the worker owns the user's context
%% (browser events come to it). States:
%% <ul>
%% <li>`initializing': the worker makes the context (bounded by `iteration_timeout', but at
%%     least 60 s: a browser context on a busy box can take seconds).</li>
%% <li>`looping': one iteration at a time until the run's deadline (`scenario_duration' after the
%%     run started) has passed; the iteration in progress is always finished. Each iteration is
%%     bounded by `iteration_timeout': past it the worker is killed and the user is failed.
%%     A failed context (a step failed) is recorded with its step and reason and the next iteration
%%     starts fresh with the assigns kept, after a 100 ms pause. A halted context ends the user
%%     cleanly. A crash of `run/3' fails the user.</li>
%% </ul>
%% When it ends the runner sends `{user_done, self(), UserId, ok | halted | failed}' to its parent.
-module(live_load_runner).
-behaviour(gen_statem).

-export([start_link/1]).
-export([callback_mode/0, init/1, handle_event/4, terminate/3]).

-define(FAILED_PAUSE_MS, 100).
-define(MIN_INIT_TIMEOUT_MS, 60000).   %% making a context (Chromium busy) is not an iteration

-type args() :: #{parent := pid(),
                  scenario := module(),
                  user_id := pos_integer(),
                  config := term(),
                  deadline := integer(),          %% monotonic ms
                  iteration_timeout := pos_integer(),
                  stats := live_load_run_stats:stats(),
                  ctx_opts := map()}.
-export_type([args/0]).

-spec start_link(args()) -> {ok, pid()} | {error, term()}.
start_link(Args) ->
    gen_statem:start_link(?MODULE, Args, []).

-spec callback_mode() -> gen_statem:callback_mode_result().
callback_mode() ->
    handle_event_function.

-spec init(args()) -> gen_statem:init_result(initializing).
init(#{iteration_timeout := Timeout} = Args) ->
    process_flag(trap_exit, true),
    Runner = self(),
    Worker = spawn_link(fun() -> worker_init(Runner, Args) end),
    {ok, initializing, Args#{worker => Worker, iteration => 0},
     [{state_timeout, max(Timeout, ?MIN_INIT_TIMEOUT_MS), init_timeout}]}.

-spec handle_event(gen_statem:event_type(), term(), atom(), map()) ->
          gen_statem:event_handler_result(atom()).
handle_event(info, {ready, W, {ok, Ctx}}, initializing, #{worker := W} = D) ->
    live_load_run_stats:user_started(stats(D)),
    next_iteration(D#{ctx => Ctx});
handle_event(info, {ready, W, {error, Reason}}, initializing, #{worker := W} = D) ->
    record_error(D, context_failed(Reason)),
    finish(failed, D);
handle_event(state_timeout, init_timeout, initializing, D) ->
    record_error(D, {context_failed, <<"context not ready in time">>}),
    finish(failed, D);
handle_event(info, {iteration, W, Outcome, Ms}, looping, #{worker := W} = D) ->
    #{scenario := Scenario} = D,
    case Outcome of
        ok ->
            live_load_run_stats:iteration(stats(D), Scenario, ok, Ms),
            next_iteration(D);
        halted ->
            live_load_run_stats:iteration(stats(D), Scenario, halted, Ms),
            finish(halted, D);
        {failed, Error} ->
            live_load_run_stats:iteration(stats(D), Scenario, failed, Ms),
            record_error(D, live_load_runner_ctx:describe(Error)),
            {keep_state_and_data, [{state_timeout, ?FAILED_PAUSE_MS, pause_over}]}
    end;
handle_event(state_timeout, pause_over, looping, D) ->
    next_iteration(D);
handle_event(info, {crashed, W, Class, Reason, Ms}, looping, #{worker := W} = D) ->
    live_load_run_stats:iteration(stats(D), maps:get(scenario, D), failed, Ms),
    record_error(D, {scenario_crash, {Class, Reason}}),
    finish(failed, D);
handle_event(state_timeout, iteration_timeout, looping, #{worker := W} = D) ->
    unlink(W),
    exit(W, kill),
    maps:is_key(ctx, D) andalso live_load_runner_ctx:close(maps:get(ctx, D)),
    #{scenario := Scenario, iteration_timeout := T} = D,
    live_load_run_stats:iteration(stats(D), Scenario, failed, T),
    record_error(D, {iteration_timeout, iolist_to_binary(io_lib:format("iteration killed after ~b ms", [T]))}),
    finish(failed, maps:remove(worker, D));
handle_event(info, {'EXIT', W, Reason}, _State, #{worker := W} = D) ->
    record_error(D, {worker_exit, Reason}),
    finish(failed, maps:remove(worker, D));
handle_event(info, {'EXIT', Parent, Reason}, _State, #{parent := Parent}) ->
    {stop, Reason};
handle_event(_Type, _Msg, _State, _D) ->
    keep_state_and_data.

-spec terminate(term(), atom(), map()) -> ok.
terminate(_Reason, _State, #{worker := W}) ->
    exit(W, kill),
    ok;
terminate(_Reason, _State, _D) ->
    ok.

next_iteration(#{deadline := Deadline, iteration_timeout := Timeout, worker := W, iteration := N} = D) ->
    case erlang:monotonic_time(millisecond) >= Deadline of
        true -> finish(ok, D);
        false ->
            W ! {iterate, N + 1},
            {next_state, looping, D#{iteration => N + 1}, [{state_timeout, Timeout, iteration_timeout}]}
    end.

%% Stops the worker (it closes its context), reports to the parent, stops the runner.
finish(Status, #{parent := Parent, user_id := Id} = D) ->
    case D of
        #{worker := W} ->
            W ! stop,
            receive {'EXIT', W, _} -> ok
            after 10000 -> unlink(W), exit(W, kill)
            end;
        _ -> ok
    end,
    live_load_run_stats:user_done(stats(D), Status, maps:is_key(ctx, D)),
    Parent ! {user_done, self(), Id, Status},
    {stop, normal, maps:remove(worker, D)}.

stats(#{stats := S}) -> S.

record_error(D, {Kind, Detail}) ->
    live_load_run_stats:error(stats(D), Kind, Detail).

context_failed(Reason) -> {context_failed, Reason}.

%% --- worker: owns the context, runs the iterations -----------------------------------------

worker_init(Runner, #{ctx_opts := CtxOpts, user_id := Id} = Args) ->
    case live_load_runner_ctx:new(CtxOpts#{user_id => Id}) of
        {ok, Ctx} ->
            Runner ! {ready, self(), {ok, Ctx}},
            worker_loop(Runner, Ctx, Args);
        {error, _} = E ->
            Runner ! {ready, self(), E}
    end.

worker_loop(Runner, Ctx, #{scenario := M, user_id := Id, config := Config} = Args) ->
    receive
        {iterate, N} ->
            T0 = erlang:monotonic_time(microsecond),
            case iterate(M, live_load_runner_ctx:before_iteration(Ctx, Id, N), Id, Config) of
                {ok, Outcome, Ctx1} ->
                    live_load_throttle:release_all(),
                    Runner ! {iteration, self(), Outcome, ms_since(T0)},
                    worker_loop(Runner, live_load_runner_ctx:next_iteration(Ctx1), Args);
                {crashed, Class, Reason} ->
                    Runner ! {crashed, self(), Class, Reason, ms_since(T0)},
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
