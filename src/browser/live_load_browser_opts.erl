%% @doc Validation of `live_load_browser' options and their translation into the port program's
%% argv and `new_user' options. Bad input gives `{error, {invalid_option, Name, Value}}'.
-module(live_load_browser_opts).

-export([browser/1]).
-export([user/1]).
-export([port_args/1]).

-type browser_opts() :: #{executable => file:filename_all(),
                          args => [iodata()],
                          endpoint => iodata(),
                          default_args => boolean(),
                          headless => boolean(),
                          max_users => pos_integer(),
                          max_frame => pos_integer(),
                          chromium_log => file:filename_all(),
                          port_program => file:filename_all(),
                          restart_limit => non_neg_integer(),
                          wire_trace => boolean(),
                          trace_window_ms => 100..600000}.
-type user_opts() :: #{owner => pid(),
                       network => boolean(),
                       sample => number(),
                       viewport => {pos_integer(), pos_integer()},
                       mode => faithful | fast,
                       timeout => pos_integer()}.
-export_type([browser_opts/0, user_opts/0]).

%% @doc Checks browser options; fills defaults.
-spec browser(map()) -> {ok, browser_opts()} | {error, {invalid_option, atom() | term(), term()}}.
browser(Opts) when is_map(Opts) ->
    Defaults = #{default_args => true, headless => true, max_users => 256, restart_limit => 5},
    check(maps:to_list(Opts), fun browser_opt/2, maps:merge(Defaults, Opts));
browser(Opts) ->
    {error, {invalid_option, opts, Opts}}.

%% @doc Checks user options; fills defaults (owner = caller, network on, faithful, 30 s).
-spec user(map()) -> {ok, user_opts()} | {error, {invalid_option, atom() | term(), term()}}.
user(Opts) when is_map(Opts) ->
    Defaults = #{owner => self(), network => true, sample => 1.0, mode => faithful, timeout => 30000},
    check(maps:to_list(Opts), fun user_opt/2, maps:merge(Defaults, Opts));
user(Opts) ->
    {error, {invalid_option, opts, Opts}}.

check([], _Fun, Acc) -> {ok, Acc};
check([{K, V} | Rest], Fun, Acc) ->
    case Fun(K, V) of
        true -> check(Rest, Fun, Acc);
        false -> {error, {invalid_option, K, V}}
    end.

browser_opt(executable, V) -> is_path(V);
browser_opt(port_program, V) -> is_path(V);
browser_opt(chromium_log, V) -> is_path(V);
browser_opt(args, V) -> is_list(V) andalso lists:all(fun is_path/1, V) andalso length(V) =< 64;
browser_opt(endpoint, V) ->
    is_path(V) andalso
        lists:any(fun(P) -> string:prefix(unicode:characters_to_list(V), P) =/= nomatch end,
                  ["ws://", "http://"]);
browser_opt(default_args, V) -> is_boolean(V);
browser_opt(headless, V) -> is_boolean(V);
browser_opt(max_users, V) -> is_integer(V) andalso V > 0 andalso V =< 100000;
browser_opt(max_frame, V) -> is_integer(V) andalso V >= 1024 andalso V =< 1 bsl 30;
browser_opt(restart_limit, V) -> is_integer(V) andalso V >= 0;
browser_opt(wire_trace, V) -> is_boolean(V);
browser_opt(trace_window_ms, V) -> is_integer(V) andalso V >= 100 andalso V =< 600000;
browser_opt(_, _) -> false.

user_opt(owner, V) -> is_pid(V);
user_opt(network, V) -> is_boolean(V);
user_opt(sample, V) -> is_number(V) andalso V >= 0 andalso V =< 1;
user_opt(viewport, {W, H}) -> is_integer(W) andalso is_integer(H) andalso W > 0 andalso H > 0
                                  andalso W =< 10000 andalso H =< 10000;
user_opt(mode, V) -> V =:= faithful orelse V =:= fast;
user_opt(timeout, V) -> is_integer(V) andalso V > 0;
user_opt(_, _) -> false.

is_path(V) when is_binary(V) -> V =/= <<>>;
is_path(V) when is_list(V) -> V =/= [] andalso io_lib:char_list(V);
is_path(_) -> false.

%% @doc argv of the port program for validated browser options.
-spec port_args(browser_opts()) -> [string()].
port_args(Opts) ->
    S = fun(V) -> unicode:characters_to_list(V) end,
    lists:append([
        case Opts of #{executable := E} -> ["--chromium", S(E)]; _ -> [] end,
        case Opts of #{endpoint := U} -> ["--endpoint", S(U)]; _ -> [] end,
        case Opts of #{chromium_log := L} -> ["--chromium-log", S(L)]; _ -> [] end,
        case maps:get(default_args, Opts) of true -> []; false -> ["--no-default-args"] end,
        case maps:get(headless, Opts) of true -> []; false -> ["--headful"] end,
        ["--max-users", integer_to_list(maps:get(max_users, Opts))],
        case Opts of #{max_frame := F} -> ["--max-frame", integer_to_list(F)]; _ -> [] end,
        case Opts of #{wire_trace := false} -> ["--no-wire-trace"]; _ -> [] end,
        case Opts of #{trace_window_ms := W} -> ["--trace-window-ms", integer_to_list(W)]; _ -> [] end,
        lists:append([["--arg", S(A)] || A <- maps:get(args, Opts, [])])]).

-ifdef(TEST).
-include_lib("eunit/include/eunit.hrl").

browser_test() ->
    ?assertMatch({ok, #{max_users := 256}}, browser(#{})),
    ?assertEqual({error, {invalid_option, max_users, -3}}, browser(#{max_users => -3})),
    ?assertEqual({error, {invalid_option, endpoint, "ftp://x"}}, browser(#{endpoint => "ftp://x"})),
    ?assertEqual({error, {invalid_option, bogus, 1}}, browser(#{bogus => 1})),
    {ok, O} = browser(#{executable => <<"/bin/c">>, args => ["--a"], default_args => false}),
    ?assertEqual(["--chromium", "/bin/c", "--no-default-args", "--max-users", "256", "--arg", "--a"],
                 port_args(O)),
    {ok, T} = browser(#{wire_trace => false, trace_window_ms => 250}),
    ?assertEqual(["--max-users", "256", "--no-wire-trace", "--trace-window-ms", "250"], port_args(T)),
    ?assertEqual({error, {invalid_option, trace_window_ms, 50}}, browser(#{trace_window_ms => 50})).

user_test() ->
    ?assertMatch({ok, #{network := true, mode := faithful}}, user(#{})),
    ?assertEqual({error, {invalid_option, mode, turbo}}, user(#{mode => turbo})),
    ?assertEqual({error, {invalid_option, viewport, {0, 1}}}, user(#{viewport => {0, 1}})),
    ?assertEqual({error, {invalid_option, sample, 2}}, user(#{sample => 2})).
-endif.
