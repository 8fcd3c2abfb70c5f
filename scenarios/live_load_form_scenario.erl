%% @doc Example scenario: form fill and submit.
%%
%% Each iteration opens `/form', waits for the LiveView, types a query into `#q' (every
%% keystroke-level input sends a `phx-change' "validate" push; its round trip is recorded),
%% picks a kind in `#kind', then submits `#search-form' and waits for the submit to be answered.
%% It checks that `#results' carries the submitted query. Config: `base_url' (default
%% `http://127.0.0.1:4000'), `kinds' (values of `#kind' to pick from).
-module(live_load_form_scenario).
-behaviour(live_load_scenario).

-export([config/1]).
-export([run/3]).

-spec config(map()) -> map().
config(Opts) ->
    maps:merge(#{base_url => <<"http://127.0.0.1:4000">>,
                 kinds => [<<"books">>, <<"music">>, <<"films">>]}, Opts).

-spec run(live_load_context:t(), pos_integer(), map()) -> live_load_context:t().
run(Ctx, UserId, #{base_url := Base, kinds := Kinds}) ->
    N = maps:get(iteration, live_load_context:assigns(Ctx), 0) + 1,
    Query = iolist_to_binary(io_lib:format("user~b-query~b", [UserId, N])),
    Kind = lists:nth(N rem length(Kinds) + 1, Kinds),
    C1 = live_load_context:assign(Ctx, iteration, N),
    C2 = live_load_context:navigate(C1, iolist_to_binary([Base, "/form"])),
    C3 = live_load_context:wait_for_liveview(C2),
    C4 = live_load_context:fill(C3, <<"#q">>, Query),
    C5 = live_load_context:wait_for_phx_loading_completion(C4, change, <<"#q">>),
    C6 = live_load_context:select_option(C5, <<"#kind">>, Kind),
    C7 = live_load_context:wait_for_phx_loading_completion(C6, change, <<"#kind">>),
    C8 = live_load_context:submit_form(C7, <<"#search-form">>),
    C9 = live_load_context:get_attribute(C8, <<"#results">>, <<"data-submitted">>, #{as => submitted}),
    case {live_load_context:error(C9), live_load_context:assigns(C9)} of
        {undefined, #{submitted := Got}} when Got =/= Query ->
            live_load_context:fail(C9, {unexpected_submission, Got});
        _ ->
            C9
    end.
