%% @doc The node's browsers: users are placed on the least loaded browser, and a new browser is
%% started when every browser carries `users_per_browser' users (up to `max_browsers').
%%
%% Browsers start on first use, so a node that never runs a browser scenario never launches
%% Chromium. The pool is registered as `live_load_browser_pool' under `live_load_browser_sup'.
%%
%% Why 8 users per browser by default (`make bench-browser-port', 2-core box shared with other
%% work, navigation + trusted click + read-back per iteration): one browser plateaued at ~14
%% iterations/s whatever the user count (4, 8, 16 users: 14.3, 14.0, 14.6 it/s) with its main
%% process at 65-70% of a core, while the same 8 users split over two browsers gave 16.3 it/s with
%% each main process at ~42%. Renderers are per user anyway (one per BrowserContext), so a second
%% browser costs only its shared processes (~100 MB); the main process is the shared bottleneck.
%% Users are weighed by mode: a fast user (hidden page, nothing painted) costs the browser process
%% ~85 ms of CPU per iteration of the benchmark journey against ~240 ms for a faithful one
%% (`make bench-browser', guides/performance.md), so it counts as ?FAST_WEIGHT of a user and a
%% browser carries about three times as many of them. Override with `configure/1'.
%%
%% Which Chromium, by mode (unless the browser options name an `executable'): faithful users get
%% Chromium's headless shell when it is installed (Debian's chromium-headless-shell, the old
%% headless mode Playwright also launches by default), fast users the new headless mode of
%% /usr/bin/chromium. The new headless mode paints a whole browser window of its own (tab strip,
%% toolbar, the tab's loading throbber: ~115 ms of its main process per iteration of the benchmark
%% journey), which the shell has not: faithful 543 -> 396 ms of client CPU per iteration, 3.55 ->
%% 4.90 iterations/s at N = 8; the pages, their frames and the three timings are the same Blink.
%% Fast users need the new mode's hidden targets (never drawn): in the shell the same journey cost
%% 333 ms per iteration against 248 (guides/performance.md). A browser serves users of one
%% executable only.
-module(live_load_browser_pool).
-behaviour(gen_server).

-export([start_link/0]).
-export([configure/1]).
-export([new_user/1]).
-export([browsers/0]).
-export([stop_browsers/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

-define(SERVER, ?MODULE).
-define(FAST_WEIGHT, 0.35).
-define(HEADLESS_SHELL, "/usr/lib/chromium/chromium-headless-shell").

-record(state, {connection = live_load_browser :: module(),
                browser_opts = #{} :: map(),
                users_per_browser = 8 :: pos_integer(),
                max_browsers = 64 :: pos_integer(),
                browsers = [] :: [{pid(), Executable :: default | file:filename_all()}]}).

%% @private
-spec start_link() -> {ok, pid()} | {error, term()}.
start_link() ->
    gen_server:start_link({local, ?SERVER}, ?MODULE, [], []).

%% @doc Sets `browser' (options for `live_load_browser:start_link/1'), `users_per_browser',
%% `max_browsers' and `connection' (a `live_load_browser_connection' module). Applies to browsers
%% started afterwards.
-spec configure(map()) -> ok | {error, {invalid_option, atom() | term(), term()}}.
configure(Opts) when is_map(Opts) ->
    case [{K, V} || {K, V} <- maps:to_list(Opts), not valid(K, V)] of
        [] -> gen_server:call(?SERVER, {configure, Opts});
        [{K, V} | _] -> {error, {invalid_option, K, V}}
    end.

valid(browser, V) -> is_map(V) andalso element(1, live_load_browser_opts:browser(V)) =:= ok;
valid(users_per_browser, V) -> is_integer(V) andalso V > 0;
valid(max_browsers, V) -> is_integer(V) andalso V > 0;
valid(connection, V) -> is_atom(V);
valid(_, _) -> false.

%% @doc A new user on the least loaded browser of this node (see `live_load_browser:new_user/2').
-spec new_user(map()) -> {ok, live_load_browser_connection:user()} | {error, term()}.
new_user(UserOpts) ->
    Opts = maps:merge(#{owner => self()}, UserOpts),
    case gen_server:call(?SERVER, {pick, maps:get(mode, UserOpts, faithful)}, 60000) of
        {ok, Mod, Browser} -> Mod:new_user(Browser, Opts);
        {error, _} = E -> E
    end.

%% @doc The running browsers with their user counts.
-spec browsers() -> [{pid(), non_neg_integer()}].
browsers() ->
    {Mod, Pids} = gen_server:call(?SERVER, browsers),
    [{P, Mod:user_count(P)} || P <- Pids].

%% @doc Stops every browser of the pool (their users get `{error, browser_down}'); the next
%% user starts a new one. The amoc engine calls it when a scenario ends on the node.
-spec stop_browsers() -> ok.
stop_browsers() ->
    gen_server:call(?SERVER, stop_browsers, 60000).

%% @private
-spec init([]) -> {ok, #state{}}.
init([]) ->
    process_flag(trap_exit, true),
    {ok, #state{}}.

%% @private
-spec handle_call(term(), gen_server:from(), #state{}) -> {reply, term(), #state{}}.
handle_call({configure, Opts}, _From, S) ->
    {reply, ok, S#state{connection = maps:get(connection, Opts, S#state.connection),
                        browser_opts = maps:get(browser, Opts, S#state.browser_opts),
                        users_per_browser = maps:get(users_per_browser, Opts, S#state.users_per_browser),
                        max_browsers = maps:get(max_browsers, Opts, S#state.max_browsers)}};
handle_call(stop_browsers, _From, S = #state{browsers = Bs}) ->
    lists:foreach(fun({B, _}) ->
                          unlink(B),
                          Mon = monitor(process, B),
                          exit(B, shutdown),
                          receive {'DOWN', Mon, process, B, _} -> ok
                          after 10000 -> exit(B, kill)
                          end
                  end, Bs),
    {reply, ok, S#state{browsers = []}};
handle_call(browsers, _From, S = #state{connection = Mod, browsers = Bs}) ->
    {reply, {Mod, [B || {B, _} <- Bs]}, S};
handle_call({pick, Mode}, _From, S = #state{connection = Mod, browsers = Bs, browser_opts = Opts0}) ->
    {Exe, Opts} = executable(Mod, Mode, Opts0),
    Loads = lists:keysort(2, [{B, load(Mod, B)} || {B, E} <- Bs, E =:= Exe]),
    case Loads of
        [{B, N} | _] when N < S#state.users_per_browser; length(Bs) >= S#state.max_browsers ->
            {reply, {ok, Mod, B}, S};
        [] when length(Bs) >= S#state.max_browsers ->
            %% every browser allowed runs: the least loaded one, whichever executable it runs
            [{B, _} | _] = lists:keysort(2, [{B, load(Mod, B)} || {B, _} <- Bs]),
            {reply, {ok, Mod, B}, S};
        _ ->
            case Mod:start_link(Opts) of
                {ok, B} -> {reply, {ok, Mod, B}, S#state{browsers = Bs ++ [{B, Exe}]}};
                {error, _} = E -> {reply, E, S}
            end
    end.

%% The executable a user of this mode gets, and the browser options that start it.
executable(live_load_browser, faithful, Opts) when not is_map_key(executable, Opts),
                                                   not is_map_key(endpoint, Opts) ->
    case filelib:is_regular(?HEADLESS_SHELL) of
        true -> {?HEADLESS_SHELL, Opts#{executable => ?HEADLESS_SHELL}};
        false -> {default, Opts}
    end;
executable(_, _, Opts) ->
    {maps:get(executable, Opts, default), Opts}.

%% A browser's load in faithful users.
load(Mod, B) ->
    case erlang:function_exported(Mod, users_by_mode, 1) of
        true -> weight(Mod:users_by_mode(B));
        false -> Mod:user_count(B)
    end.

weight(#{faithful := F, fast := Q}) -> F + Q * ?FAST_WEIGHT.

%% @private
-spec handle_cast(term(), #state{}) -> {noreply, #state{}}.
handle_cast(_Msg, S) ->
    {noreply, S}.

%% @private
-spec handle_info(term(), #state{}) -> {noreply, #state{}}.
handle_info({'EXIT', Pid, Reason}, S = #state{browsers = Bs}) ->
    case lists:keymember(Pid, 1, Bs) of
        true -> logger:warning("live_load_browser_pool: browser ~p stopped: ~p", [Pid, Reason]);
        false -> ok
    end,
    {noreply, S#state{browsers = lists:keydelete(Pid, 1, Bs)}};
handle_info(_Msg, S) ->
    {noreply, S}.

-ifdef(TEST).
-include_lib("eunit/include/eunit.hrl").

weight_test() ->
    ?assert(weight(#{faithful => 8, fast => 0}) == 8),
    ?assert(weight(#{faithful => 0, fast => 16}) < 8),
    ?assert(weight(#{faithful => 0, fast => 23}) >= 8).
-endif.
