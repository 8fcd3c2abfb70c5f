%% @doc The journey of the browser benchmarks, step for step the one of the Playwright baseline
%% (bench/browser/playwright_baseline.js, from the team's ../shared/bench/playwright-baseline):
%% open /counter, wait for the LiveView to connect, 5 x (click #inc, wait for the click's
%% completion), check that #count shows 5, open /form, wait for the LiveView, fill #q with a query
%% unique to the user and iteration, press Enter, wait for the 20th result row of that query.
%% Config: `base_url' (the app with the demo pages).
-module(live_load_bench_journey).
-behaviour(live_load_scenario).

-export([config/1]).
-export([run/3]).

-define(CLICKS, 5).

-spec config(map()) -> map().
config(Opts) ->
    maps:merge(#{base_url => <<"http://127.0.0.1:4000">>}, Opts).

-spec run(live_load_context:t(), pos_integer(), map()) -> live_load_context:t().
run(Ctx, UserId, #{base_url := Base}) ->
    L = live_load_context,
    K = maps:get(iteration, L:assigns(Ctx), 0) + 1,
    Q = iolist_to_binary(io_lib:format("u~b-i~b", [UserId, K])),
    C1 = L:wait_for_liveview(L:navigate(L:assign(Ctx, iteration, K), <<Base/binary, "/counter">>)),
    C2 = lists:foldl(fun(_, C) -> L:wait_for_phx_loading_completion(L:click(C, <<"#inc">>), click, <<"#inc">>) end,
                     C1, lists:seq(1, ?CLICKS)),
    C3 = check_count(L:text_content(C2, <<"#count">>, #{as => count})),
    C4 = L:wait_for_liveview(L:navigate(C3, <<Base/binary, "/form">>)),
    C5 = L:press(L:fill(C4, <<"#q">>, Q), <<"#q">>, <<"Enter">>),
    L:wait_for_selector(C5, <<"#results[data-submitted=\"", Q/binary, "\"] > li:nth-child(20)">>).

check_count(Ctx) ->
    Want = integer_to_binary(?CLICKS),
    case {live_load_context:error(Ctx), live_load_context:assigns(Ctx)} of
        {undefined, #{count := Got}} when Got =/= Want -> live_load_context:fail(Ctx, {count, Got});
        _ -> Ctx
    end.
