%% @doc The CI side of `bin/live_load': the flags `--threshold', `--abort-on-fail',
%% `--delay-abort-eval', `--junit', `--save', `--data', `--data-strategy', `--baseline',
%% `--max-regression', `--min-delta', `--prometheus' of `run', the checks before a run (the runs
%% index of `--save', the `--baseline' file), what happens after a run (JUnit file, saved run,
%% baseline comparison) and the `compare' and `report' commands.
%%
%% Exit statuses added to `live_load_cli''s 0/1/2: 4 when a threshold failed (also when an
%% `abort_on_fail' threshold stopped the run), 5 when a comparison found a regression beyond
%% noise (`guides/ci.md').
-module(live_load_cli_ci).

-export([flag/3]).
-export([bare_save/2]).
-export([default_save_dir/0]).
-export([load_hint/2]).
-export([before_run/1]).
-export([parse_compare/1]).
-export([after_run/2]).
-export([compare/1]).
-export([parse_report/1]).
-export([report/1]).
-export([format_error/1]).

-define(THRESHOLDS_FAILED, 4).
-define(REGRESSION, 5).
-define(DEFAULT_SAVE_DIR, "live_load_runs").

%% @doc Where `--save' alone saves the runs.
-spec default_save_dir() -> string().
default_save_dir() -> ?DEFAULT_SAVE_DIR.

%% @doc One CI flag of `run' with its value.
-spec flag(string(), string(), map()) -> {ok, map()} | {error, term()}.
flag("threshold", V, Cmd) ->
    threshold(V, V, Cmd);
flag("abort-on-fail", V, Cmd) ->
    threshold(V, #{expr => V, abort_on_fail => true, delay_abort_eval => maps:get(delay_abort_eval, Cmd, 0)}, Cmd);
flag("delay-abort-eval", V, #{opts := O} = Cmd) ->
    case delay(V) of
        {ok, Ms} ->
            %% for the --abort-on-fail thresholds given before it and after it
            Ts = [case T of #{abort_on_fail := true} -> T#{delay_abort_eval := Ms}; _ -> T end
                  || T <- maps:get(thresholds, O, [])],
            {ok, Cmd#{delay_abort_eval => Ms, opts := case Ts of [] -> O; _ -> O#{thresholds => Ts} end}};
        error -> {error, {invalid_option, "--delay-abort-eval", V}}
    end;
flag("junit", V, Cmd) -> {ok, Cmd#{junit => V}};
flag("data", V, #{opts := O} = Cmd) ->
    {ok, Cmd#{opts := O#{data => (maps:get(data, O, #{}))#{source => V}}}};
flag("data-strategy", V, #{opts := O} = Cmd) ->
    case lists:member(V, ["per_user", "per_iteration", "random"]) of
        true -> {ok, Cmd#{opts := O#{data => (maps:get(data, O, #{}))#{strategy => list_to_atom(V)}}}};
        false -> {error, {invalid_option, "--data-strategy", V}}
    end;
flag("save", "", _Cmd) -> {error, {invalid_option, "--save", ""}};
flag("save", V, Cmd) -> {ok, Cmd#{save => V}};
flag("baseline", V, Cmd) -> {ok, Cmd#{baseline => V}};
flag("prometheus", V, #{opts := O} = Cmd) ->
    case live_load_prometheus:parse_address(V) of
        {ok, _} -> {ok, Cmd#{opts := O#{prometheus => V}}};
        {error, _} -> {error, {invalid_option, "--prometheus", V}}
    end;
flag(F, V, Cmd) when F =:= "max-regression"; F =:= "min-delta" ->
    compare_flag(F, V, Cmd).

%% The expression is checked now (a precise error before anything starts); the option keeps
%% what the user wrote.
threshold(Expr, T, #{opts := O} = Cmd) ->
    case live_load_threshold:parse(T) of
        {ok, _} -> {ok, Cmd#{opts := O#{thresholds => maps:get(thresholds, O, []) ++ [T]}}};
        {error, {invalid_threshold, _, Why}} -> {error, {invalid_threshold, unicode:characters_to_binary(Expr), Why}}
    end.

%% "10s", "500ms", "1m", a bare number of seconds; 0 is allowed
delay(V) ->
    case string:to_integer(V) of
        {N, U} when is_integer(N), N >= 0 ->
            case U of
                "ms" -> {ok, N};
                _ when U =:= ""; U =:= "s" -> {ok, N * 1000};
                "m" -> {ok, N * 60000};
                _ -> error
            end;
        _ -> error
    end.

%% @doc `--save' without `=DIR': the default directory. A word right after it is a scenario,
%% remembered to explain an unknown scenario that was meant as the directory.
-spec bare_save([string()], map()) -> map().
bare_save([Next | _], Cmd) when Next =/= [], hd(Next) =/= $- ->
    Cmd#{save => ?DEFAULT_SAVE_DIR, save_then => Next};
bare_save(_, Cmd) ->
    Cmd#{save => ?DEFAULT_SAVE_DIR}.

%% @doc A hint after a scenario that could not be loaded: `--save DIR' is `--save=DIR'.
-spec load_hint(term(), map()) -> iodata().
load_hint({unknown_scenario, T}, #{save_then := T}) ->
    io_lib:format(" (--save takes no separate value: --save=~ts saves into ~ts)", [T, T]);
load_hint(_, _) -> [].

%% @doc Before a run starts: the runs index of `--save' must be readable (or absent) and the
%% `--baseline' file a results file, so a bad one stops the run before it starts (exit status 2)
%% instead of after it. The baseline's results are kept in the command.
-spec before_run(map()) -> {ok, map()} | {error, term()}.
before_run(Cmd) ->
    case check_save(Cmd) of
        ok ->
            case Cmd of
                #{baseline := File} ->
                    case read(File) of
                        {ok, Base} -> {ok, Cmd#{baseline_results => Base}};
                        {error, Reason} -> {error, {baseline, File, Reason}}
                    end;
                _ -> {ok, Cmd}
            end;
        {error, _} = E -> E
    end.

check_save(#{save := Dir}) ->
    case live_load_runs:check(Dir) of
        ok -> ok;
        {error, Reason} -> {error, {save, Dir, Reason}}
    end;
check_save(_) -> ok.

compare_flag("max-regression", V, Cmd) ->
    case string:to_float(string:trim(V, trailing, "%")) of
        {F, ""} when F >= 0 -> {ok, Cmd#{max_regression => F / 100}};
        _ ->
            case string:to_integer(string:trim(V, trailing, "%")) of
                {I, ""} when I >= 0 -> {ok, Cmd#{max_regression => I / 100}};
                _ -> {error, {invalid_option, "--max-regression", V}}
            end
    end;
compare_flag("min-delta", V, Cmd) ->
    case string:to_integer(V) of
        {N, U} when is_integer(N), N >= 0, (U =:= "" orelse U =:= "ms") -> {ok, Cmd#{min_delta_ms => N}};
        _ -> {error, {invalid_option, "--min-delta", V}}
    end.

%% @doc `compare BASE NEW [--max-regression P] [--min-delta D] [--md FILE]'.
-spec parse_compare([string()]) -> {ok, map()} | {error, term()}.
parse_compare(Args) ->
    parse_compare(Args, #{command => compare, files => []}).

parse_compare([], #{files := [New, Base]} = Cmd) -> {ok, Cmd#{base => Base, new => New}};
parse_compare([], _) -> {error, {compare_needs, "BASE.json NEW.json"}};
parse_compare(["--md", F | Rest], Cmd) -> parse_compare(Rest, Cmd#{md => F});
parse_compare(["--" ++ Flag, V | Rest], Cmd) when Flag =:= "max-regression"; Flag =:= "min-delta" ->
    case compare_flag(Flag, V, Cmd) of
        {ok, Cmd1} -> parse_compare(Rest, Cmd1);
        {error, _} = E -> E
    end;
parse_compare(["--" ++ Flag | _], _) -> {error, {unknown_option, "--" ++ Flag}};
parse_compare([File | Rest], #{files := Fs} = Cmd) -> parse_compare(Rest, Cmd#{files := [File | Fs]}).

%% @doc `report DIR|FILE... [--html FILE] [--md FILE]': the reports of saved runs (trend).
-spec parse_report([string()]) -> {ok, map()} | {error, term()}.
parse_report(Args) ->
    parse_report(Args, #{command => report, paths => []}).

parse_report([], #{paths := []}) -> {error, {report_needs, "a runs directory or result files"}};
parse_report([], #{paths := Ps} = Cmd) -> {ok, Cmd#{paths := lists:reverse(Ps)}};
parse_report(["--html", F | Rest], Cmd) -> parse_report(Rest, Cmd#{html => F});
parse_report(["--md", F | Rest], Cmd) -> parse_report(Rest, Cmd#{md => F});
parse_report(["--" ++ F], _) when F =:= "html"; F =:= "md" -> {error, {missing_value, "--" ++ F}};
parse_report(["--" ++ Flag | _], _) -> {error, {unknown_option, "--" ++ Flag}};
parse_report([P | Rest], #{paths := Ps} = Cmd) -> parse_report(Rest, Cmd#{paths := [P | Ps]}).

%% @doc Runs `report': prints the Markdown trend, writes the files asked for; 0, or 2 when a
%% run cannot be read.
-spec report(map()) -> 0 | 2.
report(#{paths := Paths} = Cmd) ->
    case live_load_trend:load(Paths) of
        {ok, Runs} ->
            Md = live_load_trend:markdown(Runs),
            io:put_chars(standard_io, Md),
            [write(F, Md) || #{md := F} <- [Cmd]],
            [write(F, live_load_report_html:render(Runs)) || #{html := F} <- [Cmd]],
            0;
        {error, Reason} ->
            err("live_load: report: ~ts~n", [format_error(Reason)]),
            2
    end.

%% @doc After a run's files are written: the JUnit file, the saved runs, the baseline
%% comparison (its results read by {@link before_run/1}); the exit status they call for (0, 4
%% or 5).
-spec after_run([{module(), map() | {error, term()}}], map()) -> 0 | 4 | 5.
after_run(Ordered, Cmd) ->
    Results = [R || {_, R} <- Ordered, is_map(R)],
    maybe_junit(Ordered, Cmd),
    maybe_save(Results, Cmd),
    Compare = case Cmd of
                  #{baseline_results := Base} ->
                      report(live_load_compare:compare(Base, Results, compare_opts(Cmd)), Cmd#{md => none});
                  _ -> 0
              end,
    [err("live_load: ~p stopped ~.1f s into the run: threshold ~ts failed (observed ~ts)~n",
         [M, At / 1000, E, number(O)])
     || {M, #{<<"run">> := #{<<"aborted_by">> := #{<<"expression">> := E, <<"observed">> := O, <<"at_ms">> := At}}}}
            <- Ordered],
    Failed = [{M, E} || {M, R} <- Ordered, is_map(R), #{<<"pass">> := false, <<"expression">> := E}
                                                          <- maps:get(<<"thresholds">>, R, [])],
    [err("live_load: threshold failed in ~p: ~ts~n", [M, E]) || {M, E} <- Failed],
    case {Failed, Compare} of
        {[_ | _], _} -> ?THRESHOLDS_FAILED;
        {[], S} -> S
    end.

number(N) when is_integer(N) -> integer_to_binary(N);
number(F) -> float_to_binary(float(F), [{decimals, 3}, compact]).

maybe_junit(Ordered, #{junit := File}) ->
    write(File, live_load_junit:render(Ordered));
maybe_junit(_, _) -> ok.

%% A run that cannot be saved (the disk filled up since before_run/1) is said precisely; the
%% other files are written and the exit status is the run's.
maybe_save(Results, #{save := Dir}) ->
    lists:foreach(fun(R) ->
                          case live_load_runs:save(Dir, R) of
                              {ok, File} -> err("live_load: saved ~ts~n", [File]);
                              {error, Reason} -> err("live_load: cannot save the run: ~ts~n",
                                                     [format_error({save, Dir, Reason})])
                          end
                  end, Results);
maybe_save(_, _) -> ok.

%% @doc Runs `compare'; returns the exit status (0, 5, or 2 for an unreadable file).
-spec compare(map()) -> 0 | 2 | 5.
compare(#{base := BaseFile, new := NewFile} = Cmd) ->
    case {read(BaseFile), read(NewFile)} of
        {{ok, Base}, {ok, New}} -> report(live_load_compare:compare(Base, New, compare_opts(Cmd)), Cmd);
        {{error, R}, _} -> err("live_load: ~ts: ~ts~n", [BaseFile, format_error(R)]), 2;
        {_, {error, R}} -> err("live_load: ~ts: ~ts~n", [NewFile, format_error(R)]), 2
    end.

report(#{markdown := Md, regressions := N}, Cmd) ->
    io:put_chars(standard_io, ["\n", Md]),
    case Cmd of
        #{md := File} when File =/= none -> write(File, Md);
        _ -> ok
    end,
    case N of
        0 -> 0;
        _ -> ?REGRESSION
    end.

compare_opts(Cmd) ->
    D = live_load_compare:defaults(),
    D#{max_regression := maps:get(max_regression, Cmd, maps:get(max_regression, D)),
       min_delta_ms := maps:get(min_delta_ms, Cmd, maps:get(min_delta_ms, D))}.

read(File) ->
    case file:read_file(File) of
        {ok, Bin} -> live_load_result:read_results(Bin);
        {error, Reason} -> {error, {cannot_read, Reason}}
    end.

write(File, Data) ->
    ok = filelib:ensure_dir(File),
    case file:write_file(File, Data) of
        ok -> err("live_load: wrote ~ts~n", [File]);
        {error, R} -> err("live_load: cannot write ~ts: ~p~n", [File, R])
    end.

%% @doc Readable text for the errors of this module's flags and commands.
-spec format_error(term()) -> iodata().
format_error({invalid_threshold, _, _} = E) -> ["--threshold ", live_load_threshold:format_error(E)];
format_error({save, Dir, Reason}) -> ["--save=", Dir, ": ", live_load_runs:format_error(Reason)];
format_error({baseline, File, Reason}) -> ["--baseline ", File, ": ", format_error(Reason)];
format_error({compare_needs, What}) -> ["compare needs ", What];
format_error({report_needs, What}) -> ["report needs ", What];
format_error({cannot_read, Reason}) -> file:format_error(Reason);
format_error({unsupported_format, F}) -> io_lib:format("not a live_load results file (format ~0tp)", [F]);
format_error({invalid_json, At, What}) -> io_lib:format("not JSON (~0tp at byte ~b)", [What, At]);
format_error(Other) -> live_load_runs:format_error(Other).

err(Fmt, Args) ->
    io:format(standard_error, Fmt, Args).
