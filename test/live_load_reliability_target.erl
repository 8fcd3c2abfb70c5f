%% The demo target in its own OS process, for the reliability suites: `erl -noinput' running
%% `live_load_demo_target:main()' with `DEMO_EXIT_ON_EOF=true', so it dies with the test (its
%% stdin is this port), can be killed (`kill -9') and restarted on the same TCP port, and takes
%% its knobs as stdin lines (`set/3').
-module(live_load_reliability_target).

-export([start/1, start/2, stop/1, kill/1, set/3, url/1, os_pid/1]).

-define(READY_MS, 60000).

%% @doc Starts a target on `Port' (0: a free one).
start(Port) -> start(Port, []).

%% @doc Starts a target with extra environment `Env' ([{"DEMO_FAULT", "hang"}]).
start(Port, Env) ->
    Erl = os:find_executable("erl"),
    Ebin = filename:dirname(code:which(live_load_demo_target)),
    P = open_port({spawn_executable, Erl},
                  [{args, ["-noshell", "-noinput", "+Bd", "-pa", Ebin, "-eval", "live_load_demo_target:main()"]},
                   {env, [{"PORT", integer_to_list(Port)}, {"DEMO_EXIT_ON_EOF", "true"} | Env]},
                   {line, 4096}, exit_status, use_stdio, stderr_to_stdout, binary]),
    case wait_ready(P, erlang:monotonic_time(millisecond) + ?READY_MS) of
        {ok, Url} -> {ok, #{port => P, url => Url, os_pid => element(2, erlang:port_info(P, os_pid))}};
        {error, _} = E -> catch port_close(P), E
    end.

wait_ready(P, Deadline) ->
    receive
        {P, {data, {eol, <<"live_load demo target ready at ", Rest/binary>>}}} ->
            [Url | _] = binary:split(Rest, <<" ">>),
            {ok, Url};
        {P, {data, _}} -> wait_ready(P, Deadline);
        {P, {exit_status, S}} -> {error, {target_exited, S}}
    after max(0, Deadline - erlang:monotonic_time(millisecond)) ->
            {error, target_not_ready}
    end.

url(#{url := U}) -> U.
os_pid(#{os_pid := Pid}) -> Pid.

%% @doc Sets a knob of the running target (`fault', `latency_ms', `fail_percent', ...).
set(#{port := P}, Key, Value) ->
    V = if is_atom(Value) -> atom_to_list(Value);
           is_integer(Value) -> integer_to_list(Value);
           true -> Value
        end,
    port_command(P, [atom_to_list(Key), " ", V, "\n"]),
    K = atom_to_binary(Key),
    receive
        {P, {data, {eol, <<"ok ", K/binary>>}}} -> ok;
        {P, {data, {eol, <<"error ", K/binary>>}}} -> {error, {invalid_option, Key, Value}}
    after 10000 -> {error, no_answer}
    end.

%% @doc Stops it the friendly way: its stdin closes, it halts.
stop(#{port := P} = T) ->
    catch port_close(P),
    wait_gone(T).

%% @doc Kills it (`kill -9'): the target is down at once, connections reset.
kill(#{port := P, os_pid := Pid} = T) ->
    _ = os:cmd("kill -9 " ++ integer_to_list(Pid)),
    receive {P, {exit_status, _}} -> ok after 10000 -> ok end,
    catch port_close(P),
    wait_gone(T).

wait_gone(#{os_pid := Pid}) ->
    wait_gone(Pid, 100).
wait_gone(_Pid, 0) -> {error, still_running};
wait_gone(Pid, N) ->
    case filelib:is_dir("/proc/" ++ integer_to_list(Pid)) andalso
         not zombie(Pid) of
        true -> timer:sleep(100), wait_gone(Pid, N - 1);
        false -> ok
    end.

zombie(Pid) ->
    case file:read_file("/proc/" ++ integer_to_list(Pid) ++ "/stat") of
        {ok, B} -> binary:match(B, <<") Z ">>) =/= nomatch;
        _ -> true
    end.
