%% `make bench-timings': the three timings of a LiveView event side by side (guides/events.md,
%% "Three timings per event"), per mode and N, with the server's own time when the target tells it.
%%
%% Each user opens /counter, waits for LiveView, then clicks #inc (waiting for each patch) for
%% DURATION s (default 10). Per row (MODES, default "faithful fast"; NS, default "1 4"; LATENCY_MS,
%% default "0", e.g. "0 5" to inject server time through the demo target's knob) it prints: the
%% clicks, the server's handle_event -> reply p50 (GET /_demo/timing, when the target has it),
%% liveview.wire p50/p95 (the network service's frame times), wire p50 minus server p50,
%% liveview.event_received p50/p95 (the same frames as the page's renderer saw them),
%% liveview.event (push -> patch) p50/p95, liveview.input_to_patch p50/p95, the answered pushes
%% left without a wire timing (the port's wire_unmatched: tracing-window gaps) over the clicks,
%% liveview.diff_bytes per event, and the machine's 1-minute load average before and after the row
%% (a loaded machine makes every figure noisy). TRACE_WINDOW_MS sets the port's tracing window.
%%
%% The demo target runs in its own OS process (its CPU is not the client's); BASE_URL=http://host:port
%% runs against any app with the demo pages instead (the latency knob then only works when the app
%% is our demo target started by someone else: rows with LATENCY_MS > 0 are skipped).
-module(live_load_timings_bench).

-export([main/0]).

main() ->
    Modes = [Mode || M <- words("MODES", "faithful fast"), {Name, Mode} <- [{"faithful", faithful}, {"fast", fast}],
                     M =:= Name],
    Ns = [list_to_integer(N) || N <- words("NS", "1 4")],
    Lats = [list_to_integer(L) || L <- words("LATENCY_MS", "0")],
    Duration = list_to_integer(os:getenv("DURATION", "10")),
    {ok, _} = application:ensure_all_started(live_load),
    {ok, _} = application:ensure_all_started(inets),
    _ = application:ensure_all_started(ssl),
    _ = live_load_metrics_store:start(),
    {Demo, Url} = case os:getenv("BASE_URL", "") of
                      "" -> start_demo();
                      U -> {none, list_to_binary(string:trim(U, trailing, "/"))}
                  end,
    ok = configure_pool(),
    io:format("bench-timings: ~s, modes ~w, N = ~w, latency_ms ~w, ~b s per row, ~b cores~n"
              "server = the target's own handle_event -> reply (GET /_demo/timing); wire = push frame written -> "
              "reply frame read by Chromium's network service (its own frame times); received = the same frames as "
              "the page's renderer handed and read them (CDP timestamps); push->patch and input->patch measured in "
              "the page; unmatched = answered pushes without a wire timing (tracing-window gaps) / clicks~n",
              [Url, Modes, Ns, Lats, Duration, erlang:system_info(logical_processors_available)]),
    line(["mode", "N", "lat ms", "clicks", "server p50", "wire p50/p95", "wire-server p50", "received p50/p95",
          "push->patch p50/p95", "input->patch p50/p95", "unmatched", "diff B/event", "load 1m before/after"]),
    _ = [row(Mode, N, Lat, Duration, Url, Demo) || Lat <- Lats, Mode <- Modes, N <- Ns,
                                                   Lat =:= 0 orelse Demo =/= none],
    _ = [io:format("(rows with latency_ms > 0 skipped: BASE_URL is not a demo target started here)~n")
         || Demo =:= none, lists:any(fun(L) -> L > 0 end, Lats)],
    case Demo of
        none -> ok;
        P -> port_close(P)
    end,
    halt(0).

words(Var, Default) -> string:lexemes(os:getenv(Var, Default), " ").

%% ---------------------------------------------------------------- one row

row(Mode, N, Lat, Duration, Url, Demo) ->
    ok = set_latency(Demo, Lat),
    Load0 = load(),
    Unmatched0 = unmatched(),
    Self = self(),
    Users = [spawn_link(fun() -> user(Self, Mode, Url) end) || _ <- lists:seq(1, N)],
    [receive {ready, U} -> ok end || U <- Users],
    live_load_metrics:reset(),
    HasServer = reset_server(Url),
    Deadline = erlang:monotonic_time(millisecond) + Duration * 1000,
    [U ! {go, Deadline} || U <- Users],
    Clicks = lists:sum([receive {done, U, K} -> K end || U <- Users]),
    Server = case HasServer of
                 true -> server_p50(Url);
                 false -> null
             end,
    [U ! stop || U <- Users],
    [receive {closed, U} -> ok end || U <- Users], % closing reads the last tracing window out
    {W50, W95} = q(<<"liveview.wire">>),
    {R50, R95} = q(<<"liveview.event_received">>),
    {E50, E95} = q(<<"liveview.event">>),
    {I50, I95} = q(<<"liveview.input_to_patch">>),
    line([atom_to_list(Mode), integer_to_list(N), integer_to_list(Lat), integer_to_list(Clicks), fmt(Server),
          pair(W50, W95), fmt(diff(W50, Server)), pair(R50, R95), pair(E50, E95), pair(I50, I95),
          io_lib:format("~b/~b", [unmatched() - Unmatched0, Clicks]),
          fmt(mean(<<"liveview.diff_bytes">>)), [fmt(Load0), " / ", fmt(load())]]).

line(Cols) ->
    Widths = [8, 2, 6, 6, 10, 13, 15, 16, 19, 20, 9, 12, 0],
    io:format("~ts~n", [lists:join(" | ", [string:pad(C, W) || {C, W} <- lists:zip(Cols, Widths)])]).

user(Parent, Mode, Url) ->
    {ok, C0} = live_load_context:new(#{mode => Mode, timeout => 30000}),
    L = live_load_context,
    C1 = open(C0, Url),
    undefined = L:error(C1),
    Parent ! {ready, self()},
    receive {go, Deadline} -> ok end,
    {C2, K} = clicks(C1, Url, Deadline, 0),
    _ = L:inner_text(C2, <<"#count">>, #{as => count}), % records the last click's events
    Parent ! {done, self(), K},
    receive stop -> L:close(C2), Parent ! {closed, self()} end.

open(C, Url) ->
    L = live_load_context,
    L:wait_for_liveview(L:navigate(C, <<Url/binary, "/counter">>)).

%% A failed click (a browser lost on a loaded machine) is reported; the user opens /counter again.
clicks(C, Url, Deadline, K) ->
    case erlang:monotonic_time(millisecond) >= Deadline of
        true -> {C, K};
        false ->
            L = live_load_context,
            C1 = L:wait_for_phx_loading_completion(L:click(C, <<"#inc">>), click, <<"#inc">>),
            case L:error(C1) of
                undefined -> clicks(C1, Url, Deadline, K + 1);
                Err ->
                    io:format("click failed: ~ts~n", [L:format_error(Err)]),
                    timer:sleep(500), % a browser still coming back is not asked in a tight loop
                    clicks(open(L:reset(C1), Url), Url, Deadline, K)
            end
    end.

%% ---------------------------------------------------------------- the browsers

%% TRACE_WINDOW_MS, when set, is the port's tracing window (guides/browser.md).
configure_pool() ->
    case os:getenv("TRACE_WINDOW_MS", "") of
        "" -> ok;
        Ms -> live_load_browser_pool:configure(#{browser => #{trace_window_ms => list_to_integer(Ms)}})
    end.

%% Answered pushes the pool's browsers could not time on the network side, so far.
unmatched() ->
    lists:sum([case live_load_browser:stats(B) of
                   {ok, #{<<"wire_unmatched">> := U}} -> U;
                   _ -> 0
               end || B <- live_load_browser_pool:browsers()]).

%% ---------------------------------------------------------------- metrics

merged(Metric) ->
    #{sketches := Ss} = live_load_metrics:snapshot(),
    All = live_load_sketch:new(),
    _ = [begin {ok, S} = live_load_sketch:from_binary(B), ok = live_load_sketch:merge(All, S) end
         || {M, _, B} <- Ss, M =:= Metric],
    All.

q(Metric) ->
    S = merged(Metric),
    case live_load_sketch:count(S) of
        0 -> {null, null};
        _ -> {live_load_sketch:quantile(S, 0.5), live_load_sketch:quantile(S, 0.95)}
    end.

mean(Metric) ->
    S = merged(Metric),
    case live_load_sketch:count(S) of
        0 -> null;
        C -> live_load_sketch:sum(S) / C
    end.

%% ---------------------------------------------------------------- the target's own timing

reset_server(Url) ->
    case httpc:request(post, {binary_to_list(<<Url/binary, "/_demo/timing/reset">>), [], "application/json", ""},
                       [{timeout, 5000}], []) of
        {ok, {{_, 200, _}, _, _}} -> true;
        _ -> false
    end.

server_p50(Url) ->
    case httpc:request(get, {binary_to_list(<<Url/binary, "/_demo/timing">>), []}, [{timeout, 5000}],
                       [{body_format, binary}]) of
        {ok, {{_, 200, _}, _, Body}} ->
            case live_load_json:decode(Body) of
                {ok, #{<<"events">> := #{<<"inc">> := #{<<"p50_ms">> := P}}}} -> P;
                _ -> null
            end;
        _ -> null
    end.

%% ---------------------------------------------------------------- demo target (own OS process)

start_demo() ->
    Ebin = filename:dirname(code:which(live_load_demo_target)),
    P = open_port({spawn_executable, os:find_executable("erl")},
                  [{args, ["-noshell", "-noinput", "-pa", Ebin, "-eval", "live_load_demo_target:main()"]},
                   {env, [{"PORT", "0"}, {"DEMO_EXIT_ON_EOF", "true"}]}, stderr_to_stdout, binary,
                   {line, 1024}]),
    {P, wait_line(P, <<"ready at (http://\\S+)">>)}.

set_latency(none, _) -> ok;
set_latency(P, Ms) ->
    port_command(P, ["latency_ms ", integer_to_list(Ms), "\n"]),
    <<"latency_ms">> = wait_line(P, <<"^ok (latency_ms)">>),
    ok.

wait_line(P, Re) ->
    receive
        {P, {data, {eol, Line}}} ->
            case re:run(Line, Re, [{capture, [1], binary}]) of
                {match, [M]} -> M;
                nomatch -> wait_line(P, Re)
            end
    after 30000 -> erlang:error({demo_target_silent, Re})
    end.

%% ---------------------------------------------------------------- output

load() ->
    case file:read_file("/proc/loadavg") of
        {ok, B} -> binary_to_float(hd(binary:split(B, <<" ">>)));
        _ -> null
    end.

diff(A, B) when is_number(A), is_number(B) -> A - B;
diff(_, _) -> null.

pair(A, B) -> io_lib:format("~s/~s", [fmt(A), fmt(B)]).

fmt(null) -> "n/a";
fmt(X) when is_number(X) -> io_lib:format("~.2f", [float(X)]);
fmt(_) -> "n/a".
