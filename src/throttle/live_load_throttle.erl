%% @doc Throttles: limits shared by the users of a scenario.
%%
%% A scenario returns throttle specs from its optional `throttles/1' callback; each node starts
%% them once before its users and stops them after. Inside `run/3' a user calls
%% `live_load_context:throttle(Ctx, Name)', which ends in {@link wait/1}.
%%
%% Rates count **per minute** by default, as amoc's `user_rate' and `amoc_throttle' do.
%% Names are atoms (amoc_throttle's names). Three kinds, built with the functions below:
%% <ul>
%% <li>`rate(Name, N)': N passes per minute; `rate(Name, N, #{interval => Ms})': N per Ms.
%%     Passes are spaced evenly (one every Interval/N ms). The local scheduler never bursts:
%%     after an idle spell the next pass is immediate and the following ones are spaced again;
%%     passes the node gave late under load are caught up at most twice as fast, and no window
%%     of the interval (of 1 s for longer intervals) ever sees more than its share of N (+1 at
%%     its edge).</li>
%% <li>`interarrival(Name, Ms)': one pass every Ms milliseconds.</li>
%% <li>`parallelism(Name, N)': at most N holders at once. A process holds its slot from `wait/1'
%%     until `release/1', the end of its iteration (the user loop calls {@link release_all/0}) or
%%     its death.</li>
%% </ul>
%% `ramp(Spec, To, Plan)' changes a rate or interarrival throttle linearly from its start value to
%% `To', over `#{duration => Ms}' (steps of 100 ms) or `#{steps => S, interval => Ms}'.
%% The ramp starts when the throttle starts. See `guides/throttles.md'.
%%
%% Backends: `local' (this node's `live_load_throttle_server's, the embedded engine) or `amoc'
%% (cluster-wide `amoc_throttle', mapped by `live_load_throttle_amoc'); {@link start_all/2}
%% chooses, and {@link wait/1} finds the throttle wherever it was started on this node.
-module(live_load_throttle).

-export([rate/2]).
-export([rate/3]).
-export([interarrival/2]).
-export([parallelism/2]).
-export([ramp/3]).
-export([validate/1]).
-export([start/1]).
-export([start_all/1]).
-export([start_all/2]).
-export([stop/1]).
-export([stop_all/1]).
-export([stop_all/2]).
-export([wait/1]).
-export([release/1]).
-export([release_all/0]).
-export([run/2]).
-export([info/1]).

-export_type([name/0, spec/0, plan/0]).

-type name() :: atom().
-type plan() :: #{duration := pos_integer()} | #{steps := pos_integer(), interval := pos_integer()}.
-type spec() :: #{name := name(),
                  kind := rate | interarrival | parallelism,
                  rate => non_neg_integer(),
                  interval => pos_integer(),
                  interarrival => pos_integer(),
                  max => pos_integer(),
                  ramp => #{to := non_neg_integer(), plan := plan()}}.

-define(DEFAULT_INTERVAL, 60000).

%% @doc N passes per minute.
-spec rate(name(), non_neg_integer()) -> spec().
rate(Name, N) ->
    rate(Name, N, #{}).

%% @doc N passes per `interval' milliseconds (default 60000: per minute).
-spec rate(name(), non_neg_integer(), #{interval => pos_integer()}) -> spec().
rate(Name, N, Opts) ->
    #{name => Name, kind => rate, rate => N,
      interval => maps:get(interval, Opts, ?DEFAULT_INTERVAL)}.

%% @doc One pass every `Ms' milliseconds.
-spec interarrival(name(), pos_integer()) -> spec().
interarrival(Name, Ms) ->
    #{name => Name, kind => interarrival, interarrival => Ms}.

%% @doc At most `N' concurrent holders.
-spec parallelism(name(), pos_integer()) -> spec().
parallelism(Name, N) ->
    #{name => Name, kind => parallelism, max => N}.

%% @doc Ramp a rate (passes per interval) or an interarrival (ms) to `To' following `Plan'.
-spec ramp(spec(), non_neg_integer(), plan()) -> spec().
ramp(Spec, To, Plan) ->
    Spec#{ramp => #{to => To, plan => Plan}}.

%% @doc Checks a spec; `{error, {invalid_throttle, Field, Value}}' names what is wrong.
-spec validate(term()) -> ok | {error, {invalid_throttle, atom(), term()}}.
validate(#{name := Name, kind := Kind} = Spec) when is_atom(Name) ->
    check_all(Spec, fields(Kind) ++ [ramp]);
validate(#{name := Name}) ->
    {error, {invalid_throttle, name, Name}};
validate(Other) ->
    {error, {invalid_throttle, spec, Other}}.

fields(rate) -> [rate, interval];
fields(interarrival) -> [interarrival];
fields(parallelism) -> [max];
fields(Other) -> [{kind, Other}].

check_all(_Spec, []) -> ok;
check_all(Spec, [F | Rest]) ->
    case check(F, Spec) of
        ok -> check_all(Spec, Rest);
        {error, _} = E -> E
    end.

check({kind, K}, _) -> {error, {invalid_throttle, kind, K}};
check(rate, #{rate := N}) when is_integer(N), N >= 0 -> ok;
check(interval, #{interval := N}) when is_integer(N), N > 0 -> ok;
check(interarrival, #{interarrival := N}) when is_integer(N), N > 0 -> ok;
check(max, #{max := N}) when is_integer(N), N > 0 -> ok;
check(ramp, #{ramp := _, kind := parallelism} = S) -> {error, {invalid_throttle, ramp, maps:get(ramp, S)}};
check(ramp, #{ramp := #{to := To, plan := Plan}} = S) when is_integer(To), To >= 0 ->
    case {maps:get(kind, S), Plan} of
        {interarrival, _} when To =:= 0 -> {error, {invalid_throttle, ramp, To}};
        {_, #{duration := D}} when is_integer(D), D > 0, map_size(Plan) =:= 1 -> ok;
        {_, #{steps := St, interval := I}} when is_integer(St), St > 0, is_integer(I), I > 0,
                                                map_size(Plan) =:= 2 -> ok;
        _ -> {error, {invalid_throttle, plan, Plan}}
    end;
check(ramp, #{ramp := R}) -> {error, {invalid_throttle, ramp, R}};
check(ramp, _) -> ok;
check(F, Spec) -> {error, {invalid_throttle, F, maps:get(F, Spec, undefined)}}.

%% @doc Starts one throttle on this node.
-spec start(spec()) -> {ok, pid()} | {error, term()}.
start(Spec) ->
    case validate(Spec) of
        ok -> live_load_throttle_sup:start_throttle(Spec);
        {error, _} = E -> E
    end.

%% @doc Starts several throttles on this node; on an error the ones already started are
%% stopped again.
-spec start_all([spec()]) -> ok | {error, term()}.
start_all(Specs) ->
    start_all(Specs, local).

%% @doc {@link start_all/1} on a backend: `local' or `amoc' (`amoc_throttle', cluster-wide; every
%% node may start the same specs, the first start wins).
-spec start_all([spec()], local | amoc) -> ok | {error, term()}.
start_all(Specs, Backend) when is_list(Specs) ->
    case [E || S <- Specs, {error, _} = E <- [validate(S)]] of
        [] -> start_each(Specs, Backend, []);
        [E | _] -> E
    end;
start_all(Other, _Backend) ->
    {error, {invalid_throttle, throttles, Other}}.

start_each([], _Backend, _Started) -> ok;
start_each([Spec | Rest], Backend, Started) ->
    case start_one(Spec, Backend) of
        ok -> start_each(Rest, Backend, [maps:get(name, Spec) | Started]);
        {error, _} = E -> stop_all(Started, Backend), E
    end.

start_one(Spec, local) ->
    case start(Spec) of
        {ok, _} -> ok;
        {error, _} = E -> E
    end;
start_one(Spec, amoc) ->
    live_load_throttle_amoc:start(Spec).

%% @doc Stops a throttle; waiting callers get `{error, {throttle_stopped, Name}}'.
-spec stop(name()) -> ok.
stop(Name) ->
    live_load_throttle_sup:stop_throttle(Name).

-spec stop_all([name()]) -> ok.
stop_all(Names) ->
    stop_all(Names, local).

%% @doc Stops throttles started on a backend.
-spec stop_all([name()], local | amoc) -> ok.
stop_all(Names, local) ->
    lists:foreach(fun stop/1, Names);
stop_all(Names, amoc) ->
    lists:foreach(fun live_load_throttle_amoc:stop/1, Names).

%% @doc Waits for this process's turn. For a parallelism throttle it takes a slot (see the module doc).
-spec wait(name()) -> ok | {error, {unknown_throttle, name()} | {throttle_stopped, name()}}.
wait(Name) ->
    case live_load_throttle_sup:whereis_throttle(Name) of
        undefined -> live_load_throttle_amoc:wait(Name);
        Pid ->
            try gen_server:call(Pid, wait, infinity)
            catch exit:_ -> {error, {throttle_stopped, Name}}
            end
    end.

%% @doc Gives back this process's slot of a parallelism throttle (no-op for other kinds).
-spec release(name()) -> ok.
release(Name) ->
    case live_load_throttle_sup:whereis_throttle(Name) of
        undefined -> live_load_throttle_amoc:release(Name);
        Pid -> gen_server:cast(Pid, {release, self()})
    end.

%% @doc Gives back every slot this process holds (called by the runner after each iteration).
-spec release_all() -> ok.
release_all() ->
    lists:foreach(fun(Pid) -> gen_server:cast(Pid, {release, self()}) end,
                  live_load_throttle_sup:all_throttles()),
    live_load_throttle_amoc:release_all().

%% @doc Runs `Fun' when the throttle lets this process pass (and releases a parallelism slot after).
-spec run(name(), fun(() -> T)) -> {ok, T} | {error, term()}.
run(Name, Fun) ->
    case wait(Name) of
        ok ->
            try {ok, Fun()} after release(Name) end;
        {error, _} = E -> E
    end.

%% @doc Current state of a throttle: kind, current rate/interarrival, passes so far, waiting callers.
-spec info(name()) -> {ok, map()} | {error, {unknown_throttle, name()}}.
info(Name) ->
    case live_load_throttle_sup:whereis_throttle(Name) of
        undefined -> {error, {unknown_throttle, Name}};
        Pid -> {ok, gen_server:call(Pid, info)}
    end.
