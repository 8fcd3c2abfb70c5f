%% @doc Example scenario: live navigation.
%%
%% Each iteration opens `/nav', waits for the LiveView, follows the live patch link `#patch-next'
%% `patches' times (default 3; the URL changes without a page load, `handle_params' runs on the
%% server), then follows the live redirect `#redirect-counter' (a new LiveView over the same
%% socket) and waits for it to connect. Page-loading start/stop is recorded as
%% `liveview.navigation'. Config: `base_url' (default `http://127.0.0.1:4000'), `patches'.
-module(live_load_navigation_scenario).
-behaviour(live_load_scenario).

-export([config/1]).
-export([run/3]).

-spec config(map()) -> map().
config(Opts) ->
    maps:merge(#{base_url => <<"http://127.0.0.1:4000">>, patches => 3}, Opts).

-spec run(live_load_context:t(), pos_integer(), map()) -> live_load_context:t().
run(Ctx, _UserId, #{base_url := Base, patches := Patches}) ->
    C1 = live_load_context:navigate(Ctx, iolist_to_binary([Base, "/nav"])),
    C2 = live_load_context:wait_for_liveview(C1),
    C3 = lists:foldl(fun(I, C) -> patch(C, I + 1) end, C2, lists:seq(1, Patches)),
    C4 = live_load_context:click(C3, <<"#redirect-counter">>),
    C5 = live_load_context:wait_for_selector(C4, <<"#counter-page">>),
    live_load_context:wait_for_liveview(C5).

%% Follows the patch link and waits until the page number it led to is shown.
patch(Ctx, Page) ->
    C1 = live_load_context:click(Ctx, <<"#patch-next">>),
    C2 = live_load_context:wait_for_selector(C1, iolist_to_binary(["#patch-next[href=\"/nav?page=", integer_to_binary(Page + 1), "\"]"])),
    live_load_context:wait_for_liveview(C2).
