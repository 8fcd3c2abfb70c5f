%% @doc Example scenario that is also an amoc scenario: the counter clicks of
%% `live_load_counter_scenario' (open `/counter', click `#inc' `clicks' times, each click's
%% round trip recorded as `liveview.event', check `#count'), with the amoc callbacks from
%% `include/live_load_amoc.hrl'. Self-contained: the CLI compiles only the file it is given.
%%
%% On an amoc master (guides/distributed.md, "Raw amoc"):
%% ```
%% {module, _} = code:ensure_loaded(live_load_counter_amoc),
%% ok = amoc_code_server:add_module(live_load_counter_amoc),
%% {ok, _} = amoc_dist:do(live_load_counter_amoc, 4, [{base_url, <<"http://127.0.0.1:4000">>},
%%                                                    {scenario_duration, 10000}, {clicks, 2}]),
%% {ok, Result} = live_load_amoc:await_result(live_load_counter_amoc, 120000).
%% '''
%% `scenario_duration' defaults to 600000 (10 minutes, as `live_load:run/1'): give a short one,
%% or the await needs a timeout longer than that. `clicks' is this scenario's own setting (a
%% `-required_variable', so `amoc_dist:do/3' accepts it and `AMOC_CLICKS=3' works); through
%% `live_load:run/1', the CLI (`--set clicks=2') or the generic runner it comes in the run's
%% options. live_load's own settings (`base_url', `scenario_duration', ...) are declared by
%% `live_load_amoc_settings'. It needs amoc to compile (the behaviour).
-module(live_load_counter_amoc).
-behaviour(live_load_scenario).

-required_variable(#{name => clicks, description => "clicks on #inc per iteration", default_value => 3}).

-export([config/1]).
-export([run/3]).

%% after the module's attributes: it defines amoc's init/0, start/2, terminate/1
-include_lib("live_load/include/live_load_amoc.hrl").

-spec config(map()) -> map().
config(Opts) ->
    maps:merge(#{base_url => <<"http://127.0.0.1:4000">>, clicks => 3}, Opts).

-spec run(live_load_context:t(), pos_integer(), map()) -> live_load_context:t().
run(Ctx, _UserId, #{base_url := Base, clicks := Clicks}) ->
    C1 = live_load_context:navigate(Ctx, iolist_to_binary([Base, "/counter"])),
    C2 = live_load_context:wait_for_liveview(C1),
    C3 = lists:foldl(fun(_, C) ->
                             live_load_context:wait_for_phx_loading_completion(
                               live_load_context:click(C, <<"#inc">>), click, <<"#inc">>)
                     end, C2, lists:seq(1, Clicks)),
    C4 = live_load_context:inner_text(C3, <<"#count">>, #{as => count}),
    Want = integer_to_binary(Clicks),
    case {live_load_context:error(C4), live_load_context:assigns(C4)} of
        {undefined, #{count := Got}} when Got =/= Want ->
            live_load_context:fail(C4, {unexpected_count, <<"count ", Got/binary, ", expected ", Want/binary>>});
        _ ->
            C4
    end.
