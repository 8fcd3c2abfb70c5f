%% @doc Example scenario: counter clicks.
%%
%% Each iteration opens `/counter', waits for the LiveView to connect, clicks `#inc' `clicks'
%% times (default 5), waiting each time for the click's round trip (push to patch, recorded as
%% `liveview.event'), then checks that `#count' shows the number of clicks (a fresh page mounts
%% at 0). Config: `base_url' (default `http://127.0.0.1:4000'; the CLI's `--base-url'),
%% `clicks'. Runs against the demo target or any LiveView app with such a page:
%% `bin/live_load run scenarios/live_load_counter_scenario.erl --users 8 --duration 60s'.
-module(live_load_counter_scenario).
-behaviour(live_load_scenario).

-export([config/1]).
-export([run/3]).

-spec config(map()) -> map().
config(Opts) ->
    maps:merge(#{base_url => <<"http://127.0.0.1:4000">>, clicks => 5}, Opts).

-spec run(live_load_context:t(), pos_integer(), map()) -> live_load_context:t().
run(Ctx, _UserId, #{base_url := Base, clicks := Clicks}) ->
    C1 = live_load_context:navigate(Ctx, iolist_to_binary([Base, "/counter"])),
    C2 = live_load_context:wait_for_liveview(C1),
    C3 = lists:foldl(fun(_, C) -> click_inc(C) end, C2, lists:seq(1, Clicks)),
    C4 = live_load_context:inner_text(C3, <<"#count">>, #{as => count}),
    check_count(C4, integer_to_binary(Clicks)).

click_inc(Ctx) ->
    C1 = live_load_context:click(Ctx, <<"#inc">>),
    live_load_context:wait_for_phx_loading_completion(C1, click, <<"#inc">>).

%% A wrong count means a lost or misapplied patch: fail the iteration (only when the steps ran).
check_count(Ctx, Want) ->
    case {live_load_context:error(Ctx), live_load_context:assigns(Ctx)} of
        {undefined, #{count := Got}} when Got =/= Want ->
            live_load_context:fail(Ctx, {unexpected_count, <<"count ", Got/binary, ", expected ", Want/binary>>});
        _ ->
            Ctx
    end.
