%% @doc The demo target's own view of its event handling: per LiveView `event' push, the time from
%% the push leaving the connection process (decoded) to its reply frame handed back to that
%% process (the view's handle_event, render and diff, and `latency_ms' when set), and the reply
%% frame's payload size. Tests and `make bench-timings' compare what live_load measures on the
%% wire with it.
%%
%% Read in the node with {@link summary/0}, over HTTP with `GET /_demo/timing' (the same map as
%% JSON) and cleared with `POST /_demo/timing/reset' or {@link reset/0}. Bounded: at most
%% 64 event names (later ones count under `other'), quantiles over the last 4096 events of each
%% name; counts, sums and byte totals cover every event since the last reset.
-module(live_load_demo_timing).

-export([table/0]).
-export([record/3]).
-export([summary/0]).
-export([reset/0]).

-define(TABLE, live_load_demo_timing).
-define(MAX_NAMES, 64).
-define(WINDOW, 4096).

-type stats() :: #{count := non_neg_integer(), mean_ms := float() | null, p50_ms := float() | null,
                   p95_ms := float() | null, max_ms := float() | null, bytes := non_neg_integer()}.
-export_type([stats/0]).

%% @doc Makes the table (the demo supervisor owns it).
-spec table() -> ok.
table() ->
    ?TABLE = ets:new(?TABLE, [named_table, public, set, {write_concurrency, true}]),
    ok.

%% @doc Records one answered event: its name, the monotonic time (native units) the push left the
%% connection process, and the reply frame's size in bytes.
-spec record(binary(), integer(), non_neg_integer()) -> ok.
record(Name0, T0, Bytes) ->
    Us = erlang:convert_time_unit(erlang:monotonic_time() - T0, native, microsecond),
    Name = name(Name0),
    [N, _, _] = ets:update_counter(?TABLE, {sum, Name}, [{2, 1}, {3, Us}, {4, Bytes}], {{sum, Name}, 0, 0, 0}),
    true = ets:insert(?TABLE, {{ring, Name, N rem ?WINDOW}, Us}),
    ok.

%% A name is kept once it has a slot; past ?MAX_NAMES distinct names, `other'.
name(Name) ->
    case ets:member(?TABLE, {name, Name}) of
        true -> Name;
        false ->
            case ets:update_counter(?TABLE, names, 1, {names, 0}) of
                N when N =< ?MAX_NAMES ->
                    ets:insert(?TABLE, {{name, Name}}),
                    Name;
                _ -> <<"other">>
            end
    end.

%% @doc `#{<<"events">> => #{Name => Stats}, <<"all">> => Stats}': times in ms.
-spec summary() -> #{binary() => stats() | #{binary() => stats()}}.
summary() ->
    Names = [N || {{sum, N}, _, _, _} <- ets:tab2list(?TABLE)],
    ByName = maps:from_list([{N, stats([N])} || N <- Names]),
    #{<<"events">> => ByName, <<"all">> => stats(Names)}.

stats(Names) ->
    Sums = [ets:lookup(?TABLE, {sum, N}) || N <- Names],
    Count = lists:sum([C || [{_, C, _, _}] <- Sums]),
    SumUs = lists:sum([S || [{_, _, S, _}] <- Sums]),
    Bytes = lists:sum([B || [{_, _, _, B}] <- Sums]),
    Window = lists:sort([Us || N <- Names, {_, Us} <- ets:match_object(?TABLE, {{ring, N, '_'}, '_'})]),
    #{count => Count, bytes => Bytes,
      mean_ms => case Count of 0 -> null; _ -> SumUs / Count / 1000 end,
      p50_ms => quantile(Window, 0.5), p95_ms => quantile(Window, 0.95),
      max_ms => case Window of [] -> null; _ -> lists:last(Window) / 1000 end}.

quantile([], _) -> null;
quantile(Sorted, Q) ->
    lists:nth(max(1, ceil(Q * length(Sorted))), Sorted) / 1000.

%% @doc Forgets every recorded event.
-spec reset() -> ok.
reset() ->
    true = ets:delete_all_objects(?TABLE),
    ok.
