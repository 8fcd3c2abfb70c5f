%% @doc The long-poll transport (`/live/longpoll', phoenix.js `LongPoll'): one session process
%% per client, found by its token, running the same {@link live_load_demo_socket} as the
%% WebSocket path.
%%
%% As in `Phoenix.Transports.LongPoll', every answer is HTTP 200 with a JSON body carrying the
%% logical status: a GET without a known token opens a session (`{status: 410, token}'); a GET
%% with one waits up to 10 s for messages (`{status: 200, token, messages}', each message the
%% serialised V2 frame) or ends empty (`{status: 204, token}'); a POST carries newline-separated
%% frames (`application/x-ndjson') and is answered `{status: 200}'. A session with no poll for
%% 30 s ends (its views stop with it); a bad frame or more than 10000 queued messages ends it
%% too, and the client then sees 410 and reconnects.
-module(live_load_demo_longpoll).
-behaviour(gen_server).

-export([handle/1]).
-export([start_link/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-define(TABLE, live_load_demo_longpoll).
-define(WINDOW_MS, 10000).
-define(IDLE_MS, 30000).
-define(MAX_QUEUE, 10000).
-define(CALL_MS, 30000).

%% @doc Serves one long-poll HTTP request; returns the JSON body to send with HTTP 200.
-spec handle(#{method := binary(), query := map(), body := binary(), _ => _}) -> {200 | 405, map()}.
handle(#{method := Method, query := Query, body := Body}) ->
    Session = case Query of
                  #{<<"token">> := T} ->
                      case ets:lookup(?TABLE, T) of
                          [{T, SessionPid}] -> {T, SessionPid};
                          [] -> none
                      end;
                  _ -> none
              end,
    case {Method, Session} of
        {<<"GET">>, none} ->
            {ok, New} = supervisor:start_child(live_load_demo_longpoll_sup, []),
            {200, #{<<"status">> => 410, <<"token">> => gen_server:call(New, token)}};
        {<<"GET">>, {Token, Pid}} ->
            case call(Pid, poll) of
                {ok, []} -> {200, #{<<"status">> => 204, <<"token">> => Token}};
                {ok, Msgs} -> {200, #{<<"status">> => 200, <<"token">> => Token, <<"messages">> => Msgs}};
                gone -> {200, #{<<"status">> => 410}}
            end;
        {<<"POST">>, {_, Pid}} ->
            case call(Pid, {publish, Body}) of
                ok -> {200, #{<<"status">> => 200}};
                _ -> {200, #{<<"status">> => 410}}
            end;
        {<<"POST">>, none} -> {200, #{<<"status">> => 410}};
        {_, _} -> {405, #{<<"status">> => 405}}
    end.

call(Pid, Msg) ->
    try gen_server:call(Pid, Msg, ?CALL_MS)
    catch exit:_ -> gone
    end.

-spec start_link() -> {ok, pid()}.
start_link() -> gen_server:start_link(?MODULE, [], []).

-spec init([]) -> {ok, map()}.
init([]) ->
    Token = live_load_demo_page:random_token(18),
    true = ets:insert(?TABLE, {Token, self()}),
    {ok, idle(#{token => Token, socket => live_load_demo_socket:new(), queue => [], queued => 0,
                poller => none, window => none, idle => none})}.

-spec handle_call(term(), gen_server:from(), map()) ->
    {reply, term(), map()} | {noreply, map()} | {stop, normal, term(), map()}.
handle_call(token, _, #{token := T} = S) -> {reply, T, S};
handle_call(poll, _From, #{queued := N} = S) when N > 0 ->
    {reply, {ok, lists:reverse(maps:get(queue, S))}, idle(S#{queue := [], queued := 0})};
handle_call(poll, From, S) ->
    S1 = release(S),
    cancel(maps:get(idle, S1)),
    {noreply, S1#{poller := From, idle := none,
                  window := erlang:start_timer(?WINDOW_MS, self(), window)}};
handle_call({publish, Body}, _, S) ->
    Lines = [L || L <- binary:split(Body, <<"\n">>, [global]), L =/= <<>>],
    case publish(Lines, S) of
        {ok, S1} -> {reply, ok, flush(S1)};
        {error, S1} -> {stop, normal, error, S1}
    end;
handle_call(_, _, S) -> {reply, {error, unknown_call}, S}.

-spec handle_cast(term(), map()) -> {noreply, map()}.
handle_cast(_, S) -> {noreply, S}.

-spec handle_info(term(), map()) -> {noreply, map()} | {stop, normal, map()}.
handle_info({live_load_demo_out, Frame}, S) -> enqueue([Frame], S);
handle_info({timeout, Ref, window}, #{window := Ref} = S) -> {noreply, idle(release(S))};
handle_info({timeout, Ref, idle}, #{idle := Ref} = S) -> {stop, normal, S};
handle_info(Msg, #{socket := Sk} = S) ->
    case live_load_demo_socket:handle_info(Msg, Sk) of
        {ok, Frames, Sk1} -> enqueue(Frames, S#{socket := Sk1});
        unknown -> {noreply, S}
    end.

-spec terminate(term(), map()) -> ok.
terminate(_, #{token := T}) ->
    ets:delete(?TABLE, T),
    ok.

publish([], S) -> {ok, S};
publish([L | T], #{socket := Sk} = S) ->
    case live_load_demo_socket:handle_text(L, Sk) of
        {ok, Frames, Sk1} ->
            case queue_frames(Frames, S#{socket := Sk1}) of
                {ok, S1} -> publish(T, S1);
                overflow -> {error, S}
            end;
        {error, _} -> {error, S}
    end.

enqueue(Frames, S) ->
    case queue_frames(Frames, S) of
        {ok, S1} -> {noreply, flush(S1)};
        overflow -> {stop, normal, S}
    end.

queue_frames(Frames, #{queue := Q, queued := N} = S) ->
    N1 = N + length(Frames),
    case N1 > ?MAX_QUEUE of
        true -> overflow;
        false -> {ok, S#{queue := lists:reverse([iolist_to_binary(F) || F <- Frames], Q), queued := N1}}
    end.

%% Answers a waiting poll as soon as there is something to send.
flush(#{poller := none} = S) -> S;
flush(#{queued := 0} = S) -> S;
flush(#{poller := From, queue := Q, window := W} = S) ->
    cancel(W),
    gen_server:reply(From, {ok, lists:reverse(Q)}),
    idle(S#{poller := none, window := none, queue := [], queued := 0}).

%% Ends a waiting poll empty (a newer poll replaces it, or its window ran out).
release(#{poller := none} = S) -> S;
release(#{poller := From, window := W} = S) ->
    cancel(W),
    gen_server:reply(From, {ok, []}),
    S#{poller := none, window := none}.

idle(#{idle := Old} = S) ->
    cancel(Old),
    S#{idle := erlang:start_timer(?IDLE_MS, self(), idle)}.

cancel(none) -> ok;
cancel(Ref) -> _ = erlang:cancel_timer(Ref), ok.
