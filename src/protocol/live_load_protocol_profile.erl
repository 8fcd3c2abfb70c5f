%% @doc `make bench-protocol-instructions': the port program's instructions per event, counted by
%% valgrind's callgrind, so that a change can be compared before/after on a loaded machine (an
%% instruction count does not depend on what else runs, a CPU time does).
%%
%% It runs the demo target in this VM (or `BASE_URL'), starts the port under
%% `valgrind --tool=callgrind', joins `USERS' users on `/counter' and lets each click `#inc'
%% (click + wait_for_phx_loading_completion) `CLICKS' times; then the same with `2 * CLICKS'. The
%% difference of the two totals divided by the extra events is the cost of one event, without the
%% start-up and the joins. `CALLGRIND_OUT' (a directory) keeps the two callgrind files for
%% `callgrind_annotate'.
-module(live_load_protocol_profile).

-export([main/0]).
-export([instructions/3]).

%% @doc Entry point (reads USERS, CLICKS, BASE_URL, CALLGRIND_OUT); prints one line and halts.
-spec main() -> no_return().
main() ->
    Users = list_to_integer(env("USERS", "20")),
    Clicks = list_to_integer(env("CLICKS", "20")),
    Base = case env("BASE_URL", "") of
               "" ->
                   {ok, #{url := U}} = live_load_demo_target:start(#{port => 0}),
                   U;
               B -> list_to_binary(B)
           end,
    Dir = env("CALLGRIND_OUT", filename:join(os:getenv("TMPDIR", "/tmp"), "live_load_callgrind")),
    ok = filelib:ensure_path(Dir),
    case instructions(Base, #{users => Users, clicks => Clicks}, Dir) of
        {ok, #{per_event := PerEvent, join := Join, low := Low, high := High}} ->
            io:format("bench-protocol-instructions: ~b users x ~b vs ~b clicks on /counter: "
                      "~b instructions per event (port program, callgrind), ~b per join; "
                      "totals ~b / ~b; files in ~s~n",
                      [Users, Clicks, 2 * Clicks, round(PerEvent), round(Join), Low, High, Dir]),
            halt(0);
        {error, Why} ->
            io:format(standard_error, "bench-protocol-instructions failed: ~p~n", [Why]),
            halt(1)
    end.

%% @doc Instructions per event and per join of the port program (two callgrind runs).
-spec instructions(binary(), #{users := pos_integer(), clicks := pos_integer()}, file:filename()) ->
          {ok, #{per_event := float(), join := float(), low := integer(), high := integer()}}
          | {error, term()}.
instructions(Base, #{users := Users, clicks := Clicks}, Dir) ->
    case {os:find_executable("valgrind"), run(Base, Users, 0, Dir, "joins")} of
        {false, _} -> {error, valgrind_not_found};
        {_, {ok, Joins}} ->
            case {run(Base, Users, Clicks, Dir, "low"), run(Base, Users, 2 * Clicks, Dir, "high")} of
                {{ok, Low}, {ok, High}} ->
                    {ok, #{per_event => (High - Low) / (Users * Clicks), join => Joins / Users,
                           low => Low, high => High}};
                {E, {ok, _}} -> E;
                {_, E} -> E
            end;
        {_, E} -> E
    end.

run(Base, Users, Clicks, Dir, Name) ->
    Out = filename:join(Dir, "callgrind." ++ Name),
    Wrapper = filename:join(Dir, "port-" ++ Name ++ ".sh"),
    ok = file:write_file(Wrapper, ["#!/bin/sh\nexec valgrind -q --tool=callgrind --callgrind-out-file=", Out,
                                   " ", program(), " \"$@\"\n"]),
    ok = file:change_mode(Wrapper, 8#755),
    _ = file:delete(Out),
    {ok, Conn} = live_load_protocol:start_link(#{port_program => Wrapper, max_users => Users}),
    unlink(Conn),
    Self = self(),
    Pids = [spawn_link(fun() -> Self ! {done, self(), user(Conn, Base, Clicks)} end) || _ <- lists:seq(1, Users)],
    Results = [receive {done, P, R} -> R end || P <- Pids],
    ok = live_load_protocol_port:stop(Conn),
    case [R || R <- Results, R =/= ok] of
        [] -> total(Out, 50);
        [Bad | _] -> {error, {user_failed, Bad}}
    end.

user(Conn, Base, Clicks) ->
    D = fun() -> erlang:monotonic_time(millisecond) + 120000 end,
    {ok, U} = live_load_protocol:new_user(Conn, #{base_url => Base}),
    ok = live_load_protocol:action(U, {navigate, <<"/counter">>}, D()),
    ok = live_load_protocol:action(U, wait_for_liveview, D()),
    click(U, Clicks, D).

click(_U, 0, _D) -> ok;
click(U, N, D) ->
    case {live_load_protocol:action(U, {click, <<"#inc">>}, D()),
          live_load_protocol:action(U, {wait_for_loading, click, <<"#inc">>}, D())} of
        {ok, ok} -> click(U, N - 1, D);
        Other -> Other
    end.

%% callgrind writes its file when the program exits (after the port closed): wait for it
total(File, 0) -> {error, {no_callgrind_output, File}};
total(File, N) ->
    case file:read_file(File) of
        {ok, B} ->
            case re:run(B, <<"^(?:summary|totals): (\\d+)">>, [multiline, {capture, all_but_first, binary}]) of
                {match, [T]} -> {ok, binary_to_integer(T)};
                nomatch -> timer:sleep(200), total(File, N - 1)
            end;
        _ -> timer:sleep(200), total(File, N - 1)
    end.

program() ->
    case os:getenv("LIVE_LOAD_PROTOCOL_PROGRAM") of
        P when is_list(P), P =/= "" -> P;
        _ -> filename:join(code:priv_dir(live_load), "live_load_protocol")
    end.

env(K, D) ->
    case os:getenv(K) of
        false -> D;
        "" -> D;
        V -> V
    end.
