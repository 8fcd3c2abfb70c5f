%% @doc The owner's mailbox side of connection events: a backend sends
%% `{live_load_event, User, Event}' to the user's process; the context records them at every step
%% ({@link drain/2}) and a backend action that waits for one of them ({@link await/4}) records the
%% others while it waits. Each event is passed as received to {@link live_load_emit} (no copy, no
%% re-encoding).
-module(live_load_context_events).

-export([drain/2]).
-export([await/4]).

%% @doc Records every event of `User' already in the mailbox. Returns `down' when one of them says
%% the backend went away.
-spec drain(live_load_connection:kind(), term()) -> ok | down.
drain(Kind, User) ->
    drain(Kind, User, ok).

drain(Kind, User, Acc) ->
    receive
        {live_load_event, U, Event} when U =:= User ->
            drain(Kind, User, acc(live_load_emit:event(Kind, Event), Acc))
    after 0 -> Acc
    end.

acc(down, _) -> down;
acc(_, Acc) -> Acc.

%% @doc Records events of `User' until `Pred(Event)' is true for one (returned) or the deadline (a
%% monotonic time in ms) passes. A crashed page ends the wait at once (`target_crashed'): what
%% was awaited can no longer come.
-spec await(live_load_connection:kind(), term(), fun((map()) -> boolean()), integer()) ->
          {ok, map()} | {error, timeout | browser_down | target_crashed}.
await(Kind, User, Pred, Deadline) ->
    Left = max(0, Deadline - erlang:monotonic_time(millisecond)),
    receive
        {live_load_event, U, Event} when U =:= User ->
            case live_load_emit:event(Kind, Event) of
                down -> {error, browser_down};
                ok ->
                    case is_map(Event) andalso Pred(Event) of
                        true -> {ok, Event};
                        false ->
                            case crashed(Event) of
                                true -> {error, target_crashed};
                                false -> await(Kind, User, Pred, Deadline)
                            end
                    end
            end
    after Left -> {error, timeout}
    end.

crashed(#{<<"type">> := <<"cdp">>, <<"method">> := <<"Inspector.targetCrashed">>}) -> true;
crashed(_) -> false.
