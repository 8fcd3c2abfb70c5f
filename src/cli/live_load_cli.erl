%% @doc The command line behind `bin/live_load'. `live_load --help' prints the usage below.
-module(live_load_cli).

-export([main/0]).
-export([main/1]).
-export([parse/1]).
-export([run_modules/2]).
-export([usage/0]).

-define(DEFAULT_BASE_URL, <<"http://127.0.0.1:4000">>).

%% @doc Entry from `bin/live_load' (`erl ... -s live_load_cli main -extra ARGS'); halts the VM.
-spec main() -> no_return().
main() ->
    main(init:get_plain_arguments()).

%% @doc Runs the command line `Args' and halts with its exit status.
-spec main([string()]) -> no_return().
main(Args) ->
    Status = try command(Args)
             catch Class:Reason:Stack ->
                     err("live_load: internal error ~p:~p~n~p~n", [Class, Reason, Stack]),
                     3
             end,
    %% let standard_error/standard_io drain before halting
    erlang:halt(Status, [{flush, true}]).

command(Args) ->
    case parse(Args) of
        help ->
            io:put_chars(usage()),
            0;
        {error, Reason} ->
            err("live_load: ~ts~nTry 'live_load --help'.~n", [format_error(Reason, lists:member("--verbose", Args))]),
            2;
        {ok, Cmd} ->
            run(Cmd)
    end.

%% @doc Parses the arguments: `help', `{ok, Command}' or `{error, Reason}'.
-spec parse([string()]) -> help | {ok, map()} | {error, term()}.
parse([]) -> help;
parse(Args) ->
    case lists:any(fun(A) -> A =:= "--help" orelse A =:= "-h" end, Args) of
        true -> help;
        false ->
            case Args of
                ["run" | Rest] -> parse_run(Rest, #{targets => [], set => [], opts => #{}});
                ["compare" | Rest] -> live_load_cli_ci:parse_compare(Rest);
                ["report" | Rest] -> live_load_cli_ci:parse_report(Rest);
                %% `live_load --html OUT.html DIR|FILE...': the report of saved runs (trend)
                ["--html" | _] -> live_load_cli_ci:parse_report(Args);
                ["help" | _] -> help;
                [Other | _] -> {error, {unknown_command, Other}}
            end
    end.

parse_run([], #{targets := []}) ->
    {error, missing_scenario};
parse_run([], Cmd = #{targets := T, set := S}) ->
    {ok, Cmd#{targets := lists:reverse(T), set := lists:reverse(S)}};
parse_run(["--save" | Rest], Cmd) ->
    %% `--save' alone saves into live_load_runs/; `--save=DIR' elsewhere
    parse_run(Rest, live_load_cli_ci:bare_save(Rest, Cmd));
parse_run(["--" ++ FlagValue | Rest], Cmd) when FlagValue =/= "" ->
    case string:split(FlagValue, "=") of
        [Flag, Value] when Flag =/= "" ->
            case flag(Flag, Value, Cmd) of
                {ok, Cmd1} -> parse_run(Rest, Cmd1);
                {error, _} = E -> E
            end;
        _ -> parse_flag(["--" ++ FlagValue | Rest], Cmd)
    end;
parse_run(Args, Cmd) ->
    parse_flag(Args, Cmd).

parse_flag(["--" ++ Flag, Value | Rest], Cmd) when Flag =/= "quiet", Flag =/= "verbose",
                                                  Flag =/= "distributed", Flag =/= "calibrate" ->
    case flag(Flag, Value, Cmd) of
        {ok, Cmd1} -> parse_run(Rest, Cmd1);
        {error, _} = E -> E
    end;
parse_flag(["--quiet" | Rest], #{opts := O} = Cmd) ->
    parse_run(Rest, Cmd#{opts := O#{quiet => true}});
parse_flag(["--distributed" | Rest], #{opts := O} = Cmd) ->
    parse_run(Rest, Cmd#{opts := O#{distributed => true}});
parse_flag(["--calibrate" | Rest], Cmd) ->
    {ok, Cmd1} = cluster(calibrate, "--calibrate", {ok, true}, Cmd),
    parse_run(Rest, Cmd1);
parse_flag(["--verbose" | Rest], Cmd) ->
    parse_run(Rest, Cmd#{verbose => true});
parse_flag(["--" ++ Flag], _Cmd) ->
    {error, {missing_value, "--" ++ Flag}};
parse_flag([Target | Rest], #{targets := T} = Cmd) ->
    parse_run(Rest, Cmd#{targets := [Target | T]}).

flag("users", V, Cmd) -> opt(users, "--users", int(V), Cmd);
flag("connection", "browser", Cmd) -> opt(connection, "--connection", {ok, browser}, Cmd);
flag("connection", "protocol", Cmd) -> opt(connection, "--connection", {ok, protocol}, Cmd);
flag("connection", V, _Cmd) -> {error, {invalid_option, "--connection", V}};
flag("browser-users", V, Cmd) -> kind_users(browser, "--browser-users", V, Cmd);
flag("protocol-users", V, Cmd) -> kind_users(protocol, "--protocol-users", V, Cmd);
flag("user-rate", V, Cmd) -> opt(user_rate, "--user-rate", int(V), Cmd);
flag("users-per-browser", V, Cmd) -> opt(users_per_browser, "--users-per-browser", int(V), Cmd);
flag("duration", V, Cmd) -> opt(scenario_duration, "--duration", duration(V), Cmd);
flag("iteration-timeout", V, Cmd) -> opt(iteration_timeout, "--iteration-timeout", duration(V), Cmd);
flag("mode", "fast", Cmd) -> opt(mode, "--mode", {ok, fast}, Cmd);
flag("mode", "faithful", Cmd) -> opt(mode, "--mode", {ok, faithful}, Cmd);
flag("mode", V, _Cmd) -> {error, {invalid_option, "--mode", V}};
flag("chromium", V, #{opts := O} = Cmd) ->
    {ok, Cmd#{opts := O#{browser_connection_opts => #{executable => V}}}};
flag("base-url", V, Cmd) ->
    case live_load_option_names:absolute_http_url(V) of
        true -> {ok, Cmd#{base_url => unicode:characters_to_binary(V)}};
        false -> {error, {invalid_option, "--base-url", V}}
    end;
flag("json", V, Cmd) -> {ok, Cmd#{json => V}};
flag("md", V, Cmd) -> {ok, Cmd#{md => V}};
flag("html", V, Cmd) -> {ok, Cmd#{html => V}};
%% cluster flags (guides/distributed.md): options under `cluster'
flag("nodes", V, Cmd) -> cluster(nodes, "--nodes", int(V), Cmd);
flag("provider", "peer", Cmd) -> cluster(provider, "--provider", {ok, peer}, Cmd);
flag("provider", "ssh", Cmd) -> cluster(provider, "--provider", {ok, ssh}, Cmd);
flag("provider", "nodes", Cmd) -> cluster(provider, "--provider", {ok, nodes}, Cmd);
flag("provider", V, _Cmd) -> {error, {invalid_option, "--provider", V}};
flag("hosts", V, Cmd) ->
    Hosts = [unicode:characters_to_binary(H) || H <- string:lexemes(V, ","), string:trim(H) =/= ""],
    cluster(hosts, "--hosts", case Hosts of [] -> {error, V}; _ -> {ok, Hosts} end, Cmd);
flag("set", V, #{set := S} = Cmd) ->
    case string:split(V, "=") of
        [K, Val] when K =/= "" -> {ok, Cmd#{set := [{K, Val} | S]}};
        _ -> {error, {invalid_option, "--set", V}}
    end;
flag(F, V, Cmd) when F =:= "threshold"; F =:= "abort-on-fail"; F =:= "delay-abort-eval";
                     F =:= "junit"; F =:= "save"; F =:= "baseline";
                     F =:= "data"; F =:= "data-strategy";
                     F =:= "max-regression"; F =:= "min-delta"; F =:= "prometheus" ->
    live_load_cli_ci:flag(F, V, Cmd);
flag(Flag, _V, _Cmd) ->
    {error, {unknown_option, "--" ++ Flag}}.

%% --browser-users N / --protocol-users M: a hybrid run, users => #{browser => N, protocol => M}
kind_users(Kind, Flag, V, #{opts := O} = Cmd) ->
    case string:to_integer(V) of
        {N, ""} when N >= 0 ->
            Kinds = case maps:get(users, O, #{}) of
                        #{} = K -> K;
                        _ -> #{}
                    end,
            {ok, Cmd#{opts := O#{users => Kinds#{Kind => N}}}};
        _ -> {error, {invalid_option, Flag, V}}
    end.

opt(Key, _Flag, {ok, V}, #{opts := O} = Cmd) -> {ok, Cmd#{opts := O#{Key => V}}};
opt(_Key, Flag, {error, V}, _Cmd) -> {error, {invalid_option, Flag, V}}.

cluster(Key, _Flag, {ok, V}, #{opts := O} = Cmd) ->
    {ok, Cmd#{opts := O#{cluster => (maps:get(cluster, O, #{}))#{Key => V}}}};
cluster(_Key, Flag, {error, V}, _Cmd) -> {error, {invalid_option, Flag, V}}.

int(S) ->
    case string:to_integer(S) of
        {N, ""} when N > 0 -> {ok, N};
        _ -> {error, S}
    end.

%% "500ms", "60s", "2m", "1h"; a bare number is seconds
duration(S) ->
    case string:to_integer(S) of
        {N, Unit} when is_integer(N), N > 0 ->
            case Unit of
                "ms" -> {ok, N};
                U when U =:= ""; U =:= "s" -> {ok, N * 1000};
                "m" -> {ok, N * 60000};
                "h" -> {ok, N * 3600000};
                _ -> {error, S}
            end;
        _ -> {error, S}
    end.

%% --- run -----------------------------------------------------------------------------------

run(#{command := compare} = Cmd) ->
    live_load_cli_ci:compare(Cmd);
run(#{command := report} = Cmd) ->
    live_load_cli_ci:report(Cmd);
run(#{targets := Targets} = Cmd) ->
    case load_all(Targets, []) of
        {ok, Modules} ->
            run_modules(Modules, Cmd);
        {error, Reason} ->
            err("live_load: ~ts~ts~n", [format_error(Reason, verbose(Cmd)), live_load_cli_ci:load_hint(Reason, Cmd)]),
            2
    end.

verbose(Cmd) -> maps:get(verbose, Cmd, false).

%% @doc Runs loaded scenario modules with the options of a parsed `run' command (`parse/1''s
%% `{ok, Cmd}'), writes the files and the summary; returns the exit status. `mix live_load.run'
%% loads Elixir scenarios itself and calls this.
-spec run_modules([module()], map()) -> non_neg_integer().
run_modules(Modules, Cmd0) ->
    %% the runs index of --save and the --baseline file are checked before anything runs
    case live_load_cli_ci:before_run(Cmd0) of
        {ok, Cmd} -> run_checked(Modules, Cmd);
        {error, Reason} ->
            err("live_load: ~ts~n", [live_load_cli_ci:format_error(Reason)]),
            2
    end.

run_checked(Modules, Cmd) ->
    Opts = run_opts(Modules, Cmd),
    ok = live_load_cli_signals:install(),
    case live_load:run(Opts) of
        {error, Reason} ->
            err("live_load: ~ts~n", [format_error(Reason, verbose(Cmd))]),
            2;
        Results when is_map(Results) ->
            Ordered = [{M, maps:get(M, Results)} || M <- Modules],
            ok = live_load_cli_output:write(Ordered, Cmd),
            CiStatus = live_load_cli_ci:after_run(Ordered, Cmd),
            case exit_status(Ordered) of
                0 -> CiStatus;
                Status -> Status
            end
    end.

run_opts(Modules, #{opts := O, set := Set} = Cmd) ->
    %% the option names of live_load:run/1 exist as atoms once this module is loaded
    {module, _} = code:ensure_loaded(live_load_options),
    Base = maps:merge(#{scenarios => Modules, base_url => maps:get(base_url, Cmd, ?DEFAULT_BASE_URL)}, O),
    %% keys of --set become atoms only when the atom already exists (live_load's options, or the
    %% loaded scenario modules mention it); otherwise they stay binaries
    lists:foldl(fun({K, V}, Acc) -> Acc#{key(K) => value(V)} end, Base, Set).

key(K) ->
    B = unicode:characters_to_binary(K),
    try binary_to_existing_atom(B) catch error:badarg -> B end.

value(V) ->
    case {string:to_integer(V), string:to_float(V)} of
        {{N, ""}, _} -> N;
        {_, {F, ""}} -> F;
        _ when V =:= "true" -> true;
        _ when V =:= "false" -> false;
        _ -> unicode:characters_to_binary(V)
    end.

%% A target is a module name already on the code path, or an .erl file compiled and loaded here.
load_all([], Acc) ->
    {ok, lists:reverse(Acc)};
load_all([T | Rest], Acc) ->
    case load(T) of
        {ok, M} -> load_all(Rest, [M | Acc]);
        {error, _} = E -> E
    end.

load(Target) ->
    case filename:extension(Target) of
        ".erl" -> compile_file(Target);
        _ ->
            case erl_scan:string(Target) of
                {ok, [{atom, _, _}], _} ->
                    try binary_to_existing_atom(list_to_binary(Target)) of
                        M -> module(M, Target)
                    catch error:badarg ->
                            %% an atom not known yet: only a module on the code path can make it
                            case code:where_is_file(Target ++ ".beam") of
                                non_existing -> {error, {unknown_scenario, Target}};
                                _ -> module(list_to_atom(Target), Target)
                            end
                    end;
                _ -> {error, {unknown_scenario, Target}}
            end
    end.

module(M, Target) ->
    case code:ensure_loaded(M) of
        {module, M} -> {ok, M};
        _ -> {error, {unknown_scenario, Target}}
    end.

compile_file(File) ->
    Include = filename:join(code:lib_dir(live_load), "include"),
    case compile:file(File, [binary, return_errors, return_warnings, debug_info, {i, Include}]) of
        {ok, M, Bin, _Warnings} ->
            {module, M} = code:load_binary(M, File, Bin),
            {ok, M};
        {error, Errors, _Warnings} ->
            {error, {compile_failed, File, Errors}}
    end.

exit_status(Results) ->
    %% a run an abort_on_fail threshold stopped is a failed threshold (live_load_cli_ci), not 130
    case [M || {M, #{<<"run">> := #{<<"interrupted">> := true} = Run}} <- Results,
               not is_map_key(<<"aborted_by">>, Run)] of
        [] -> exit_status_done(Results);
        [_ | _] -> 130
    end.

exit_status_done(Results) ->
    Bad = [M || {M, R} <- Results, not iterations_ok(R)],
    case Bad of
        [] -> 0;
        _ -> err("live_load: no successful iteration in ~p~n", [Bad]), 1
    end.

iterations_ok({error, _}) -> false;
iterations_ok(#{<<"run">> := #{<<"iterations">> := #{<<"ok">> := Ok, <<"halted">> := H}}}) ->
    Ok + H > 0;
iterations_ok(#{run := #{iterations := #{ok := Ok, halted := H}}}) ->
    Ok + H > 0;
iterations_ok(_) -> true.

format_error({invalid_threshold, _, _} = Reason, _Verbose) ->
    live_load_cli_ci:format_error(Reason);
format_error(Reason, Verbose) ->
    live_load_cli_errors:format(Reason, Verbose).

err(Fmt, Args) ->
    io:format(standard_error, Fmt, Args).

%% @doc The `--help' text.
-spec usage() -> iodata().
usage() ->
    <<"Usage: live_load run SCENARIO... [options]
       live_load compare BASE.json NEW.json [--max-regression P] [--min-delta D] [--md FILE]
       live_load report RUNS_DIR|RESULT.json... [--html FILE] [--md FILE]
       live_load --html OUT.html RUNS_DIR|RESULT.json... [--md FILE]
       live_load --help

Runs load-test scenarios against a Phoenix LiveView application with real headless Chromium
users, writes the result files and prints the Markdown summary.

SCENARIO is a module on the code path (e.g. live_load_counter_scenario) or an Erlang source
file (scenarios/counter.erl), compiled and loaded first. Several scenarios run one after
another, each with its own browsers and users.

Options:
  --users N               simulated users (default 1)
  --duration D            scenario duration (default 10m); D is 500ms, 60s, 2m, 1h or seconds
  --iteration-timeout D   bound of one iteration (default 2m); past it the user is failed
  --connection browser|protocol
                          browser: headless Chromium users (default); protocol: the C
                          LiveView client, no browser (thousands of users per core)
  --browser-users N --protocol-users M
                          a hybrid run: N browser and M protocol users in one result
                          (dimension connection)
  --user-rate N           users started per minute (default: all within about 3 s)
  --users-per-browser N   browser contexts per Chromium process (default 8)
  --base-url URL          the application's URL, given to the scenarios' config as base_url
                          (default http://127.0.0.1:4000)
  --mode faithful|fast    faithful: rendered pages and trusted input (default);
                          fast: hidden pages, events dispatched in the page
  --chromium PATH         the Chromium executable (default /usr/bin/chromium)
  --set KEY=VALUE         any other option for the scenarios' config/1 (repeatable); numbers,
                          true and false are converted, everything else is a string
  --json FILE             write the results (all scenarios) to FILE, always
                          {\"format\": \"live_load.results/1\", \"results\": [...]}
  --md FILE               write the Markdown report to FILE
  --html FILE             write the HTML report (one self-contained file) to FILE
  --quiet                 no progress line on stderr
  --distributed           run on a cluster of worker nodes formed for the run (amoc)
  --nodes N               worker nodes (default: from the sizing, see guides/distributed.md)
  --calibrate             size the cluster from the cost of one user measured on the first
                          worker (2 users of the scenario for 15 s) before the run
  --provider P            how the workers start: peer (this machine, default), ssh, nodes
  --hosts H1,H2           ssh hosts (--provider ssh), or the running nodes' names
                          name@host (--provider nodes)
  --verbose               errors also show the Erlang term behind the message
  --threshold EXPR        pass/fail rule on the result (repeatable), e.g.
                          'liveview.event{event=inc}.p95 < 100ms', 'iterations.failed_rate < 1%'
  --abort-on-fail EXPR    a threshold also checked every 2 s during the run: the run stops when
                          it fails (exit status 4; repeatable)
  --delay-abort-eval D    --abort-on-fail thresholds are not checked in the first D of the run
  --junit FILE            write a JUnit XML file: one testcase per threshold and per scenario
  --save[=DIR]            save each scenario's result under a timestamped name in DIR (default
                          live_load_runs/), with DIR/index.json; nothing is saved without it
  --baseline FILE         compare with a saved run (as `compare' does) after the run
  --max-regression P      with --baseline or compare: relative change flagged (default 10%)
  --min-delta D           with --baseline or compare: smallest latency change flagged (default 10ms)
  --data FILE             per-user data: a CSV file with a header (or .jsonl), one row per user
  --data-strategy S       per_user (row N for user N, default), per_iteration or random
  --prometheus ADDR:PORT  serve live metrics at http://ADDR:PORT/metrics during the run
  -h, --help              this text

Every flag with a value is also written --flag=VALUE.

The progress line on stderr is refreshed every second on a terminal, every 10 s otherwise.

Exit status: 0 when every scenario had a successful iteration; 1 when a scenario failed to run
or all of its iterations failed; 2 when the run could not start (bad option or threshold,
unknown scenario, compile error, a --save index or --baseline file that cannot be read);
4 when a threshold failed (also when an --abort-on-fail threshold stopped the run); 5 when a comparison
(--baseline, compare) found a regression beyond noise (the first that applies of 2, 1, 4, 5
wins); 130 when the run was interrupted (Ctrl-C or SIGTERM: the users are stopped and the
partial result is written, with run.interrupted = true; a second signal quits at once).

compare prints a Markdown delta table of two results files (p50/p95/p99, error rate,
throughput per metric, counters' rates and error rates, flagged dimension values) and exits 5
on a regression beyond noise. report (or --html OUT.html with a directory or a list of result
files) writes the trend of saved runs (p95 of the main metrics per run, with run ids) as
Markdown and, with --html, an HTML report with a trend view. See guides/ci.md.

Examples:
  bin/live_load run scenarios/live_load_counter_scenario.erl --users 8 --duration 60s \\
      --base-url http://127.0.0.1:4000 --json result.json --md report.md
  bin/live_load run scenarios/*.erl --users 4 --duration 20s --set think_time_ms=200
">>.
