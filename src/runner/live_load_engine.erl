%% @doc The embedded (local) engine: runs one scenario on this node. It only schedules.
%%
%% In order: the node is prepared by `live_load_node' (the scenario's `config/1' and
%% `throttles/1', the metrics run, one browser per `users_per_browser' users), the clock starts,
%% `users' users are started under a `live_load_user_sup' at `user_rate' users per minute
%% (default: all within about 3 s, or within the first tenth of a shorter run), the progress line
%% runs; then it waits for every user to end, stops throttles and browsers and builds the result
%% from the metrics (`live_load_run_result'). It runs in its own process, so user exits never
%% reach the caller of `live_load:run/1'.
%%
%% {@link stop/0} (`live_load:stop/0', SIGTERM or Ctrl-C in the CLI) interrupts the run: no more
%% users start, the running ones are stopped (contexts closed, browsers stopped within 5 s) and
%% the result of what happened is returned with `interrupted => true'.
-module(live_load_engine).

-export([run/2]).
-export([stop/0]).

-define(DEFAULT_RAMP_MS, 3000).
-define(GRACE_MS, 30000).   %% after that much more, stragglers are killed
-define(NAME, ?MODULE).

%% @doc Runs `Scenario' with validated options; never raises.
-spec run(module(), live_load_options:run_opts()) -> {ok, map()} | {error, term()}.
run(Scenario, Opts) ->
    Caller = self(),
    Ref = make_ref(),
    {Pid, Mon} = spawn_monitor(fun() -> Caller ! {Ref, safe_run(Scenario, Opts)} end),
    receive
        {Ref, Result} ->
            demonitor(Mon, [flush]),
            Result;
        {'DOWN', Mon, process, Pid, Reason} ->
            {error, {engine_crashed, Reason}}
    end.

%% @doc Interrupts the local run in progress, if any.
-spec stop() -> ok.
stop() ->
    case whereis(?NAME) of
        undefined -> ok;
        Pid -> Pid ! {?MODULE, stop}, ok
    end.

safe_run(Scenario, Opts) ->
    process_flag(trap_exit, true),
    _ = catch register(?NAME, self()),
    try prepare(Scenario, Opts)
    catch Class:Reason:Stack -> {error, {engine_crashed, {Class, Reason, Stack}}}
    end.

prepare(Scenario, #{users := Users} = Opts) ->
    RunId = maps:get(run_id, Opts, undefined),
    case live_load_node:init(Scenario, Opts, #{browsers => {count, Users}, throttles => local,
                                               run_id => RunId}) of
        {ok, Node} ->
            try run_users(Scenario, live_load_node:start_clock(Node), Opts)
            after live_load_node:terminate(Node)
            end;
        {error, _} = E -> E
    end.

run_users(Scenario, Node, Opts) ->
    #{users := Users, scenario_duration := Duration, iteration_timeout := Timeout} = Opts,
    T0 = erlang:monotonic_time(millisecond),
    Deadline = live_load_node:deadline(Node),
    Progress = case maps:get(quiet, Opts) of
                   true -> undefined;
                   false -> live_load_progress:start(#{scenario => Scenario, target => Users, started => T0,
                                                       duration => Duration,
                                                       interval => maps:get(progress_interval, Opts)})
               end,
    {ok, Sup} = live_load_user_sup:start_link(),
    %% a user ends by itself within max(iteration_timeout, its 60 s context bound) past the deadline
    HardStop = Deadline + max(Timeout, 60000) + ?GRACE_MS,
    Interrupted = loop(#{next_id => 1, users => Users, gap => start_gap(Opts), t0 => T0,
                         deadline => Deadline, hard_stop => HardStop, sup => Sup, node => Node,
                         running => #{}}),
    EndedAt = erlang:monotonic_time(millisecond),
    unlink(Sup),
    exit(Sup, shutdown),
    Progress =/= undefined andalso live_load_progress:stop(Progress),
    live_load_run_result:build(#{scenario => Scenario, target => Users, duration_ms => EndedAt - T0,
                                 mode => maps:get(mode, Opts), engine => local,
                                 interrupted => Interrupted, options => live_load_options:recorded(maps:get(given, Opts)),
                                 thresholds => maps:get(thresholds, Opts, []),
                                 run_id => live_load_node:get(run_id, Node)}).

%% Milliseconds between two user starts.
start_gap(#{user_rate := undefined, users := Users, scenario_duration := Duration}) ->
    %% all users within 3 s, or within the first tenth of a shorter run
    min(500, min(?DEFAULT_RAMP_MS, Duration div 10) / Users);
start_gap(#{user_rate := Rate}) ->
    60000 / Rate.

%% Starts users on schedule and waits for their ends; returns whether the run was interrupted.
loop(#{next_id := Id, users := Users, running := Running}) when Id > Users, map_size(Running) =:= 0 ->
    false;
loop(#{next_id := Id, users := Users, t0 := T0, gap := Gap, deadline := Deadline} = L) ->
    Now = erlang:monotonic_time(millisecond),
    StartAt = T0 + round((Id - 1) * Gap),
    if
        Id =< Users, Now >= Deadline, Id > 1 ->
            %% the ramp did not reach these users before the end of the run
            loop(L#{next_id => Users + 1});
        Id =< Users, Now >= StartAt ->
            {ok, Pid} = live_load_user_sup:start_user(maps:get(sup, L), Id, maps:get(node, L)),
            Mon = monitor(process, Pid),
            loop(L#{next_id => Id + 1, running => (maps:get(running, L))#{Mon => Pid}});
        true ->
            Wait = case Id =< Users of
                       true -> StartAt - Now;
                       false -> max(0, maps:get(hard_stop, L) - Now)
                   end,
            receive_event(L, Wait)
    end.

receive_event(#{running := Running} = L, Wait) ->
    receive
        {'DOWN', Mon, process, _Pid, _Reason} when is_map_key(Mon, Running) ->
            loop(L#{running => maps:remove(Mon, Running)});
        {?MODULE, stop} ->
            interrupt(L);
        {'EXIT', _Other, _} ->
            loop(L)
    after Wait ->
            case erlang:monotonic_time(millisecond) >= maps:get(hard_stop, L) of
                true ->
                    [exit(P, kill) || P <- maps:values(Running)],
                    await_downs(Running, 5000),
                    false;
                false ->
                    loop(L)
            end
    end.

%% Stops every running user (each closes its context) and waits for them.
interrupt(#{running := Running, sup := Sup}) ->
    _ = [supervisor:terminate_child(Sup, P) || P <- maps:values(Running)],
    await_downs(Running, 6000),
    true.

await_downs(Running, _Ms) when map_size(Running) =:= 0 -> ok;
await_downs(Running, Ms) ->
    receive
        {'DOWN', Mon, process, _, _} when is_map_key(Mon, Running) ->
            await_downs(maps:remove(Mon, Running), Ms)
    after Ms -> ok
    end.
