%% @doc `make bench-protocol': protocol users against a LiveView app with the demo pages (the demo
%% target in its own OS process by default, `BASE_URL' for any other), ramped over `STEPS'
%% (default 500 1000 2000 5000 7500 10000), each user clicking `#inc' on `/counter' once per second
%% (closed loop: 1 s think time after each reply), `DURATION' seconds measured per step after a
%% 3 s warm-up, then `IDLE' users with a 10 min think time for memory.
%%
%% Per step it prints: users connected, events/s (and % of the target users/s), round trip p50 /
%% p99 as the port measured it (push sent -> reply applied), the wire p50 (push frame written ->
%% reply frame received), the same as the Erlang caller saw it (click +
%% wait_for_phx_loading_completion), client CPU µs per event (port program; and port + client
%% BEAM), client KB per user (port RSS above an idle port), server CPU (% of one core) and the
%% machine's load average. CPU and memory come from /proc. Each step runs on a fresh port.
%%
%% Then the same journey with `BROWSER_USERS' (default 4; 0 skips it) browser users through
%% `live_load:run/1' (this module is the scenario: open /counter once, then click #inc and wait
%% for the reply, 1 s think time): events/s, liveview.event p50/p99, client CPU µs per event
%% (the Chromium processes + the browser port, and with the BEAM) and client KB per user.
%%
%% Server-side truth: when the target answers `GET /_demo/timing' (the demo target's own time per
%% event push: push decoded -> reply handed back), a low-load probe (`TRUTH_USERS', default 20
%% users clicking once per second for 5 s) prints the port's event p50 and wire p50 next to the
%% server's p50; the goal is the event p50 within 0.5 ms of the server's. A target without that
%% endpoint (BASE_URL elsewhere) prints n/a.
-module(live_load_protocol_bench).
-behaviour(live_load_scenario).

-export([main/0]).
-export([config/1]).
-export([run/3]).

-define(THINK_MS, 1000).
-define(WARMUP_MS, 3000).
-define(JOIN_LANES, 100).

%% @doc Entry point of `bench/protocol/run.sh' (reads STEPS, DURATION, IDLE, BASE_URL, SERVER_PID).
-spec main() -> no_return().
main() ->
    Steps = [list_to_integer(S) || S <- string:lexemes(env("STEPS", "500 1000 2000 5000 7500 10000"), " ,")],
    Duration = list_to_integer(env("DURATION", "30")) * 1000,
    Idle = list_to_integer(env("IDLE", "10000")),
    Base = list_to_binary(env("BASE_URL", "http://127.0.0.1:4000")),
    ServerPid = case env("SERVER_PID", "") of "" -> undefined; P -> list_to_integer(P) end,
    io:format("bench-protocol: ~s, steps ~w, ~b s per step, ~b idle users, server pid ~p, load ~s~n",
              [Base, Steps, Duration div 1000, Idle, ServerPid, loadavg()]),
    header(),
    Rows = [step(Base, N, ?THINK_MS, Duration, ServerPid) || N <- Steps],
    IdleRow = case Idle of
                  0 -> [];
                  _ -> [step(Base, Idle, 600000, min(Duration, 10000), ServerPid)]
              end,
    _ = Rows ++ IdleRow,
    truth(Base, list_to_integer(env("TRUTH_USERS", "20"))),
    browser(Base, list_to_integer(env("BROWSER_USERS", "4")), Duration),
    halt(0).

env(K, D) ->
    case os:getenv(K) of
        false -> D;
        "" -> D;
        V -> V
    end.

header() ->
    io:format("~n| users | think ms | connected | failed | events/s (% of target) | rtt p50 / p99 ms (port) "
              "| wire p50 ms | rtt p50 / p99 ms (caller) | port CPU us/event | port+BEAM CPU us/event | port KB/user "
              "| server CPU % of 1 core | load avg |~n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|~n").

step(Base, N, Think, Duration, ServerPid) ->
    step(Base, N, Think, Duration, ServerPid, print).

step(Base, N, Think, Duration, ServerPid, Print) ->
    {ok, Conn} = live_load_protocol:start_link(#{max_users => max(N, 1)}),
    unlink(Conn),
    {ok, PortPid} = live_load_protocol:os_pid(Conn),
    timer:sleep(200),
    Rss0 = rss_kb(PortPid),
    Self = self(),
    Sem = spawn_link(fun() -> lanes(?JOIN_LANES) end),
    Users = [spawn(fun() -> user(Conn, Base, Think, Self, Sem) end) || _ <- lists:seq(1, N)],
    {Ok, Failed} = collect_joins(N, 0, 0, erlang:monotonic_time(millisecond) + 120000),
    timer:sleep(?WARMUP_MS),
    _ = [U ! {window, self()} || U <- Users],
    P0 = cpu_ticks(PortPid),
    B0 = cpu_ticks(os:getpid()),
    S0 = case ServerPid of undefined -> 0; _ -> cpu_ticks(ServerPid) end,
    T0 = erlang:monotonic_time(microsecond),
    timer:sleep(Duration),
    _ = [U ! {window_end, self()} || U <- Users],
    T1 = erlang:monotonic_time(microsecond),
    P1 = cpu_ticks(PortPid),
    B1 = cpu_ticks(os:getpid()),
    S1 = case ServerPid of undefined -> 0; _ -> cpu_ticks(ServerPid) end,
    Rss1 = rss_kb(PortPid),
    StatsBy = erlang:monotonic_time(millisecond) + 15000,
    Stats = [receive {stats, U, St} -> St
             after max(0, StatsBy - erlang:monotonic_time(millisecond)) -> {0, [], [], []}
             end || U <- Users],
    [exit(U, kill) || U <- Users],
    unlink(Sem),
    exit(Sem, kill),
    catch live_load_protocol_port:stop(Conn),
    Events = lists:sum([E || {E, _, _, _} <- Stats]),
    PortRtt = lists:sort(lists:append([R || {_, R, _, _} <- Stats])),
    CallerRtt = lists:sort(lists:append([R || {_, _, R, _} <- Stats])),
    Wire = lists:sort(lists:append([W || {_, _, _, W} <- Stats])),
    Secs = (T1 - T0) / 1.0e6,
    Tick = 100,
    PortUs = (P1 - P0) / Tick * 1.0e6,
    BeamUs = (B1 - B0) / Tick * 1.0e6,
    Row = #{users => N, think => Think, connected => Ok, failed => Failed,
            events_per_s => Events / Secs, target => N * 1000 / Think,
            port_p50 => pct(PortRtt, 50), port_p99 => pct(PortRtt, 99), wire_p50 => pct(Wire, 50),
            caller_p50 => pct(CallerRtt, 50), caller_p99 => pct(CallerRtt, 99),
            port_us_per_event => per(PortUs, Events), client_us_per_event => per(PortUs + BeamUs, Events),
            kb_per_user => (Rss1 - Rss0) / max(1, Ok),
            server_cpu => case ServerPid of undefined -> null; _ -> (S1 - S0) / Tick / Secs * 100 end,
            load => loadavg()},
    _ = Print =:= print andalso row(Row),
    Row.

per(_, 0) -> null;
per(Us, Events) -> Us / Events.

row(#{users := N, think := Th, connected := Ok, failed := F, events_per_s := Eps, target := Tgt,
      port_p50 := P50, port_p99 := P99, wire_p50 := W50, caller_p50 := C50, caller_p99 := C99,
      port_us_per_event := PU, client_us_per_event := CU, kb_per_user := Kb, server_cpu := Srv, load := L}) ->
    io:format("| ~b | ~b | ~b | ~b | ~s (~s%) | ~s / ~s | ~s | ~s / ~s | ~s | ~s | ~s | ~s | ~s |~n",
              [N, Th, Ok, F, f(Eps), f(100 * Eps / max(Tgt, 0.001)), f(P50), f(P99), f(W50), f(C50), f(C99), f(PU),
               f(CU), f(Kb), f(Srv), L]).

f(null) -> "n/a";
f(undefined) -> "n/a";
f(X) when is_integer(X) -> integer_to_list(X);
f(X) when X >= 100 -> integer_to_list(round(X));
f(X) when X >= 10 -> float_to_list(float(X), [{decimals, 1}]);
f(X) -> float_to_list(float(X), [{decimals, 2}]).

pct([], _) -> null;
pct(L, P) -> lists:nth(max(1, min(length(L), round(length(L) * P / 100))), L).

%% join lanes: at most K users between GET and join reply at once
lanes(K) ->
    receive
        {take, Pid} when K > 0 -> Pid ! lane, lanes(K - 1);
        give -> lanes(K + 1)
    end.

collect_joins(0, Ok, F, _) -> {Ok, F};
collect_joins(N, Ok, F, Deadline) ->
    Left = max(0, Deadline - erlang:monotonic_time(millisecond)),
    receive
        {joined, ok} -> collect_joins(N - 1, Ok + 1, F, Deadline);
        {joined, _} -> collect_joins(N - 1, Ok, F + 1, Deadline)
    after Left -> {Ok, F + N}
    end.

user(Conn, Base, Think, Parent, Sem) ->
    D = fun() -> erlang:monotonic_time(millisecond) + 60000 end,
    Sem ! {take, self()},
    receive lane -> ok end,
    R = case live_load_protocol:new_user(Conn, #{base_url => Base}) of
            {ok, U} ->
                case live_load_protocol:action(U, {navigate, <<"/counter">>}, D()) of
                    ok -> case live_load_protocol:action(U, wait_for_liveview, D()) of
                              ok -> {ok, U};
                              E -> E
                          end;
                    E -> E
                end;
            E -> E
        end,
    Sem ! give,
    case R of
        {ok, User} ->
            Parent ! {joined, ok},
            timer:sleep(rand:uniform(Think)),
            loop(User, Think, false, 0, [], []);
        Err ->
            Parent ! {joined, Err},
            receive {window_end, P} -> P ! {stats, self(), {0, [], [], []}} end
    end.

loop(U, Think, In, Events, PortRtt, CallerRtt) ->
    loop(U, Think, In, Events, PortRtt, CallerRtt, []).

loop(U, Think, In, Events, PortRtt, CallerRtt, Wire) ->
    T0 = erlang:monotonic_time(microsecond),
    ok = live_load_protocol:action(U, {click, <<"#inc">>}, erlang:monotonic_time(millisecond) + 30000),
    R = live_load_protocol:action(U, {wait_for_loading, click, <<"#inc">>}, erlang:monotonic_time(millisecond) + 30000),
    Caller = (erlang:monotonic_time(microsecond) - T0) / 1000,
    {{Port, PortWire}, In2, Stop} = drain(In, {[], []}),
    {E2, P2, C2, W2} = case {In, R} of
                           {true, ok} -> {Events + 1, Port ++ PortRtt, [Caller | CallerRtt], PortWire ++ Wire};
                           _ -> {Events, PortRtt, CallerRtt, Wire}
                       end,
    case Stop of
        {stop, Pid} -> Pid ! {stats, self(), {E2, P2, C2, W2}}, receive after infinity -> ok end;
        none ->
            {_, In3, Stop2} = sleep_drain(Think, In2),
            case Stop2 of
                {stop, Pid2} -> Pid2 ! {stats, self(), {E2, P2, C2, W2}}, receive after infinity -> ok end;
                none -> loop(U, Think, In3, E2, P2, C2, W2)
            end
    end.

%% the port's own measurements: the observer event of kind `event' and the `wire' event
drain(In, {Acc, Wire} = Both) ->
    receive
        {live_load_event, _, #{<<"type">> := <<"observer">>, <<"events">> := [#{<<"kind">> := <<"event">>, <<"ms">> := Ms}]}} ->
            drain(In, {[Ms || In] ++ Acc, Wire});
        {live_load_event, _, #{<<"type">> := <<"liveview">>, <<"kind">> := <<"wire">>, <<"ms">> := Ms}} ->
            drain(In, {Acc, [Ms || In] ++ Wire});
        {live_load_event, _, _} -> drain(In, Both);
        {window, _} -> drain(true, Both);
        {window_end, P} -> {Both, false, {stop, P}}
    after 0 -> {Both, In, none}
    end.

sleep_drain(Ms, In) ->
    receive
        {live_load_event, _, _} -> sleep_drain(Ms, In);
        {window, _} -> sleep_drain(Ms, true);
        {window_end, P} -> {[], false, {stop, P}}
    after Ms -> {[], In, none}
    end.

%% ---------------------------------------------------------------- server-side truth

%% A few users at low load, the target's own per-event time next to the port's.
truth(_Base, 0) -> ok;
truth(Base, N) ->
    case http(post, Base, "/_demo/timing/reset") of
        {ok, _} ->
            Row = step(Base, N, ?THINK_MS, 5000, undefined, quiet),
            case http(get, Base, "/_demo/timing") of
                {ok, Body} ->
                    {ok, #{<<"events">> := Events}} = live_load_json:decode(Body),
                    Server = maps:get(<<"p50_ms">>, maps:get(<<"inc">>, Events, #{}), null),
                    #{port_p50 := Port, wire_p50 := Wire} = Row,
                    io:format("~nserver-side truth (~b users, 1 click/s, event inc): port event p50 ~s ms, wire p50 ~s ms, "
                              "server p50 ~s ms (push decoded -> reply handed back); event - server = ~s ms "
                              "(goal <= 0.5); load ~s~n",
                              [N, f(Port), f(Wire), f(Server), f(minus(Port, Server)), loadavg()]);
                Err ->
                    io:format("~nserver-side truth: n/a (GET /_demo/timing: ~p)~n", [Err])
            end;
        Err ->
            io:format("~nserver-side truth: n/a (the target has no /_demo/timing: ~p)~n", [Err])
    end.

minus(A, B) when is_number(A), is_number(B) -> A - B;
minus(_, _) -> null.

http(Method, Base, Path) ->
    _ = application:ensure_all_started(inets),
    Url = binary_to_list(Base) ++ Path,
    Req = case Method of
              get -> {Url, []};
              post -> {Url, [], "application/json", <<>>}
          end,
    case httpc:request(Method, Req, [{timeout, 10000}], [{body_format, binary}]) of
        {ok, {{_, 200, _}, _, Body}} -> {ok, Body};
        {ok, {{_, Status, _}, _, _}} -> {error, {http, Status}};
        {error, _} = E -> E
    end.

%% ---------------------------------------------------------------- browser mode, same journey

browser(_Base, 0, _Duration) -> ok;
browser(Base, N, Duration) ->
    {ok, _} = application:ensure_all_started(live_load),
    Self = list_to_integer(os:getpid()),
    Sampler = spawn_link(fun() ->
                                 Base0 = maps:from_list([{P, cpu_ticks(P)} || P <- descendants(Self)]),
                                 sampler(Self, Base0, Base0, 0)
                         end),
    B0 = cpu_ticks(Self),
    Result = live_load:run(#{scenario => ?MODULE, users => N, connection => browser, base_url => Base,
                             scenario_duration => Duration + ?WARMUP_MS, quiet => true}),
    B1 = cpu_ticks(Self),
    Sampler ! {done, self()},
    {Ticks, MaxPss} = receive {sampled, T, M} -> {T, M} after 5000 -> {0, 0} end,
    case Result of
        #{?MODULE := #{<<"metrics">> := #{<<"liveview.event">> := #{<<"count">> := Count} = Ev},
                       <<"run">> := #{<<"duration_ms">> := RunMs}}} ->
            Q = maps:get(<<"quantiles">>, Ev, []),
            Secs = RunMs / 1000,
            ChromeUs = Ticks / 100 * 1.0e6,
            BeamUs = (B1 - B0) / 100 * 1.0e6,
            io:format("~nbrowser mode, the same journey (live_load:run, connection browser, ~b users, 1 click/s, "
                      "~.1f s):~n"
                      "| users | events/s (% of target) | liveview.event p50 / p99 ms | Chromium+port CPU us/event "
                      "| +BEAM CPU us/event | Chromium+port KB/user (PSS) | load avg |~n|---|---|---|---|---|---|---|~n"
                      "| ~b | ~s (~s%) | ~s / ~s | ~s | ~s | ~s | ~s |~n",
                      [N, Secs, N, f(Count / Secs), f(100 * Count / Secs / N), f(nth(51, Q)), f(nth(100, Q)),
                       f(per(ChromeUs, Count)), f(per(ChromeUs + BeamUs, Count)), f(MaxPss / N), loadavg()]);
        Other ->
            io:format("~nbrowser mode: no result (~P)~n", [Other, 12])
    end.

nth(I, L) when length(L) >= I -> lists:nth(I, L);
nth(_, _) -> null.

%% @private The scenario of the browser row: the page once per user, then one click per
%% iteration and a 1 s think time.
-spec config(map()) -> map().
config(Opts) -> maps:merge(#{base_url => <<"http://127.0.0.1:4000">>}, Opts).

%% @private
-spec run(live_load_context:t(), pos_integer(), map()) -> live_load_context:t().
run(Ctx0, _UserId, #{base_url := Base}) ->
    Ctx = case live_load_context:assigns(Ctx0) of
              #{open := true} -> Ctx0;
              _ ->
                  C1 = live_load_context:navigate(Ctx0, iolist_to_binary([Base, "/counter"])),
                  live_load_context:assign(live_load_context:wait_for_liveview(C1), open, true)
          end,
    C2 = live_load_context:wait_for_phx_loading_completion(live_load_context:click(Ctx, <<"#inc">>), click, <<"#inc">>),
    timer:sleep(?THINK_MS),
    C2.

%% Every second: the CPU ticks of each process below Root (the browser port and Chromium: all of a
%% process started during the run, up to the last value seen before it exits) and their summed
%% PSS (shared pages counted once).
sampler(Root, Base, Last, MaxPss) ->
    Kids = descendants(Root),
    Last2 = maps:merge(Last, maps:from_list([{P, cpu_ticks(P)} || P <- Kids])),
    Pss = lists:sum([pss_kb(P) || P <- Kids]),
    receive {done, From} ->
            From ! {sampled, lists:sum(maps:values(Last2)) - lists:sum(maps:values(Base)), max(MaxPss, Pss)}
    after 1000 -> sampler(Root, Base, Last2, max(MaxPss, Pss))
    end.

pss_kb(Pid) ->
    case file:read_file("/proc/" ++ integer_to_list(Pid) ++ "/smaps_rollup") of
        {ok, B} ->
            case re:run(B, <<"Pss:\\s+(\\d+)">>, [{capture, all_but_first, list}]) of
                {match, [K]} -> list_to_integer(K);
                _ -> 0
            end;
        _ -> 0
    end.

descendants(Root) ->
    Parents = [{P, ppid(P)} || P <- pids()],
    grow([Root], Parents, []).

grow([], _Parents, Acc) -> Acc;
grow([P | T], Parents, Acc) ->
    Kids = [C || {C, PP} <- Parents, PP =:= P],
    grow(Kids ++ T, Parents, Kids ++ Acc).

pids() ->
    {ok, Names} = file:list_dir("/proc"),
    [list_to_integer(N) || N <- Names, lists:all(fun(C) -> C >= $0 andalso C =< $9 end, N)].

ppid(P) ->
    case file:read_file("/proc/" ++ integer_to_list(P) ++ "/stat") of
        {ok, B} ->
            case binary:split(B, <<") ">>) of
                [_, Rest] -> list_to_integer(lists:nth(2, string:lexemes(binary_to_list(Rest), " ")));
                _ -> 0
            end;
        _ -> 0
    end.

cpu_ticks(Pid) ->
    case file:read_file("/proc/" ++ to_list(Pid) ++ "/stat") of
        {ok, B} ->
            [_, Rest] = binary:split(B, <<") ">>),
            F = string:lexemes(binary_to_list(Rest), " "),
            list_to_integer(lists:nth(12, F)) + list_to_integer(lists:nth(13, F));
        _ -> 0
    end.

rss_kb(Pid) ->
    case file:read_file("/proc/" ++ to_list(Pid) ++ "/status") of
        {ok, B} ->
            case re:run(B, <<"VmRSS:\\s+(\\d+)">>, [{capture, all_but_first, list}]) of
                {match, [K]} -> list_to_integer(K);
                _ -> 0
            end;
        _ -> 0
    end.

to_list(P) when is_integer(P) -> integer_to_list(P);
to_list(P) -> P.

loadavg() ->
    case file:read_file("/proc/loadavg") of
        {ok, B} -> lists:join(" ", lists:sublist(string:lexemes(binary_to_list(B), " "), 3));
        _ -> "n/a"
    end.
