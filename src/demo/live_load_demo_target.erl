%% @doc The demo LiveView target: a small server speaking the Phoenix socket (V2) and LiveView
%% wire protocols well enough that the real `phoenix' 1.8 and `phoenix_live_view' 1.2 JS
%% clients from npm run unmodified against it. live_load's tests, scenarios and `make demo'
%% run against it on a machine where Phoenix cannot be installed (no hex).
%%
%% Why our own HTTP/1.1 + RFC 6455 server on `gen_tcp' rather than Debian's `erlang-yaws' or
%% `erlang-cowlib': it needs OTP only (yaws lives outside the OTP lib dir and must be put on
%% the code path by hand, and is not started as an application), and it gives full control
%% over what the tests need to provoke: refusing upgrades to force long-poll, capping every
%% header, body and frame, closing one connection on a bad frame, and one process per
%% connection and per LiveView as in Phoenix. The protocol surface is small (GET pages and
%% scripts, one upgrade, long-poll GET/POST), so the server is a few hundred lines.
%%
%% Pieces: {@link live_load_demo_conn} (HTTP), {@link live_load_demo_ws_conn} (WebSocket), {@link
%% live_load_demo_ws} (frames), {@link live_load_demo_longpoll} (long-poll sessions), {@link
%% live_load_demo_socket} (Phoenix channels), {@link live_load_demo_view} (one process per
%% LiveView), {@link live_load_demo_rendered} (rendered/diff format), {@link
%% live_load_demo_page} and the pages. Guide: `guides/demo_target.md'.
%%
%% Options (all optional): `port' (0 picks a free one, default 4000), `bind' (address tuple or
%% string, default 127.0.0.1), `slow_ms' (the `#slow' handler's sleep, default 50),
%% `latency_ms' (extra sleep before every event, default 0), `refuse_websocket' (answer 403 to
%% upgrades so the client falls back to long-poll, default false), `fail_percent' (crash the
%% view on that share of events, 0..100, default 0), `max_frame' (largest WebSocket message,
%% default 1 MiB), `fault' (an injected failure of the whole target: `none' (default), `http_500'
%% (every HTTP request answers 500), `hang' (requests are read and never answered),
%% `close_websocket' (upgrades succeed, then the socket is closed with 1011 at once)),
%% `liveview' (`<<"1.2">>', default, or `<<"0.20">>': which phoenix_live_view client the pages
%% load from npm, `phoenix_live_view' 1.2.12 or `phoenix_live_view_0_20' 0.20.1, and which
%% server wire format the views speak, see {@link live_load_demo_rendered}),
%% `assets_dir' (a `node_modules' directory holding `phoenix' and
%% `phoenix_live_view'; default: found from `LIVE_LOAD_ROOT' or above this module's ebin).
%% Bad values give `{error, {invalid_option, Name, Value}}'.
-module(live_load_demo_target).

-export([start/1]).
-export([stop/0]).
-export([config/1]).
-export([set_option/2]).
-export([options_from_env/0]).
-export([main/0]).
-export([exit_on_stdin_eof/0]).

-type options() :: #{port => inet:port_number(), bind => inet:ip_address() | string() | binary(),
                     slow_ms => non_neg_integer(), latency_ms => non_neg_integer(),
                     refuse_websocket => boolean(), fail_percent => number(),
                     max_frame => pos_integer(), fault => fault(), assets_dir => file:filename(),
                     liveview => binary()}.
-type fault() :: none | http_500 | hang | close_websocket.
-export_type([options/0, fault/0]).

-define(DEFAULTS, #{port => 4000, bind => {127, 0, 0, 1}, slow_ms => 50, latency_ms => 0,
                    refuse_websocket => false, fail_percent => 0, max_frame => 1048576, fault => none,
                    liveview => <<"1.2">>}).
%% The clients' production builds (minified), as an app's `mix assets.deploy' serves them.
-define(ASSETS, [{<<"/assets/phoenix.js">>, "phoenix/priv/static/phoenix.min.js"},
                 {<<"/assets/phoenix_live_view.js">>, "phoenix_live_view/priv/static/phoenix_live_view.min.js"}]).
-define(ASSETS_0_20, [{<<"/assets/phoenix.js">>, "phoenix/priv/static/phoenix.min.js"},
                      {<<"/assets/phoenix_live_view.js">>, "phoenix_live_view_0_20/priv/static/phoenix_live_view.min.js"}]).

%% @doc Starts the target under its own supervisor (not linked to the caller).
-spec start(options()) -> {ok, #{port := inet:port_number(), url := binary(), pid := pid()}}
                        | {error, term()}.
start(Opts) when is_map(Opts) ->
    maybe_start(validate(maps:to_list(Opts), ?DEFAULTS));
start(Opts) ->
    {error, {invalid_option, options, Opts}}.

maybe_start({error, _} = E) -> E;
maybe_start({ok, Cfg}) ->
    case whereis(live_load_demo_sup) of
        undefined ->
            case load_assets(maps:get(assets_dir, Cfg, undefined), assets(maps:get(liveview, Cfg))) of
                {ok, Assets} ->
                    [persistent_term:put({?MODULE, K}, V) || {K, V} <- maps:to_list(Cfg#{assets => Assets})],
                    case live_load_demo_sup:start_link(Cfg) of
                        {ok, Pid} ->
                            unlink(Pid),
                            Port = live_load_demo_listener:port(),
                            {ok, #{port => Port, pid => Pid, url => url(maps:get(bind, Cfg), Port)}};
                        {error, {shutdown, {failed_to_start_child, _, Reason}}} -> {error, Reason};
                        {error, _} = E -> E
                    end;
                {error, _} = E -> E
            end;
        Pid -> {error, {already_started, Pid}}
    end.

%% @doc Stops the running target (its connections and views with it).
-spec stop() -> ok | {error, not_started}.
stop() ->
    case whereis(live_load_demo_sup) of
        undefined -> {error, not_started};
        Pid ->
            %% Not our child (start/1 unlinked it), so an exit signal would be ignored; a
            %% system terminate shuts the children down in order.
            try proc_lib:stop(Pid, shutdown, infinity)
            catch exit:noproc -> ok
            end
    end.

%% @doc Changes a behaviour knob of the running target (`slow_ms', `latency_ms',
%% `refuse_websocket', `fail_percent', `fault'); new events and connections see it at once, so a test
%% can, for example, add latency in the middle of a run. `port', `bind' and `max_frame' are
%% fixed at start.
-spec set_option(atom(), term()) -> ok | {error, not_started | {invalid_option, atom(), term()}}.
set_option(Key, Value) when Key =:= slow_ms; Key =:= latency_ms; Key =:= refuse_websocket;
                            Key =:= fail_percent; Key =:= fault ->
    case {whereis(live_load_demo_sup), check(Key, Value)} of
        {undefined, _} -> {error, not_started};
        {_, {ok, V}} -> persistent_term:put({?MODULE, Key}, V);
        {_, error} -> {error, {invalid_option, Key, Value}}
    end;
set_option(Key, Value) ->
    {error, {invalid_option, Key, Value}}.

%% @doc A setting of the running target (read by its processes).
-spec config(atom()) -> term().
config(Key) -> persistent_term:get({?MODULE, Key}).

validate([], Acc) -> {ok, Acc};
validate([{K, V} | T], Acc) ->
    case check(K, V) of
        {ok, V1} -> validate(T, Acc#{K => V1});
        error -> {error, {invalid_option, K, V}}
    end.

check(port, V) when is_integer(V), V >= 0, V =< 65535 -> {ok, V};
check(bind, V) when is_tuple(V) ->
    case inet:ntoa(V) of {error, _} -> error; _ -> {ok, V} end;
check(bind, V) when is_binary(V) -> check(bind, binary_to_list(V));
check(bind, V) when is_list(V) ->
    case catch inet:parse_address(V) of {ok, Ip} -> {ok, Ip}; _ -> error end;
check(K, V) when (K =:= slow_ms orelse K =:= latency_ms), is_integer(V), V >= 0, V =< 600000 -> {ok, V};
check(refuse_websocket, V) when is_boolean(V) -> {ok, V};
check(fail_percent, V) when is_number(V), V >= 0, V =< 100 -> {ok, V};
check(fault, V) when V =:= none; V =:= http_500; V =:= hang; V =:= close_websocket -> {ok, V};
check(max_frame, V) when is_integer(V), V >= 1024, V =< 67108864 -> {ok, V};
check(liveview, V) when V =:= <<"1.2">>; V =:= <<"0.20">> -> {ok, V};
check(liveview, V) when V =:= "1.2"; V =:= "0.20" -> {ok, list_to_binary(V)};
check(assets_dir, V) when is_list(V); is_binary(V) ->
    case has_assets(V) of true -> {ok, V}; false -> error end;
check(_, _) -> error.

%% @doc Options from the environment, for `make demo-target': `PORT', `BIND',
%% `DEMO_SLOW_MS', `DEMO_LATENCY_MS', `DEMO_REFUSE_WEBSOCKET' (true/false),
%% `DEMO_FAIL_PERCENT', `DEMO_FAULT' (none, http_500, hang, close_websocket), `DEMO_LIVEVIEW'
%% (1.2, 0.20). Unset variables are left out.
-spec options_from_env() -> {ok, options()} | {error, {invalid_option, atom(), string()}}.
options_from_env() ->
    Vars = [{port, "PORT", int}, {bind, "BIND", string}, {slow_ms, "DEMO_SLOW_MS", int},
            {latency_ms, "DEMO_LATENCY_MS", int}, {refuse_websocket, "DEMO_REFUSE_WEBSOCKET", bool},
            {fail_percent, "DEMO_FAIL_PERCENT", number}, {fault, "DEMO_FAULT", fault},
            {liveview, "DEMO_LIVEVIEW", liveview}],
    lists:foldl(fun(_, {error, _} = E) -> E;
                   ({K, Var, Type}, {ok, Acc}) ->
                        case os:getenv(Var) of
                            false -> {ok, Acc};
                            "" -> {ok, Acc};
                            S -> case parse_env(Type, S) of
                                     {ok, V} -> {ok, Acc#{K => V}};
                                     error -> {error, {invalid_option, K, S}}
                                 end
                        end
                end, {ok, #{}}, Vars).

parse_env(int, S) -> try {ok, list_to_integer(S)} catch error:badarg -> error end;
parse_env(number, S) ->
    try {ok, list_to_integer(S)} catch error:badarg ->
            try {ok, list_to_float(S)} catch error:badarg -> error end
    end;
parse_env(bool, "true") -> {ok, true};
parse_env(bool, "false") -> {ok, false};
parse_env(bool, _) -> error;
parse_env(string, S) -> {ok, S};
parse_env(liveview, S) when S =:= "1.2"; S =:= "0.20" -> {ok, list_to_binary(S)};
parse_env(liveview, _) -> error;
parse_env(fault, S) ->
    case [F || F <- [none, http_500, hang, close_websocket], atom_to_list(F) =:= S] of
        [F] -> {ok, F};
        [] -> error
    end.

%% @doc Runs the target in the foreground (`make demo-target'): prints the URL, then blocks
%% until the VM is stopped (Ctrl-C). With `DEMO_EXIT_ON_EOF=true' (what tests set when they
%% start the target in its own OS process) the VM also halts when its standard input closes,
%% so a target whose test died is not left behind: start it with `erl -noinput' and keep a pipe
%% to its stdin (an Erlang port does that). Each stdin line `KEY VALUE' (e.g. `fault hang',
%% `latency_ms 2000') then calls {@link set_option/2}; the answer is a stdout line
%% `ok KEY' or `error KEY'.
-spec main() -> no_return().
main() ->
    Result = case options_from_env() of
                 {ok, Opts} -> start(Opts);
                 {error, _} = E -> E
             end,
    case Result of
        {ok, #{url := Url}} ->
            io:format("live_load demo target ready at ~s (Ctrl-C to stop)~n", [Url]),
            _ = os:getenv("DEMO_EXIT_ON_EOF") =:= "true" andalso exit_on_stdin_eof(),
            MRef = erlang:monitor(process, live_load_demo_sup),
            receive {'DOWN', MRef, _, _, Reason} ->
                    io:format(standard_error, "demo target stopped: ~p~n", [Reason]),
                    erlang:halt(1)
            end;
        {error, Reason} ->
            io:format(standard_error, "demo target failed to start: ~p~n", [Reason]),
            erlang:halt(2)
    end.

%% @doc Halts the VM when standard input reaches end of file (the parent closed the pipe or
%% died). Needs `erl -noinput' (then nothing else reads fd 0).
-spec exit_on_stdin_eof() -> pid().
exit_on_stdin_eof() ->
    spawn(fun() ->
                  Port = open_port({fd, 0, 1}, [in, binary, eof, {line, 256}]),
                  stdin_loop(Port)
          end).

stdin_loop(Port) ->
    receive
        {Port, {data, {eol, Line}}} ->
            io:format("~ts~n", [stdin_command(string:split(string:trim(Line), " "))]),
            stdin_loop(Port);
        {Port, {data, {noeol, _}}} -> stdin_loop(Port);
        {Port, eof} ->
            io:format(standard_error, "demo target: stdin closed, stopping~n", []),
            erlang:halt(0)
    end.

%% `KEY VALUE' from stdin: a knob of set_option/2, the value parsed as in the environment
stdin_command([K, V]) ->
    Types = [{slow_ms, int}, {latency_ms, int}, {refuse_websocket, bool}, {fail_percent, number},
             {fault, fault}],
    case [{Key, T} || {Key, T} <- Types, atom_to_binary(Key) =:= K] of
        [{Key, Type}] ->
            case parse_env(Type, binary_to_list(V)) of
                {ok, Value} ->
                    case set_option(Key, Value) of
                        ok -> ["ok ", K];
                        {error, _} -> ["error ", K]
                    end;
                error -> ["error ", K]
            end;
        [] -> ["error ", K]
    end;
stdin_command(_) ->
    "error usage: KEY VALUE".

has_assets(Dir) ->
    lists:all(fun({_, F}) -> filelib:is_regular(filename:join(Dir, F)) end, ?ASSETS).

url(Ip, Port) ->
    Host = case Ip of
               {0, 0, 0, 0} -> "127.0.0.1";
               {_, _, _, _} -> inet:ntoa(Ip);
               _ -> "[" ++ inet:ntoa(Ip) ++ "]"
           end,
    iolist_to_binary(io_lib:format("http://~s:~b", [Host, Port])).

assets(<<"0.20">>) -> ?ASSETS_0_20;
assets(_) -> ?ASSETS.

load_assets(undefined, Files) ->
    case assets_dir() of
        {ok, Found} -> load_assets(Found, Files);
        error -> {error, {assets_not_found, "node_modules/phoenix and phoenix_live_view (run make setup)"}}
    end;
load_assets(Dir, Files) ->
    Read = [{P, file:read_file(filename:join(Dir, F))} || {P, F} <- Files],
    case [F || {{_, F}, {_, {error, _}}} <- lists:zip(Files, Read)] of
        [] -> {ok, maps:from_list([{P, B} || {P, {ok, B}} <- Read])};
        [Missing | _] -> {error, {assets_not_found, filename:join(Dir, Missing)}}
    end.

%% The npm packages live in the project root's node_modules: found from LIVE_LOAD_ROOT (set
%% by the Makefile) or by walking up from this module's ebin directory (rebar3's _build).
assets_dir() ->
    Env = case os:getenv("LIVE_LOAD_ROOT") of
              false -> [];
              Root -> [filename:join(Root, "node_modules")]
          end,
    Here = filename:dirname(filename:absname(code:which(?MODULE))),
    Up = [filename:join(lists:foldl(fun(_, D) -> filename:dirname(D) end, Here, lists:seq(1, N)),
                        "node_modules") || N <- lists:seq(1, 7)],
    Found = [D || D <- Env ++ Up, has_assets(D)],
    case Found of
        [D | _] -> {ok, D};
        [] -> error
    end.
