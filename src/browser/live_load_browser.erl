%% @doc One headless Chromium driven by the port program `priv/live_load_browser'.
%%
%% A gen_server owning the port (`{packet,4}', external term format; the wire protocol is written
%% down once, at the top of `c_src/browser/main.c'). Each simulated user is a BrowserContext with one
%% page inside this browser. Calls carry a request id; replies are matched to the waiting caller,
%% which gets `{error, timeout}' after its timeout. Events for a user go to its owner as
%% `{live_load_event, User, Event}' (shapes in `guides/browser.md').
%%
%% When the port exits (Chromium killed or crashed), every waiting caller gets
%% `{error, browser_down}', every owner gets the event `#{<<"type">> => <<"browser_down">>}', the
%% users are forgotten and a fresh port is started; after `restart_limit' exits within a minute the
%% server stops instead. A user whose owner dies is closed.
%%
%% The Chromium profile directory (`live_load_browser.*' in `$TMPDIR') is made here and given to
%% the port, so it is removed whenever the port ends, even by `kill -9' (Chromium itself dies with
%% the port: PR_SET_PDEATHSIG in the launched child). A `call/4' timeout travels with the command:
%% the port frees the command's slot at that deadline whether or not Chromium ever answers.
-module(live_load_browser).
-behaviour(gen_server).
-behaviour(live_load_browser_connection).

-export([start_link/1]).
-export([start/1]).
-export([stop/1]).
-export([new_user/2]).
-export([call/4]).
-export([calls/3]).
-export([call_browser/4]).
-export([call_root/4]).
-export([close_user/1]).
-export([user_count/1]).
-export([users_by_mode/1]).
-export([stats/1]).
-export([os_pid/1]).
-export([mode/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-record(user, {browser :: pid(), epoch :: pos_integer(), id :: pos_integer(), mode = faithful :: faithful | fast}).
-opaque user() :: #user{}.
-export_type([user/0]).

-record(state, {opts :: live_load_browser_opts:browser_opts(),
                port :: port() | undefined,
                profile :: file:filename() | undefined,
                chromium :: pos_integer() | undefined,
                epoch = 1 :: pos_integer(),
                next_id = 1 :: pos_integer(),
                pending = #{} :: #{pos_integer() => {gen_server:from() | none, reference() | none, term()}},
                late = #{} :: #{pos_integer() => term()},
                users = #{} :: #{pos_integer() => {pid(), reference(), user()}},
                %% users being closed: the port sends their last events (the wire timings of
                %% their last pushes) before it answers close_user
                closing = #{} :: #{pos_integer() => {pid(), user()}},
                exits = [] :: [integer()]}).

-define(CLOSE_TIMEOUT, 10000).

%% @doc Starts a browser (launching Chromium, or connecting to `endpoint').
%% Options: see `live_load_browser_opts:browser_opts()'.
-spec start_link(map()) -> {ok, pid()} | {error, term()}.
start_link(Opts) ->
    case live_load_browser_opts:browser(Opts) of
        {ok, Valid} -> gen_server:start_link(?MODULE, Valid, []);
        {error, _} = E -> E
    end.

%% @doc Like `start_link/1' without a link (shell, Livebook).
-spec start(map()) -> {ok, pid()} | {error, term()}.
start(Opts) ->
    case live_load_browser_opts:browser(Opts) of
        {ok, Valid} -> gen_server:start(?MODULE, Valid, []);
        {error, _} = E -> E
    end.

%% @doc Stops the browser: the port disposes every context and kills Chromium.
-spec stop(pid()) -> ok.
stop(Browser) ->
    gen_server:stop(Browser).

%% @doc Creates a user: BrowserContext + page, created paused, observer and binding installed
%% before any page script, then resumed. Options: `owner' (events go there; default the caller),
%% `network' (HTTP/WS records, default true), `sample' (0..1, share of requests recorded),
%% `viewport' `{W, H}', `mode' (`faithful' | `fast' = hidden target), `timeout' (ms, 30000).
-spec new_user(pid(), map()) -> {ok, user()} | {error, term()}.
new_user(Browser, UserOpts) ->
    case live_load_browser_opts:user(UserOpts) of
        {ok, Opts} -> safe_call(Browser, {new_user, Opts});
        {error, _} = E -> E
    end.

%% @doc A CDP command on the user's page session. JSON is mapped to terms: object = map with
%% binary keys, array = list, string = binary, true/false/null = atoms.
-spec call(user(), binary(), map(), timeout()) -> live_load_browser_connection:call_result().
call(#user{browser = B} = U, Method, Params, Timeout) when is_binary(Method), is_map(Params) ->
    safe_call(B, {call, call, U, Method, Params, Timeout}).

%% @doc Several CDP commands on the user's page session, pipelined: all are sent at once, in order
%% (Chromium runs a session's commands in the order they arrive), and the results come back in the
%% same order. One round trip instead of one per command: what a mouse click (moved, pressed,
%% released) or a key press is.
-spec calls(user(), [{binary(), map()}], timeout()) -> [live_load_browser_connection:call_result()].
calls(#user{browser = B} = U, Cmds, Timeout) ->
    Reqs = [gen_server:send_request(B, {call, call, U, Method, Params, Timeout}) || {Method, Params} <- Cmds],
    [case gen_server:receive_response(R, infinity) of
         {reply, Reply} -> Reply;
         {error, _} -> {error, browser_down}
     end || R <- Reqs].

%% @doc A CDP command on the root (browser) session; `browserContextId' of the user's context is
%% added to the context-scoped methods (Storage cookies, Target.createTarget, Browser permissions).
-spec call_browser(user(), binary(), map(), timeout()) -> live_load_browser_connection:call_result().
call_browser(#user{browser = B} = U, Method, Params, Timeout) when is_binary(Method), is_map(Params) ->
    safe_call(B, {call, call_browser, U, Method, Params, Timeout}).

%% @doc A CDP command on the root session, outside any user (Browser.getVersion,
%% Target.getBrowserContexts, ...).
-spec call_root(pid(), binary(), map(), timeout()) -> live_load_browser_connection:call_result().
call_root(Browser, Method, Params, Timeout) when is_binary(Method), is_map(Params) ->
    safe_call(Browser, {port_call, {call_browser, 0, Method, Params}, Timeout}).

%% @doc Disposes the user's BrowserContext. Always `ok' (a dead browser has nothing left to close).
-spec close_user(user()) -> ok.
close_user(#user{browser = B} = U) ->
    _ = safe_call(B, {close_user, U}),
    ok.

%% @doc Number of live users in this browser (the pool places users on the least loaded).
-spec user_count(pid()) -> non_neg_integer().
user_count(Browser) ->
    case safe_call(Browser, user_count) of
        N when is_integer(N) -> N;
        {error, browser_down} -> 0
    end.

%% @doc Live users in this browser by mode (the pool weighs them: a fast user costs the browser's
%% shared processes about a third of a faithful one).
-spec users_by_mode(pid()) -> #{faithful := non_neg_integer(), fast := non_neg_integer()}.
users_by_mode(Browser) ->
    case safe_call(Browser, users_by_mode) of
        #{} = M -> M;
        {error, browser_down} -> #{faithful => 0, fast => 0}
    end.

%% @doc Counters of the port program (messages, users, pending commands, dropped events, max RSS).
-spec stats(pid()) -> {ok, map()} | {error, term()}.
stats(Browser) ->
    safe_call(Browser, {port_call, {stats}, 10000}).

%% @doc The mode the user was created with (`fast': hidden target, clicks dispatched in the page).
-spec mode(user()) -> faithful | fast.
mode(#user{mode = M}) -> M.

%% @doc OS pid of the port program (tests and benchmarks read its memory from /proc).
-spec os_pid(pid()) -> {ok, non_neg_integer()} | {error, browser_down}.
os_pid(Browser) ->
    safe_call(Browser, os_pid).

safe_call(Pid, Req) ->
    try gen_server:call(Pid, Req, infinity)
    catch exit:_ -> {error, browser_down}
    end.

%% ------------------------------------------------------------------ gen_server

%% @private
-spec init(live_load_browser_opts:browser_opts()) -> {ok, #state{}} | {stop, term()}.
init(Opts) ->
    process_flag(trap_exit, true),
    case open(Opts) of
        {ok, Port, Profile} -> {ok, #state{opts = Opts, port = Port, profile = Profile}};
        {error, Reason} -> {stop, Reason}
    end.

open(Opts) ->
    Exe = maps:get(port_program, Opts, default_program()),
    case make_profile(Opts) of
        {ok, Profile} ->
            Args = live_load_browser_opts:port_args(Opts) ++
                       case Profile of undefined -> []; _ -> ["--user-data-dir", Profile] end,
            try open_port({spawn_executable, Exe}, [{packet, 4}, binary, exit_status, {args, Args}]) of
                Port -> {ok, Port, Profile}
            catch error:Reason ->
                    remove_profile(Profile),
                    {error, {port_program, Exe, Reason}}
            end;
        {error, _} = E ->
            E
    end.

%% A fresh profile directory for a launched Chromium (none for an endpoint).
make_profile(#{endpoint := _}) ->
    {ok, undefined};
make_profile(_Opts) ->
    Tmp = case os:getenv("TMPDIR") of
              false -> "/tmp";
              "" -> "/tmp";
              T -> T
          end,
    Dir = filename:join(Tmp, lists:flatten(io_lib:format("live_load_browser.~s.~b",
                                                         [os:getpid(), erlang:unique_integer([positive])]))),
    case file:make_dir(Dir) of
        ok -> {ok, Dir};
        {error, Reason} -> {error, {profile_dir, Dir, Reason}}
    end.

%% The port died without cleaning up (kill -9): Chromium's main process gets SIGKILL from the kernel
%% (PR_SET_PDEATHSIG) but its zygotes and renderers would take seconds to notice; its process group
%% goes at once.
kill_group(undefined) ->
    ok;
kill_group(Pgid) ->
    _ = os:cmd("kill -9 -" ++ integer_to_list(Pgid) ++ " 2>/dev/null"),
    ok.

%% Chromium dies with the port but may still be flushing files for a moment: remove the directory
%% now and once more a second later.
remove_profile(undefined) ->
    ok;
remove_profile(Dir) ->
    _ = file:del_dir_r(Dir),
    _ = erlang:send_after(1000, self(), {remove_profile, Dir}),
    ok.

default_program() ->
    Priv = case code:priv_dir(live_load) of
               {error, bad_name} -> filename:join(filename:dirname(filename:dirname(code:which(?MODULE))), "priv");
               Dir -> Dir
           end,
    filename:join(Priv, "live_load_browser").

%% @private
-spec handle_call(term(), gen_server:from(), #state{}) -> {reply, term(), #state{}} | {noreply, #state{}}.
handle_call({new_user, Opts}, From, S) ->
    PortOpts = maps:merge(#{network => maps:get(network, Opts), sample => float(maps:get(sample, Opts)),
                            mode => maps:get(mode, Opts)},
                          case Opts of
                              #{viewport := {W, H}} -> #{width => W, height => H};
                              _ -> #{}
                          end),
    {noreply, send(S, {new_user, PortOpts}, From, {new_user, maps:get(owner, Opts), maps:get(mode, Opts)},
                   maps:get(timeout, Opts))};
handle_call({call, Kind, U, Method, Params, Timeout}, From, S) ->
    Cmd = case Timeout of
              T when is_integer(T), T > 0 -> fun(Id) -> {Kind, Id, Method, Params, min(T, 86400000)} end;
              _ -> fun(Id) -> {Kind, Id, Method, Params} end
          end,
    case live_user(U, S) of
        {ok, Id} -> {noreply, send(S, Cmd(Id), From, call, Timeout)};
        error -> {reply, {error, browser_down}, S}
    end;
handle_call({close_user, U}, From, S = #state{users = Users, closing = Closing}) ->
    case live_user(U, S) of
        {ok, Id} ->
            {Owner, Mon, User} = maps:get(Id, Users),
            erlang:demonitor(Mon, [flush]),
            {noreply, send(S#state{users = maps:remove(Id, Users), closing = Closing#{Id => {Owner, User}}},
                           {close_user, Id}, From, {close, Id}, ?CLOSE_TIMEOUT)};
        error ->
            {reply, ok, S}
    end;
handle_call({port_call, Cmd, Timeout}, From, S) ->
    {noreply, send(S, Cmd, From, call, Timeout)};
handle_call(user_count, _From, S) ->
    {reply, map_size(S#state.users), S};
handle_call(users_by_mode, _From, S) ->
    Modes = [M || {_, _, #user{mode = M}} <- maps:values(S#state.users)],
    {reply, #{faithful => length([x || faithful <- Modes]), fast => length([x || fast <- Modes])}, S};
handle_call(os_pid, _From, S = #state{port = Port}) ->
    case erlang:port_info(Port, os_pid) of
        {os_pid, P} -> {reply, {ok, P}, S};
        undefined -> {reply, {error, browser_down}, S}
    end.

%% @private
-spec handle_cast(term(), #state{}) -> {noreply, #state{}}.
handle_cast(_Msg, S) ->
    {noreply, S}.

%% @private
-spec handle_info(term(), #state{}) -> {noreply, #state{}} | {stop, term(), #state{}}.
handle_info({Port, {data, Data}}, S = #state{port = Port}) ->
    {noreply, from_port(binary_to_term(Data), S)};
handle_info({Port, {exit_status, Status}}, S = #state{port = Port}) ->
    browser_down(Status, S);
handle_info({timeout, Id}, S = #state{pending = P, late = Late, closing = Closing}) ->
    case maps:take(Id, P) of
        {{From, _TRef, Kind}, P2} ->
            reply(From, Kind, {error, timeout}),
            Closing2 = case Kind of
                           {close, UserId} -> maps:remove(UserId, Closing);
                           _ -> Closing
                       end,
            {noreply, S#state{pending = P2, late = Late#{Id => Kind}, closing = Closing2}};
        error ->
            {noreply, S}
    end;
handle_info({'DOWN', Mon, process, _Owner, _}, S = #state{users = Users}) ->
    case [Id || {Id, {_, M, _}} <- maps:to_list(Users), M =:= Mon] of
        [Id] -> {noreply, send(S#state{users = maps:remove(Id, Users)}, {close_user, Id}, none, close, ?CLOSE_TIMEOUT)};
        [] -> {noreply, S}
    end;
handle_info({'EXIT', Port, Reason}, S = #state{port = Port}) ->
    %% the port closed without an exit_status: the VM wrote to a port program killed a moment
    %% before (epipe) and closed the port, so no exit_status follows. The same as its exit: else
    %% its users wait out their calls' timeouts and its Chromium and profile stay (the "port
    %% program killed" row saw both)
    browser_down({port_closed, Reason}, S);
handle_info({remove_profile, Dir}, S) ->
    _ = file:del_dir_r(Dir),
    {noreply, S};
handle_info({'EXIT', _Pid, Reason}, S) when Reason =/= normal ->
    {stop, Reason, S};
handle_info(_Msg, S) ->
    {noreply, S}.

%% @private
-spec terminate(term(), #state{}) -> ok.
terminate(_Reason, #state{port = Port, profile = Profile}) ->
    %% closing stdin makes the port dispose the contexts, kill Chromium and exit; the profile goes
    %% once the port program has gone (it waits for Chromium)
    OsPid = case catch erlang:port_info(Port, os_pid) of
                {os_pid, P} -> P;
                _ -> undefined
            end,
    catch port_close(Port),
    wait_gone(OsPid, 100),
    _ = Profile =:= undefined orelse file:del_dir_r(Profile),
    ok.

wait_gone(undefined, _) -> ok;
wait_gone(_, 0) -> ok;
wait_gone(OsPid, N) ->
    case filelib:is_dir("/proc/" ++ integer_to_list(OsPid)) of
        true -> timer:sleep(50), wait_gone(OsPid, N - 1);
        false -> ok
    end.

%% ------------------------------------------------------------------ internals

live_user(#user{browser = B, epoch = E, id = Id}, #state{epoch = E, users = Users}) when B =:= self() ->
    case maps:is_key(Id, Users) of
        true -> {ok, Id};
        false -> error
    end;
live_user(_, _) ->
    error.

send(S = #state{port = Port, next_id = Id, pending = P}, Cmd, From, Kind, Timeout) ->
    %% a port program that just died (kill -9) may be closed before its exit_status or its 'EXIT'
    %% reaches us: the command is then lost, and its pending entry is failed with browser_down
    %% with the others when that message is handled (a badarg here crashed the browser's process)
    _ = try port_command(Port, term_to_binary(list_to_tuple([Id | tuple_to_list(Cmd)])))
        catch error:badarg -> false
        end,
    TRef = case Timeout of
               infinity -> none;
               _ -> erlang:send_after(Timeout, self(), {timeout, Id})
           end,
    S#state{next_id = Id + 1, pending = P#{Id => {From, TRef, Kind}}}.

from_port({0, 0, #{<<"type">> := <<"browser_launched">>, <<"pid">> := Pid}}, S) when is_integer(Pid), Pid > 1 ->
    S#state{chromium = Pid};
from_port({0, 0, Event}, S) ->
    logger:warning("live_load_browser port: ~p", [Event]),
    S;
from_port({0, UserId, Event}, S = #state{users = Users, closing = Closing}) ->
    _ = case {Users, Closing} of
            {#{UserId := {Owner, _, User}}, _} -> Owner ! {live_load_event, User, Event};
            {_, #{UserId := {Owner, User}}} -> Owner ! {live_load_event, User, Event};
            _ -> ok
        end,
    S;
from_port({Id, Status, Result}, S = #state{pending = P, late = Late}) ->
    case maps:take(Id, P) of
        {{From, TRef, Kind}, P2} ->
            cancel(TRef),
            S2 = S#state{pending = P2},
            {S3, Reply} = result(Kind, Status, Result, S2),
            reply(From, Kind, Reply),
            S3;
        error ->
            %% a reply after its caller timed out: a user created too late is closed again
            case {maps:take(Id, Late), Status, Result} of
                {{{new_user, _, _}, L2}, ok, #{<<"user">> := UserId}} ->
                    send(S#state{late = L2}, {close_user, UserId}, none, close, ?CLOSE_TIMEOUT);
                {{_, L2}, _, _} -> S#state{late = L2};
                {error, _, _} -> S
            end
    end.

result({new_user, Owner, Mode}, ok, #{<<"user">> := UserId}, S = #state{users = Users, epoch = E}) ->
    Mon = erlang:monitor(process, Owner),
    User = #user{browser = self(), epoch = E, id = UserId, mode = Mode},
    {S#state{users = Users#{UserId => {Owner, Mon, User}}}, {ok, User}};
result(close, _, _, S) ->
    {S, ok};
result({close, Id}, _, _, S = #state{closing = Closing}) ->
    {S#state{closing = maps:remove(Id, Closing)}, ok};
result(_, ok, Result, S) ->
    {S, {ok, Result}};
result(_, error, Reason, S) ->
    {S, {error, Reason}}.

reply(none, _Kind, _Reply) -> ok;
reply(From, _Kind, Reply) -> gen_server:reply(From, Reply).

cancel(none) -> ok;
cancel(TRef) -> _ = erlang:cancel_timer(TRef), ok.

browser_down(Status, S = #state{pending = P, users = Users, epoch = E, exits = Exits, opts = Opts,
                                profile = Profile}) ->
    logger:warning("live_load_browser: port exited with status ~p, ~b users lost", [Status, map_size(Users)]),
    kill_group(S#state.chromium),
    remove_profile(Profile),
    maps:foreach(fun(_Id, {From, TRef, _Kind}) -> cancel(TRef), reply(From, x, {error, browser_down}) end, P),
    maps:foreach(fun(_Id, {Owner, Mon, User}) ->
                         erlang:demonitor(Mon, [flush]),
                         Owner ! {live_load_event, User, #{<<"type">> => <<"browser_down">>}}
                 end, Users),
    Now = erlang:monotonic_time(millisecond),
    Recent = [T || T <- [Now | Exits], Now - T < 60000],
    S2 = S#state{port = undefined, profile = undefined, chromium = undefined, pending = #{}, late = #{}, users = #{},
                 closing = #{}, epoch = E + 1, exits = Recent},
    case length(Recent) > maps:get(restart_limit, Opts) of
        true ->
            {stop, {browser_down, Status}, S2};
        false ->
            case open(Opts) of
                {ok, Port, Profile2} -> {noreply, S2#state{port = Port, profile = Profile2}};
                {error, Reason} -> {stop, Reason, S2}
            end
    end.
