%% @doc Measures what the port program costs next to the browser it drives, without the scenario
%% layer: N users on one browser loop over a static page (navigate, wait for `load', click a
%% button with trusted mouse events, read the DOM back) for a while, and the figures are printed:
%% iterations/s, CPU seconds of the port and of Chromium (its whole process group) per iteration,
%% the port's share of the browser's CPU, summed PSS, CDP messages per iteration, and how busy
%% Chromium's main (browser) process is in % of one core: the shared part of a browser, so the
%% point where it nears one core is where users must go to a second browser.
%%
%% `make bench-browser-port' runs it (`NS="1 4" DURATION=20'). The full LiveView benchmark against
%% the demo target and Playwright (`make bench-browser') builds on the context API.
-module(live_load_browser_bench).

-export([run/1]).
-export([main/0]).

-define(PAGE, <<"<!doctype html><title>b</title><button id=b onclick=\"this.dataset.n=(+this.dataset.n||0)+1\" "
                "style=\"position:absolute;left:40px;top:40px;width:120px;height:40px\">+</button>">>).

%% @doc Entry point for `erl -s': reads NS and DURATION from the environment.
-spec main() -> no_return().
main() ->
    Ns = [list_to_integer(N) || N <- string:tokens(os:getenv("NS", "1 2 4 8"), " ")],
    Duration = list_to_integer(os:getenv("DURATION", "20")),
    ok = run(#{users => Ns, duration_s => Duration}),
    erlang:halt(0).

%% @doc Runs the benchmark for every user count in `users' (list), `duration_s' seconds each.
-spec run(#{users := [pos_integer()], duration_s := pos_integer()}) -> ok.
run(#{users := Ns, duration_s := Secs}) ->
    Dir = filename:join(os:getenv("TMPDIR", "/tmp"), "live_load_browser_bench." ++ os:getpid()),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    ok = file:write_file(filename:join(Dir, "index.html"), ?PAGE),
    {ok, _} = application:ensure_all_started(inets),
    {ok, Httpd} = inets:start(httpd, [{port, 0}, {server_name, "bench"}, {server_root, Dir},
                                      {document_root, Dir}, {bind_address, {127, 0, 0, 1}},
                                      {modules, [mod_get]}]),
    [{port, Port}] = httpd:info(Httpd, [port]),
    Url = iolist_to_binary(["http://127.0.0.1:", integer_to_list(Port), "/index.html"]),
    io:format("~-5s ~9s ~10s ~12s ~13s ~9s ~9s ~11s ~12s~n",
              ["users", "iter/s", "errors", "port ms/it", "chrome ms/it", "port %", "PSS MB", "cdp msg/it",
               "main %core"]),
    try
        lists:foreach(fun(N) -> one(N, Secs, Url) end, Ns)
    after
        inets:stop(httpd, Httpd),
        _ = file:del_dir_r(Dir)
    end.

one(N, Secs, Url) ->
    {ok, B} = live_load_browser:start(#{}),
    {ok, OsPid} = live_load_browser:os_pid(B),
    Self = self(),
    %% each user loop owns its user, so the page events reach it
    Pids = [spawn_link(fun() ->
                               {ok, U} = live_load_browser:new_user(B, #{}),
                               Self ! {ready, self()},
                               receive {go, Deadline} -> Self ! {done, self(), loop(U, Url, Deadline, 0, 0)} end
                       end) || _ <- lists:seq(1, N)],
    [receive {ready, P} -> ok end || P <- Pids],
    timer:sleep(500),
    Chromium = chromium_pid(OsPid),
    {ok, #{<<"cdp_in">> := In0, <<"cdp_out">> := Out0}} = live_load_browser:stats(B),
    Cpu0 = {cpu([OsPid]), cpu(group(Chromium))},
    Main0 = cpu([Chromium]),
    Deadline = erlang:monotonic_time(millisecond) + Secs * 1000,
    _ = [P ! {go, Deadline} || P <- Pids],
    Results = [receive {done, P, R} -> R end || P <- Pids],
    Pss = pss_kb(group(Chromium)) + pss_kb([OsPid]),
    {PortCpu, ChromeCpu} = {cpu([OsPid]) - element(1, Cpu0), cpu(group(Chromium)) - element(2, Cpu0)},
    MainCpu = cpu([Chromium]) - Main0,
    {ok, #{<<"cdp_in">> := In1, <<"cdp_out">> := Out1}} = live_load_browser:stats(B),
    Iters = lists:sum([I || {I, _} <- Results]),
    Errors = lists:sum([E || {_, E} <- Results]),
    PerIt = fun(X) -> case Iters of 0 -> 0.0; _ -> X / Iters end end,
    io:format("~-5b ~9.2f ~10b ~12.2f ~13.1f ~8.2f% ~9.1f ~11.1f ~11.1f%~n",
              [N, Iters / Secs, Errors, PerIt(PortCpu * 1000), PerIt(ChromeCpu * 1000),
               100 * PortCpu / max(ChromeCpu, 0.001), Pss / 1024, PerIt(In1 - In0 + Out1 - Out0),
               100 * MainCpu / Secs]),
    live_load_browser:stop(B).

loop(U, Url, Deadline, Iters, Errors) ->
    case erlang:monotonic_time(millisecond) < Deadline of
        false -> {Iters, Errors};
        true ->
            case iteration(U, Url) of
                ok -> loop(U, Url, Deadline, Iters + 1, Errors);
                {error, _} -> loop(U, Url, Deadline, Iters, Errors + 1)
            end
    end.

iteration(U, Url) ->
    case live_load_browser:call(U, <<"Page.navigate">>, #{<<"url">> => Url}, 30000) of
        {ok, #{<<"loaderId">> := L}} ->
            ok = wait_load(U, L),
            _ = [{ok, _} = live_load_browser:call(U, <<"Input.dispatchMouseEvent">>,
                                              #{<<"type">> => T, <<"x">> => 100, <<"y">> => 60,
                                                <<"button">> => <<"left">>, <<"clickCount">> => 1}, 30000)
             || T <- [<<"mouseMoved">>, <<"mousePressed">>, <<"mouseReleased">>]],
            case live_load_browser:call(U, <<"Runtime.evaluate">>,
                                        #{<<"expression">> => <<"document.getElementById('b').dataset.n">>,
                                          <<"returnByValue">> => true}, 30000) of
                {ok, #{<<"result">> := #{<<"value">> := <<"1">>}}} -> ok;
                Other -> {error, Other}
            end;
        Other ->
            {error, Other}
    end.

wait_load(U, L) ->
    receive
        {live_load_event, U, #{<<"method">> := <<"Page.lifecycleEvent">>,
                               <<"params">> := #{<<"loaderId">> := L, <<"name">> := <<"load">>}}} -> ok;
        {live_load_event, U, _} -> wait_load(U, L)
    after 30000 -> timeout
    end.

chromium_pid(OsPid) ->
    list_to_integer(hd(string:tokens(os:cmd("pgrep -P " ++ integer_to_list(OsPid)), "\n"))).

group(Pgid) ->
    [list_to_integer(P) || P <- string:tokens(os:cmd("pgrep -g " ++ integer_to_list(Pgid)), "\n")].

%% CPU seconds (user + system) of live processes, from /proc/PID/stat (clock ticks of 1/100 s)
cpu(Pids) ->
    lists:sum([case file:read_file("/proc/" ++ integer_to_list(P) ++ "/stat") of
                   {ok, S} ->
                       [_, After] = string:split(S, ") ", trailing),
                       F = string:lexemes(After, " "),
                       (binary_to_integer(lists:nth(12, F)) + binary_to_integer(lists:nth(13, F))) / 100;
                   _ -> 0
               end || P <- Pids]).

pss_kb(Pids) ->
    lists:sum([case file:read_file("/proc/" ++ integer_to_list(P) ++ "/smaps_rollup") of
                   {ok, S} ->
                       case re:run(S, "\\nPss:\\s+(\\d+)", [{capture, all_but_first, list}]) of
                           {match, [Kb]} -> list_to_integer(Kb);
                           _ -> 0
                       end;
                   _ -> 0
               end || P <- Pids]).
