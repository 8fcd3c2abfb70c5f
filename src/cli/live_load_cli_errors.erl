%% @doc Every error reason the command line can print, as a sentence a person reads:
%% `{invalid_option, "--users", "-1"}' becomes `--users must be a positive integer (got "-1")'.
%% The API keeps the terms; `live_load run --verbose' prints the term under the sentence.
%%
%% Option names of `live_load:run/1' are shown as their command-line flag when there is one
%% (`scenario_duration' as `--duration'), else as the option name.
-module(live_load_cli_errors).

-export([format/1]).
-export([format/2]).

%% @doc The sentence for `Reason' (no trailing newline).
-spec format(term()) -> unicode:chardata().
format(Reason) ->
    try message(Reason)
    catch _:_ -> io_lib:format("~0tp", [Reason])
    end.

%% @doc The sentence, and with `Verbose' the Erlang term on the next line.
-spec format(term(), boolean()) -> unicode:chardata().
format(Reason, false) -> format(Reason);
format(Reason, true) -> [format(Reason), io_lib:format("~n  (~0tp)", [Reason])].

%% --- options -------------------------------------------------------------------------------

message({invalid_option, "--set", V}) ->
    f("--set must be KEY=VALUE (got ~ts)", [got(V)]);
message({invalid_option, "--" ++ _ = Flag, V}) ->
    f("~ts must be ~ts (got ~ts)", [Flag, expected(flag_option(Flag)), got(V)]);
message({invalid_option, Name, V}) when is_atom(Name) ->
    f("~ts must be ~ts (got ~ts)", [name(Name), expected(Name), got(V)]);
message({invalid_option, Bad}) ->
    f("options must be {Key, Value} pairs (got ~ts)", [got(Bad)]);
message({invalid_options, Other}) ->
    f("the options must be a map or a list of {Key, Value} (got ~ts)", [got(Other)]);
message({unknown_option, Name, #{did_you_mean := Close}}) ->
    f("unknown option ~ts; did you mean ~ts?", [show_name(Name), lists:join(" or ", [name(C) || C <- Close])]);
message({unknown_option, Flag}) ->
    f("unknown option ~ts", [Flag]);
message({flame_not_available, #{option := Option, reason := Why}}) ->
    f("~ts needs FLAME: ~ts", [name(Option), Why]);
message({conflicting_options, flame_backend, {cluster, provider}}) ->
    "flame_backend chooses how worker nodes start (FLAME): remove the cluster option provider (--provider)";
message({unsupported_option, Name}) ->
    f("~ts is reserved but not supported by this build; remove it", [name(Name)]);
message({missing_value, Flag}) ->
    f("~ts needs a value", [Flag]);
message({missing_option, scenario}) ->
    "no scenario given (scenario, scenarios or otp_app)";
message(missing_scenario) ->
    "no scenario given: live_load run SCENARIO...";
message({unknown_command, C}) ->
    f("unknown command ~ts (the command is run)", [got(C)]);
message({option_needs, Name, Needs}) ->
    f("~ts is used only with ~ts", [name(Name), lists:join(", ", [[name(K), " => ", got(V)] || {K, V} <- maps:to_list(Needs)])]);
message({amoc_not_available, #{option := Option, reason := Why}}) ->
    f("~ts needs amoc: ~ts", [name(Option), Why]);
message({cluster_failed, Node, Reason}) ->
    f("the cluster could not be formed: node ~ts: ~0tp", [Node, Reason]);
message({invalid_option, {cluster, Key}, V}) ->
    f("cluster option ~ts is invalid (got ~ts)", [Key, got(V)]);

%% --- scenarios -----------------------------------------------------------------------------

message({unknown_scenario, Target}) ->
    f("unknown scenario ~ts: not a module on the code path nor an .erl file", [got(Target)]);
message({not_a_scenario, M}) ->
    f("~ts is not a scenario: it needs -behaviour(live_load_scenario) and run/3", [name(M)]);
message({unknown_application, App}) ->
    f("unknown application ~ts", [got(App)]);
message({no_scenarios, App}) ->
    f("application ~ts has no module implementing live_load_scenario", [name(App)]);
message({compile_failed, File, Errors}) ->
    [f("cannot compile ~ts:", [File]) |
     [f("~n  ~ts:~ts: ~ts", [F, location(Loc), Mod:format_error(D)]) || {F, Es} <- Errors, {Loc, Mod, D} <- Es]];
message({config_failed, {Class, Reason, _Stack}}) ->
    f("the scenario's config/1 raised ~p:~0tp", [Class, Reason]);
message({throttles_failed, {not_a_list, Other}}) ->
    f("the scenario's throttles/1 must return a list (got ~ts)", [got(Other)]);
message({throttles_failed, {Class, Reason, _Stack}}) when is_atom(Class) ->
    f("the scenario's throttles/1 raised ~p:~0tp", [Class, Reason]);
message({throttles_failed, Reason}) ->
    f("bad throttles: ~0tp", [Reason]);

%% --- the run -------------------------------------------------------------------------------

message({browser_failed, Reason}) ->
    ["cannot start Chromium: ", browser(Reason)];
message({live_load_not_started, Reason}) ->
    f("the live_load application did not start: ~0tp", [Reason]);
message({engine_crashed, Reason}) ->
    f("internal error: the engine crashed: ~0tp", [Reason]);
message({result_failed, Reason}) ->
    f("internal error: the result could not be built: ~0tp", [Reason]);
message({write_failed, File, Posix}) ->
    f("cannot write ~ts: ~ts", [File, file:format_error(Posix)]).

browser({error, Reason}) -> browser(Reason);
browser({invalid_option, K, V}) -> f("browser option ~p is invalid (got ~ts)", [K, got(V)]);
browser({port_program, Exe, Reason}) -> f("cannot run the port program ~ts (~p)", [Exe, Reason]);
browser({'EXIT', Reason}) -> f("the browser process exited: ~0tp", [Reason]);
browser(Reason) -> f("~0tp", [Reason]).

%% --- what each option expects --------------------------------------------------------------

expected(Name) when Name =:= users; Name =:= user_rate; Name =:= users_per_browser ->
    "a positive integer";
expected(duration_flag) -> "a duration such as 500ms, 60s, 2m or 1h";
expected(Name) when Name =:= scenario_duration; Name =:= iteration_timeout; Name =:= progress_interval ->
    "a positive integer (milliseconds)";
expected(mode) -> "faithful or fast";
expected(on_failure) -> "continue or stop_user";
expected(engine) -> "local or amoc";
expected(cluster) -> "a map of cluster options (guides/distributed.md)";
expected(Name) when Name =:= browser; Name =:= quiet; Name =:= distributed -> "true or false";
expected(base_url) -> "an absolute http(s) URL such as http://127.0.0.1:4000";
expected(browser_connection_adapter) -> "a module implementing live_load_browser_connection";
expected(browser_connection_opts) -> "a map of valid browser options (guides/browser.md)";
expected(scenarios) -> "a non-empty list of scenario modules";
expected(flame_backend) -> "a loaded FLAME backend module, or {Module, Opts} (guides/elixir.md)";
expected(_) -> "valid".

flag_option("--users") -> users;
flag_option("--user-rate") -> user_rate;
flag_option("--users-per-browser") -> users_per_browser;
flag_option("--duration") -> duration_flag;
flag_option("--iteration-timeout") -> duration_flag;
flag_option("--mode") -> mode;
flag_option("--base-url") -> base_url;
flag_option(_) -> unknown.

name(users) -> "--users";
name(user_rate) -> "--user-rate";
name(users_per_browser) -> "--users-per-browser";
name(scenario_duration) -> "--duration (scenario_duration)";
name(iteration_timeout) -> "--iteration-timeout (iteration_timeout)";
name(mode) -> "--mode";
name(base_url) -> "--base-url (base_url)";
name(quiet) -> "--quiet";
name(A) when is_atom(A) -> atom_to_list(A);
name(Other) -> show_name(Other).

show_name(A) when is_atom(A) -> atom_to_list(A);
show_name(B) when is_binary(B) -> B;
show_name(Other) -> got(Other).

location({Line, Col}) -> f("~b:~b", [Line, Col]);
location(Line) -> f("~p", [Line]).

%% a value as the user typed it: strings and binaries quoted, terms printed
got(V) when is_binary(V) ->
    case unicode:characters_to_list(V) of
        L when is_list(L) -> f("~tp", [L]);
        _ -> f("~0tp", [V])
    end;
got(V) -> f("~0tp", [V]).

f(Fmt, Args) -> io_lib:format(Fmt, Args).
