%% live_load:run/1 without a browser: option validation, otp_app discovery, the runner's
%% duration / iteration timeout / halt / fail / crash behaviour, throttles in a run.
%% The end-to-end runs against the demo target with real Chromium are in live_load_run_e2e_SUITE.
-module(live_load_run_SUITE).
-include_lib("common_test/include/ct.hrl").
-include_lib("eunit/include/eunit.hrl").
-compile([export_all, nowarn_export_all]).

all() ->
    [option_errors, otp_app_discovery, config_gets_unconsumed_options, declared_config_keys, duration_bounds_the_run,
     iteration_timeout_kills_and_fails_user, halt_ends_user_cleanly, fail_records_and_continues,
     crash_fails_only_that_user, one_scenario_error_does_not_stop_others, throttle_limits_iterations, parallelism_slot_released_per_iteration,
     user_rate_ramps_users, on_failure_stop_user, stop_interrupts_run].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(live_load),
    Config.

end_per_suite(_Config) ->
    ok.

init_per_testcase(_Case, Config) ->
    flush(),
    Config.

flush() ->
    receive _ -> flush() after 0 -> ok end.

base() ->
    #{browser => false, quiet => true}.

run(Opts) ->
    live_load:run(maps:merge(base(), Opts)).

option_errors() ->
    [{doc, "Every consumed option is validated with a precise error before anything starts."}].
option_errors(_Config) ->
    S = live_load_runner_sleep_scenario,
    H = live_load_runner_halt_scenario,   %% declares no config keys
    Cases = [{#{scenario => S, users => -3}, {invalid_option, users, -3}},
             {#{scenario => S, users => 0}, {invalid_option, users, 0}},
             {#{scenario => S, users => "8"}, {invalid_option, users, "8"}},
             {#{scenario => S, scenario_duration => infinity}, {invalid_option, scenario_duration, infinity}},
             {#{scenario => S, iteration_timeout => infinity}, {invalid_option, iteration_timeout, infinity}},
             {#{scenario => S, iteration_timeout => 1.5}, {invalid_option, iteration_timeout, 1.5}},
             {#{scenario => S, user_rate => 0}, {invalid_option, user_rate, 0}},
             {#{scenario => S, mode => turbo}, {invalid_option, mode, turbo}},
             {#{scenario => S, quiet => yes}, {invalid_option, quiet, yes}},
             {#{scenario => S, browser_connection_opts => []}, {invalid_option, browser_connection_opts, []}},
             {#{scenario => S, browser_connection_adapter => no_such_adapter_mod},
              {invalid_option, browser_connection_adapter, no_such_adapter_mod}},
             {#{scenario => no_such_scenario_mod}, {unknown_scenario, no_such_scenario_mod}},
             {#{scenario => "str"}, {unknown_scenario, "str"}},
             {#{scenario => live_load_runner_not_a_scenario}, {not_a_scenario, live_load_runner_not_a_scenario}},
             {#{scenarios => [S, no_such_scenario_mod]}, {unknown_scenario, no_such_scenario_mod}},
             {#{scenarios => []}, {invalid_option, scenarios, []}},
             {#{otp_app => no_such_app_xyz}, {unknown_application, no_such_app_xyz}},
             {#{users => 1}, {missing_option, scenario}},
             %% checked before the run although it goes on to config/1
             {#{scenario => S, base_url => <<"notaurl">>}, {invalid_option, base_url, <<"notaurl">>}},
             {#{scenario => S, base_url => "ftp://h/"}, {invalid_option, base_url, "ftp://h/"}},
             {#{scenario => S, base_url => <<"http://">>}, {invalid_option, base_url, <<"http://">>}},
             {#{scenario => S, base_url => 42}, {invalid_option, base_url, 42}},
             %% a FLAME backend without a distributed run is refused, not silently ignored
             {#{scenario => S, flame_backend => x}, {option_needs, flame_backend, #{distributed => true}}},
             %% a cluster without a distributed run is refused, not ignored
             {#{scenario => S, cluster_opts => #{}}, {option_needs, cluster_opts, #{distributed => true}}},
             {#{scenario => S, cluster => #{nodes => 2}}, {option_needs, cluster, #{distributed => true}}},
             %% misspelt live_load options (as atoms, or as binaries from the CLI's --set)
             {#{scenario => H, usres => 3}, {unknown_option, usres, #{did_you_mean => [users]}}},
             {#{scenario => S, scenario_duraton => 3}, {unknown_option, scenario_duraton,
                                                        #{did_you_mean => [scenario_duration]}}},
             {#{scenario => S, <<"quite">> => true}, {unknown_option, <<"quite">>, #{did_you_mean => [quiet]}}},
             {#{scenario => S, base_ulr => <<"http://x">>}, {unknown_option, base_ulr, #{did_you_mean => [base_url]}}},
             %% the default browser's options are checked before any browser starts
             {#{scenario => S, browser => true, browser_connection_opts => #{max_users => 0}},
              {invalid_option, browser_connection_opts, #{max_users => 0}}}],
    lists:foreach(fun({Opts, Want}) ->
                          ?assertEqual({Opts, {error, Want}}, {Opts, run(Opts)})
                  end, Cases),
    case code:which(amoc) of
        non_existing ->
            ?assertMatch({error, {amoc_not_available, #{option := distributed}}},
                         run(#{scenario => S, distributed => true})),
            ?assertMatch({error, {amoc_not_available, #{option := engine}}}, run(#{scenario => S, engine => amoc}));
        _ -> ok
    end,
    ?assertEqual({error, {invalid_option, on_failure, later}}, run(#{scenario => S, on_failure => later})),
    ?assertEqual({error, {invalid_option, engine, flame}}, run(#{scenario => S, engine => flame})),
    ?assertEqual({error, {invalid_option, cluster, 2}}, run(#{scenario => S, cluster_opts => 2})),
    ?assertEqual({error, {invalid_option, oops}}, live_load:run([{scenario, S}, oops])),
    ?assertEqual({error, {invalid_options, 42}}, live_load:run(42)).

otp_app_discovery() ->
    [{doc, "otp_app finds every module of the application that implements live_load_scenario, and nothing else; scenario wins over otp_app."}].
otp_app_discovery(Config) ->
    Dir = filename:join(?config(priv_dir, Config), "ebin"),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    App = {application, live_load_example_app,
           [{description, "scenarios"}, {vsn, "1"}, {applications, [kernel, stdlib]},
            {modules, [live_load_runner_sleep_scenario, live_load_runner_halt_scenario,
                       live_load_runner_not_a_scenario]}]},
    ok = file:write_file(filename:join(Dir, "live_load_example_app.app"), io_lib:format("~p.~n", [App])),
    true = code:add_patha(Dir),
    ?assertEqual({ok, [live_load_runner_halt_scenario, live_load_runner_sleep_scenario]},
                 live_load_scenario:discover(live_load_example_app)),
    Results = run(#{otp_app => live_load_example_app, scenario_duration => 300}),
    ?assertEqual([live_load_runner_halt_scenario, live_load_runner_sleep_scenario], lists:sort(maps:keys(Results))),
    ?assertEqual([live_load_runner_halt_scenario],
                 maps:keys(run(#{scenario => live_load_runner_halt_scenario, otp_app => live_load_example_app,
                                 scenario_duration => 300}))),
    ?assertEqual({error, {no_scenarios, stdlib}}, live_load_scenario:discover(stdlib)).

config_gets_unconsumed_options() ->
    [{doc, "config/1 receives the options live_load does not consume, and its result reaches run/3."}].
config_gets_unconsumed_options(_Config) ->
    #{live_load_runner_sleep_scenario := _} =
        run(#{scenario => live_load_runner_sleep_scenario, report => self(), base_url => <<"http://x">>,
              scenario_duration => 200}),
    receive {iteration, 1, 1, Cfg, _} ->
            ?assertEqual(#{report => self(), base_url => <<"http://x">>, sleep_ms => 100}, Cfg)
    after 1000 -> ct:fail(no_iteration)
    end,
    %% far from every known name: scenario config, whatever it is called
    #{live_load_runner_sleep_scenario := R} =
        run(#{scenario => live_load_runner_sleep_scenario, report => self(), password => <<"s3cret">>,
              scenario_duration => 200, users => 1}),
    %% the result records live_load's own options and only the names of the others
    #{<<"run">> := #{<<"options">> := Recorded}} = R,
    ?assertEqual(#{<<"scenario">> => <<"live_load_runner_sleep_scenario">>, <<"users">> => 1,
                   <<"scenario_duration">> => 200, <<"browser">> => false, <<"quiet">> => true,
                   <<"config_keys">> => [<<"password">>, <<"report">>]}, Recorded),
    ?assertEqual(nomatch, binary:match(iolist_to_binary(live_load_result:to_json(R)), <<"s3cret">>)).

declared_config_keys() ->
    [{doc, "A scenario's config_keys/0 extends the did-you-mean check to its own keys; a declared key is never refused."}].
declared_config_keys(_Config) ->
    S = live_load_runner_sleep_scenario,
    ?assertEqual({error, {unknown_option, sleep_msx, #{did_you_mean => [sleep_ms]}}},
                 run(#{scenario => S, sleep_msx => 3})),
    ?assertEqual({error, {unknown_option, reprot, #{did_you_mean => [report]}}},
                 run(#{scenario => S, reprot => 3})),
    ?assertMatch(#{S := #{}}, run(#{scenario => S, user => 1, scenario_duration => 100})).

duration_bounds_the_run() ->
    [{doc, "Users loop until scenario_duration (1 s), finish the iteration in progress and stop; assigns persist across iterations."}].
duration_bounds_the_run(_Config) ->
    T0 = erlang:monotonic_time(millisecond),
    #{live_load_runner_sleep_scenario := R} =
        run(#{scenario => live_load_runner_sleep_scenario, users => 3, scenario_duration => 1000,
              report => self()}),
    Took = erlang:monotonic_time(millisecond) - T0,
    {Ok, Failed, Halted} = iterations(R),
    Ns = collect_n(),
    ct:pal("3 users x 1 s of 100 ms iterations: ~p ok, ~p failed in ~p ms; per user max n ~p",
           [Ok, Failed, Took, Ns]),
    ?assert(Took >= 1000 andalso Took < 3000),
    ?assertEqual({0, 0}, {Failed, Halted}),
    ?assert(Ok >= 3 * 7 andalso Ok =< 3 * 11),
    %% each user counted its iterations 1, 2, 3... in its assigns
    [?assert(N >= 7) || N <- maps:values(Ns)],
    ?assertEqual(#{target => 3, started => 3, failed => 0}, users(R)).

iteration_timeout_kills_and_fails_user() ->
    [{doc, "An iteration sleeping past iteration_timeout is killed, the user is marked failed and runs no more."}].
iteration_timeout_kills_and_fails_user(_Config) ->
    T0 = erlang:monotonic_time(millisecond),
    #{live_load_runner_sleep_scenario := R} =
        run(#{scenario => live_load_runner_sleep_scenario, users => 2, sleep_ms => 5000,
              iteration_timeout => 300, scenario_duration => 10000}),
    Took = erlang:monotonic_time(millisecond) - T0,
    ct:pal("sleep 5 s with iteration_timeout 300 ms: ~p in ~p ms", [iterations(R), Took]),
    ?assert(Took < 3000),
    ?assertEqual({0, 2, 0}, iterations(R)),
    ?assertEqual(#{target => 2, started => 2, failed => 2}, users(R)).

halt_ends_user_cleanly() ->
    [{doc, "A halted context ends that user cleanly: 2 ok + 1 halted iteration per user, no failed user."}].
halt_ends_user_cleanly(_Config) ->
    T0 = erlang:monotonic_time(millisecond),
    #{live_load_runner_halt_scenario := R} =
        run(#{scenario => live_load_runner_halt_scenario, users => 2, scenario_duration => 30000}),
    ?assert(erlang:monotonic_time(millisecond) - T0 < 5000),
    ?assertEqual({4, 0, 2}, iterations(R)),
    ?assertEqual(#{target => 2, started => 2, failed => 0}, users(R)).

fail_records_and_continues() ->
    [{doc, "A failed context is recorded and the next iteration starts fresh with the assigns kept."}].
fail_records_and_continues(_Config) ->
    #{live_load_runner_fail_scenario := R} =
        run(#{scenario => live_load_runner_fail_scenario, scenario_duration => 1000, report => self()}),
    Seen = collect_iterations([]),
    {Ok, Failed, 0} = iterations(R),
    ct:pal("fail every odd iteration for 1 s: ~p ok, ~p failed; n seen ~p", [Ok, Failed, Seen]),
    ?assert(Failed >= 3),
    ?assert(abs(Ok - Failed) =< 1),
    %% assigns kept: n counts up through failures
    ?assertEqual(lists:seq(1, length(Seen)), Seen),
    ?assertEqual(#{target => 1, started => 1, failed => 0}, users(R)).

crash_fails_only_that_user() ->
    [{doc, "A crash in run/3 fails that user only; the others finish their run."}].
crash_fails_only_that_user(_Config) ->
    #{live_load_runner_crash_scenario := R} =
        run(#{scenario => live_load_runner_crash_scenario, users => 3, scenario_duration => 500}),
    {Ok, 1, 0} = iterations(R),
    ?assert(Ok >= 4),
    ?assertEqual(#{target => 3, started => 3, failed => 1}, users(R)).

one_scenario_error_does_not_stop_others() ->
    [{doc, "Scenarios run one after another; one scenario's error does not stop the next."}].
one_scenario_error_does_not_stop_others(_Config) ->
    R = run(#{scenarios => [live_load_runner_badconfig_scenario, live_load_runner_halt_scenario]}),
    ?assertMatch(#{live_load_runner_badconfig_scenario := {error, {config_failed, {error, bad_config, _}}}}, R),
    ?assertEqual({2, 0, 1}, iterations(maps:get(live_load_runner_halt_scenario, R))).

throttle_limits_iterations() ->
    [{doc, "A scenario's throttle (600/min = 10/s) bounds the iterations of 4 users over 2 s to about 20, and is stopped after the run."}].
throttle_limits_iterations(_Config) ->
    #{live_load_runner_throttled_scenario := R} =
        run(#{scenario => live_load_runner_throttled_scenario, users => 4, scenario_duration => 2000}),
    {Ok, 0, 0} = iterations(R),
    ct:pal("4 users, throttle 10/s, 2 s: ~p iterations", [Ok]),
    ?assert(Ok >= 18 andalso Ok =< 24),
    ?assertEqual({error, {unknown_throttle, iterations}}, live_load_throttle:info(iterations)).

parallelism_slot_released_per_iteration() ->
    [{doc, "A parallelism(1) slot taken in an iteration is given back when the iteration ends: 3 users take turns, one at a time."}].
parallelism_slot_released_per_iteration(_Config) ->
    #{live_load_runner_parallel_scenario := R} =
        run(#{scenario => live_load_runner_parallel_scenario, users => 3, scenario_duration => 1500,
              report => self()}),
    {Ok, 0, 0} = iterations(R),
    Holds = lists:keysort(3, holders()),
    Users = lists:usort([U || {holder, U, _} <- Holds]),
    Gaps = gaps([T || {holder, _, T} <- Holds]),
    ct:pal("parallelism 1, 3 users, 1.5 s: ~p iterations by users ~p; min gap between holders ~p ms",
           [Ok, Users, lists:min(Gaps)]),
    ?assertEqual([1, 2, 3], Users),
    ?assert(Ok =< 17),
    %% one holder at a time: each next hold starts at least ~100 ms after the previous one
    ?assert(lists:min(Gaps) >= 95).

holders() ->
    receive {holder, _, _} = H -> [H | holders()] after 0 -> [] end.

gaps([A, B | Rest]) -> [B - A | gaps([B | Rest])];
gaps(_) -> [].

user_rate_ramps_users() ->
    [{doc, "user_rate 600/min starts one user every 100 ms: the 5th user's first iteration comes about 400 ms after the 1st."}].
user_rate_ramps_users(_Config) ->
    #{live_load_runner_sleep_scenario := _} =
        run(#{scenario => live_load_runner_sleep_scenario, users => 5, user_rate => 600,
              scenario_duration => 800, report => self(), sleep_ms => 50}),
    Firsts = lists:sort([{U, T} || {U, T} <- first_iterations()]),
    [{1, T1} | _] = Firsts,
    {5, T5} = lists:last(Firsts),
    ct:pal("first iteration times relative to user 1: ~p", [[{U, T - T1} || {U, T} <- Firsts]]),
    ?assert(T5 - T1 >= 350 andalso T5 - T1 =< 1000).

%% --- helpers: the result's run section, atom- or binary-keyed ---

on_failure_stop_user() ->
    [{doc, "on_failure => stop_user ends a user at its first failed iteration (LiveLoad's policy); the default keeps it going."}].
on_failure_stop_user(_Config) ->
    #{live_load_runner_fail_scenario := R} =
        run(#{scenario => live_load_runner_fail_scenario, users => 2, scenario_duration => 1000,
              on_failure => stop_user, report => self()}),
    %% iteration 1 fails (odd): each user stops there
    ?assertEqual({0, 2, 0}, iterations(R)),
    ?assertEqual(#{target => 2, started => 2, failed => 2}, users(R)),
    ?assertEqual(false, get(interrupted, run_section(R))),
    ?assertEqual(<<"local">>, get(engine, run_section(R))).

stop_interrupts_run() ->
    [{doc, "live_load:stop/0 during a 60 s run stops the users within 5 s and returns the partial result with run.interrupted => true."}].
stop_interrupts_run(_Config) ->
    Self = self(),
    spawn_link(fun() -> Self ! {result, run(#{scenario => live_load_runner_sleep_scenario, users => 3,
                                               scenario_duration => 60000})} end),
    timer:sleep(1500),
    T0 = erlang:monotonic_time(millisecond),
    ok = live_load:stop(),
    receive
        {result, #{live_load_runner_sleep_scenario := R}} ->
            Took = erlang:monotonic_time(millisecond) - T0,
            {Ok, 0, 0} = iterations(R),
            Users = get(users, run_section(R)),
            ct:pal("stopped after 1.5 s: result in ~p ms, ~p iterations, users ~p", [Took, Ok, Users]),
            ?assert(Took < 5000),
            ?assert(Ok >= 3),
            ?assertEqual(true, get(interrupted, run_section(R))),
            ?assertEqual(3, get(stopped, Users))
    after 10000 -> ct:fail(no_result_after_stop)
    end.

run_section(#{<<"run">> := Run}) -> Run;
run_section(#{run := Run}) -> Run.

get(K, M) ->
    case M of
        #{K := V} -> V;
        _ -> maps:get(atom_to_binary(K), M)
    end.

iterations(R) ->
    I = get(iterations, run_section(R)),
    {get(ok, I), get(failed, I), get(halted, I)}.

users(R) ->
    U = get(users, run_section(R)),
    #{target => get(target, U), started => get(started, U), failed => get(failed, U)}.

collect_n() ->
    receive {iteration, U, N, _, _} -> maps:merge_with(fun(_, A, B) -> max(A, B) end, #{U => N}, collect_n())
    after 0 -> #{}
    end.

collect_iterations(Acc) ->
    receive {iteration, N} -> collect_iterations([N | Acc]) after 0 -> lists:reverse(Acc) end.

first_iterations() ->
    receive {iteration, U, 1, _, T} -> [{U, T} | first_iterations()];
            {iteration, _, _, _, _} -> first_iterations()
    after 0 -> []
    end.
