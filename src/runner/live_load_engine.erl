%% @doc The embedded (local) engine: runs one scenario on this node.
%%
%% In order: the scenario's `config/1' and `throttles/1' (throttles started), metrics reset, one
%% browser pool sized from the user count (one browser per `users_per_browser' users), `users'
%% runners started at `user_rate' users per minute (default: all within about 3 s, or
%% within the first tenth of a shorter run), the progress
%% line; then it waits for every user to finish, stops throttles and browsers and builds the result.
%% It runs in its own process, so runner exits never reach the caller of `live_load:run/1'.
-module(live_load_engine).

-export([run/2]).

-define(DEFAULT_RAMP_MS, 3000).
-define(GRACE_MS, 30000).   %% after that much more, stragglers are killed

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

safe_run(Scenario, Opts) ->
    process_flag(trap_exit, true),
    try prepare(Scenario, Opts)
    catch Class:Reason:Stack -> {error, {engine_crashed, {Class, Reason, Stack}}}
    end.

prepare(Scenario, #{config_opts := ConfigOpts} = Opts) ->
    case live_load_scenario:config(Scenario, ConfigOpts) of
        {ok, Config} ->
            case live_load_scenario:throttles(Scenario, Config) of
                {ok, Specs} ->
                    case live_load_throttle:start_all(Specs) of
                        ok ->
                            try with_browsers(Scenario, Config, Opts)
                            after live_load_throttle:stop_all([maps:get(name, S) || S <- Specs])
                            end;
                        {error, Reason} -> {error, {throttles_failed, Reason}}
                    end;
                {error, _} = E -> E
            end;
        {error, _} = E -> E
    end.

with_browsers(Scenario, Config, Opts) ->
    case start_browsers(Opts) of
        {ok, Browsers} ->
            try run_users(Scenario, Config, Browsers, Opts)
            after stop_browsers(Browsers)
            end;
        {error, Reason} -> {error, {browser_failed, Reason}}
    end.

start_browsers(#{browser := false}) ->
    {ok, []};
start_browsers(#{users := Users, users_per_browser := Per, browser_connection_opts := BOpts} = Opts) ->
    N = (Users + Per - 1) div Per,
    start_browsers(N, adapter(Opts), BOpts, []).

start_browsers(0, _Adapter, _BOpts, Acc) ->
    {ok, lists:reverse(Acc)};
start_browsers(N, Adapter, BOpts, Acc) ->
    case catch Adapter:start_link(BOpts) of
        {ok, Pid} -> start_browsers(N - 1, Adapter, BOpts, [Pid | Acc]);
        Error -> stop_browsers(Acc), {error, Error}
    end.

adapter(#{browser_connection_adapter := undefined}) -> live_load_browser;
adapter(#{browser_connection_adapter := Adapter}) -> Adapter.

stop_browsers(Browsers) ->
    lists:foreach(fun(B) ->
                          unlink(B),
                          Mon = monitor(process, B),
                          exit(B, shutdown),
                          receive {'DOWN', Mon, process, B, _} -> ok
                          after 10000 -> exit(B, kill)
                          end
                  end, Browsers).

run_users(Scenario, Config, Browsers, Opts) ->
    #{users := Users, scenario_duration := Duration, iteration_timeout := Timeout} = Opts,
    _ = catch live_load_metrics:reset(),
    Stats = live_load_run_stats:new(Users),
    StartedAt = erlang:system_time(millisecond),
    T0 = erlang:monotonic_time(millisecond),
    Deadline = T0 + Duration,
    Progress = case maps:get(quiet, Opts) of
                   true -> undefined;
                   false -> live_load_progress:start(#{scenario => Scenario, stats => Stats, started => T0,
                                                       duration => Duration,
                                                       interval => maps:get(progress_interval, Opts)})
               end,
    Base = #{parent => self(), scenario => Scenario, config => Config, deadline => Deadline,
             iteration_timeout => Timeout, stats => Stats},
    Gap = start_gap(Opts),
    Spawn = fun(Id) ->
                    Browser = case Browsers of
                                  [] -> undefined;
                                  _ -> lists:nth((Id - 1) rem length(Browsers) + 1, Browsers)
                              end,
                    CtxOpts = #{browser => Browser, connection => adapter(Opts), mode => maps:get(mode, Opts),
                                data => maps:get(data, Opts, undefined)},   %% the node's data feeder
                    {ok, Pid} = live_load_runner:start_link(Base#{user_id => Id, ctx_opts => CtxOpts}),
                    Pid
            end,
    %% a runner ends by itself within max(iteration_timeout, its 60 s context bound) past the deadline
    HardStop = Deadline + max(Timeout, 60000) + ?GRACE_MS,
    Statuses = loop(#{next_id => 1, users => Users, gap => Gap, t0 => T0, deadline => Deadline,
                      hard_stop => HardStop, spawn => Spawn, running => #{}, done => #{}}),
    EndedAt = erlang:monotonic_time(millisecond),
    Progress =/= undefined andalso live_load_progress:stop(Progress),
    S = live_load_run_stats:read(Stats),
    live_load_run_stats:delete(Stats),
    live_load_run_result:build(#{scenario => Scenario,
                                 started_at => StartedAt,
                                 duration_ms => EndedAt - T0,
                                 mode => maps:get(mode, Opts),
                                 users => #{target => Users,
                                            started => maps:get(users_started, S),
                                            failed => maps:get(users_failed, S)},
                                 iterations => #{ok => maps:get(iterations_ok, S),
                                                 failed => maps:get(iterations_failed, S),
                                                 halted => maps:get(iterations_halted, S)},
                                 statuses => Statuses,
                                 options => maps:get(given, Opts)}).

%% Milliseconds between two user starts.
start_gap(#{user_rate := undefined, users := Users, scenario_duration := Duration}) ->
    %% all users within 3 s, or within the first tenth of a shorter run
    min(500, min(?DEFAULT_RAMP_MS, Duration div 10) / Users);
start_gap(#{user_rate := Rate}) ->
    60000 / Rate.

%% Starts users on schedule and collects their ends; returns #{UserId => Status}.
loop(#{next_id := Id, users := Users, running := Running, done := Done})
  when Id > Users, map_size(Running) =:= 0 ->
    Done;
loop(#{next_id := Id, users := Users, t0 := T0, gap := Gap, deadline := Deadline} = L) ->
    Now = erlang:monotonic_time(millisecond),
    StartAt = T0 + round((Id - 1) * Gap),
    if
        Id =< Users, Now >= Deadline, Id > 1 ->
            %% the ramp did not reach these users before the end of the run
            loop(L#{next_id => Users + 1});
        Id =< Users, Now >= StartAt ->
            Pid = (maps:get(spawn, L))(Id),
            loop(L#{next_id => Id + 1, running => (maps:get(running, L))#{Pid => Id}});
        true ->
            Wait = case Id =< Users of
                       true -> StartAt - Now;
                       false -> max(0, maps:get(hard_stop, L) - Now)
                   end,
            receive_event(L, Wait)
    end.

receive_event(#{running := Running, done := Done} = L, Wait) ->
    receive
        {user_done, Pid, UserId, Status} ->
            loop(L#{running => maps:remove(Pid, Running), done => Done#{UserId => Status}});
        {'EXIT', Pid, Reason} when is_map_key(Pid, Running) ->
            %% a runner that died without reporting (it reports before a normal stop)
            Status = case Reason of normal -> ok; _ -> failed end,
            loop(L#{running => maps:remove(Pid, Running),
                    done => maps:merge(#{maps:get(Pid, Running) => Status}, Done)});
        {'EXIT', _Other, _} ->
            loop(L)
    after Wait ->
            case erlang:monotonic_time(millisecond) >= maps:get(hard_stop, L) of
                true ->
                    [exit(P, kill) || P <- maps:keys(Running)],
                    maps:merge(Done, maps:from_list([{I, failed} || I <- maps:values(Running)]));
                false ->
                    loop(L)
            end
    end.
