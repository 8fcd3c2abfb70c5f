%% @doc Example scenario: sign in with per-user data.
%%
%% Each iteration opens `/login', fills `#username' and `#password' from the iteration's data
%% row (`live_load_context:data(Ctx)': columns `username' and `password'), submits
%% `#login-form' and checks that `#login-status' says this user is signed in. Run it with a data
%% file, one row per user:
%% `bin/live_load run scenarios/live_load_login_scenario.erl --users 4 --duration 20s --data users.csv'
%% (the demo target's accounts: `live_load_demo_login:password/1'). Config: `base_url',
%% `iterations' (default `infinity'): a user that has run that many iterations halts at the start
%% of its next one (an iteration counted `halted') and ends, so a run of N users signs in exactly
%% N x `iterations' times however long their browsers take to start.
-module(live_load_login_scenario).
-behaviour(live_load_scenario).

-export([config/1]).
-export([run/3]).

-spec config(map()) -> map().
config(Opts) ->
    maps:merge(#{base_url => <<"http://127.0.0.1:4000">>, iterations => infinity}, Opts).

-spec run(live_load_context:t(), pos_integer(), map()) -> live_load_context:t().
run(Ctx, UserId, #{iterations := Max} = Config) ->
    Done = maps:get(iterations_done, live_load_context:assigns(Ctx), 0),
    case is_integer(Max) andalso Done >= Max of
        true -> live_load_context:halt(Ctx);
        false -> sign_in(live_load_context:assign(Ctx, iterations_done, Done + 1), UserId, Config)
    end.

sign_in(Ctx, _UserId, #{base_url := Base}) ->
    case live_load_context:data(Ctx) of
        #{<<"username">> := User, <<"password">> := Password} ->
            C1 = live_load_context:navigate(Ctx, iolist_to_binary([Base, "/login"])),
            C2 = live_load_context:wait_for_liveview(C1),
            C3 = live_load_context:fill(C2, <<"#username">>, User),
            C4 = live_load_context:fill(C3, <<"#password">>, Password),
            C5 = live_load_context:submit_form(C4, <<"#login-form">>),
            C6 = live_load_context:get_attribute(C5, <<"#login-status">>, <<"data-user">>, #{as => signed_in}),
            case {live_load_context:error(C6), live_load_context:assigns(C6)} of
                {undefined, #{signed_in := Got}} when Got =/= User ->
                    live_load_context:fail(C6, {not_signed_in, <<"signed in as '", Got/binary, "', expected ", User/binary>>});
                _ -> C6
            end;
        Other ->
            live_load_context:fail(Ctx, {no_credentials, iolist_to_binary(io_lib:format("data row ~0tp", [Other]))})
    end.
