%% @doc Example scenario: list append.
%%
%% Each iteration opens `/list' (200 rows), waits for the LiveView, then clicks `#more'
%% `appends' times (default 3); each click appends 50 rows through a keyed comprehension diff,
%% and its round trip (push to patch applied) is recorded as `liveview.event'. It checks that
%% `#item-count' shows the expected row count. Config: `base_url' (default
%% `http://127.0.0.1:4000'), `appends'.
-module(live_load_list_scenario).
-behaviour(live_load_scenario).

-export([config/1]).
-export([run/3]).

-define(INITIAL_ROWS, 200).
-define(ROWS_PER_APPEND, 50).

-spec config(map()) -> map().
config(Opts) ->
    maps:merge(#{base_url => <<"http://127.0.0.1:4000">>, appends => 3}, Opts).

-spec run(live_load_context:t(), pos_integer(), map()) -> live_load_context:t().
run(Ctx, _UserId, #{base_url := Base, appends := Appends}) ->
    C1 = live_load_context:navigate(Ctx, iolist_to_binary([Base, "/list"])),
    C2 = live_load_context:wait_for_liveview(C1),
    C3 = lists:foldl(fun(_, C) -> more(C) end, C2, lists:seq(1, Appends)),
    C4 = live_load_context:inner_text(C3, <<"#item-count">>, #{as => rows}),
    Want = integer_to_binary(?INITIAL_ROWS + Appends * ?ROWS_PER_APPEND),
    case {live_load_context:error(C4), live_load_context:assigns(C4)} of
        {undefined, #{rows := Got}} when Got =/= Want ->
            live_load_context:fail(C4, {unexpected_rows, <<Got/binary, " rows, expected ", Want/binary>>});
        _ ->
            C4
    end.

more(Ctx) ->
    C1 = live_load_context:click(Ctx, <<"#more">>),
    live_load_context:wait_for_phx_loading_completion(C1, click, <<"#more">>).
