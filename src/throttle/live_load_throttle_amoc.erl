%% @doc live_load throttle specs on `amoc_throttle' 4.1 (cluster-wide: its processes live on the
%% amoc master), for scenarios run by amoc. amoc is optional: it is called only through
%% module variables, so this module compiles and loads without it.
%%
%% The mapping (see `guides/throttles.md' and `reference/amoc-4.1.md' for the measurements):
%% <ul>
%% <li>`rate' N per Interval and `interarrival' Ms (= 1 per Ms): `#{rate => R, interval => I}'
%%     with the same ratio and the smallest interval of at least 1000 ms. amoc's default 60 s
%%     interval splits the rate over its pool processes and passes in bursts every few seconds;
%%     an interval near 1 s is smooth. More than one pass per millisecond is refused
%%     (`{invalid_throttle, rate, N}'): amoc 4.1.0 hangs callers when a process's delay
%%     rounds to 0 ms.</li>
%% <li>Ramps: `change_rate_gradually' with a step plan (`#{steps, interval}' as is; a
%%     `#{duration => D}' plan as steps of 1 s, because amoc's own 100 ms duration steps starve
%%     while a process's delay exceeds 100 ms). It is started by the node that started the
%%     throttle; the other nodes find it running.</li>
%% <li>`parallelism' N: `#{rate => N, interval => N}' used through `amoc_throttle:run/2': a slot
%%     is a process that amoc counts as running until the user releases it (end of iteration)
%%     or dies, so at most N hold one cluster-wide. (amoc's documented `interval => 0' form lets
%%     exactly one run ever happen in 4.1.0.)</li>
%% </ul>
-module(live_load_throttle_amoc).

-export([config/1]).
-export([start/1]).
-export([stop/1]).
-export([wait/1]).
-export([release/1]).
-export([release_all/0]).

-define(AMOC, amoc_throttle).
-define(HOLDS, {?MODULE, holds}).

%% @doc The `amoc_throttle' configuration of a spec, and its gradual plan (`none' without a ramp).
-spec config(live_load_throttle:spec()) -> {ok, map(), map() | none} | {error, term()}.
config(#{kind := parallelism, max := N}) ->
    {ok, #{rate => N, interval => N}, none};
config(#{kind := interarrival, interarrival := Ms} = Spec) ->
    with_ramp(Spec, smooth(1, Ms));
config(#{kind := rate, rate := 0, interval := I} = Spec) ->
    with_ramp(Spec, {ok, #{rate => 0, interval => I}});
config(#{kind := rate, rate := N, interval := I} = Spec) ->
    with_ramp(Spec, smooth(N, I)).

with_ramp(_Spec, {error, _} = E) -> E;
with_ramp(#{ramp := #{to := To, plan := Plan}} = Spec, {ok, Config}) ->
    {ok, Config, #{throttle => gradual(Spec, To), plan => plan(Plan)}};
with_ramp(_Spec, {ok, Config}) ->
    {ok, Config, none}.

%% N per I ms as the same ratio over the smallest interval >= 1000 ms.
smooth(N, I) ->
    G = gcd(N, I),
    {N1, I1} = {N div G, I div G},
    M = max(1, (1000 + I1 - 1) div I1),
    {Rate, Interval} = {N1 * M, I1 * M},
    case Rate =< Interval of
        true -> {ok, #{rate => Rate, interval => Interval}};
        false -> {error, {invalid_throttle, rate, N}}
    end.

gcd(A, 0) -> A;
gcd(A, B) -> gcd(B, A rem B).

gradual(#{kind := interarrival, interarrival := From}, To) ->
    #{from_interarrival => From, to_interarrival => To};
gradual(#{kind := rate, rate := From, interval := I}, To) when I >= 1000 ->
    %% per second when both ends are at least 1/s, else per the throttle's own interval
    case {From * 1000 div I, To * 1000 div I} of
        {F, T} when F >= 1, T >= 1 -> #{from_rate => F, to_rate => T, interval => 1000};
        _ -> #{from_rate => From, to_rate => To, interval => I}
    end;
gradual(#{kind := rate, rate := From, interval := I}, To) ->
    #{from_rate => From, to_rate => To, interval => I}.

plan(#{steps := S, interval := Ms}) ->
    #{step_count => S, step_interval => Ms};
plan(#{duration := D}) when D >= 1000 ->
    #{step_count => D div 1000, step_interval => 1000};
plan(#{duration := D}) ->
    #{step_count => 1, step_interval => D}.

%% @doc Starts the spec as an `amoc_throttle' (or finds it started by another node).
-spec start(live_load_throttle:spec()) -> ok | {error, term()}.
start(#{name := Name, kind := Kind} = Spec) ->
    case {code:ensure_loaded(?AMOC), config(Spec)} of
        {{module, _}, {ok, Config, Ramp}} ->
            Amoc = ?AMOC,
            case catch Amoc:start(Name, Config) of
                {ok, started} ->
                    persistent_term:put({?MODULE, Name}, Kind),
                    start_ramp(Name, Ramp);
                {ok, already_started} ->
                    persistent_term:put({?MODULE, Name}, Kind),
                    ok;
                {error, Reason} -> {error, {amoc_throttle, Name, Reason}};
                {'EXIT', Reason} -> {error, {amoc_throttle, Name, Reason}}
            end;
        {{error, _}, _} -> {error, {amoc_not_available, amoc_throttle}};
        {_, {error, _} = E} -> E
    end.

start_ramp(_Name, none) -> ok;
start_ramp(Name, Gradual) ->
    Amoc = ?AMOC,
    case Amoc:change_rate_gradually(Name, Gradual) of
        ok -> ok;
        {error, Reason} -> {error, {amoc_throttle, Name, Reason}}
    end.

%% @doc Stops an amoc throttle (callers still waiting exit) and forgets it on this node.
-spec stop(live_load_throttle:name()) -> ok.
stop(Name) ->
    _ = persistent_term:erase({?MODULE, Name}),
    Amoc = ?AMOC,
    _ = (catch Amoc:stop(Name)),
    ok.

%% @doc Waits for a pass; for a parallelism throttle, takes a slot until {@link release/1}.
-spec wait(live_load_throttle:name()) -> ok | {error, {unknown_throttle, term()} | {throttle_stopped, term()}}.
wait(Name) ->
    Amoc = ?AMOC,
    case persistent_term:get({?MODULE, Name}, undefined) of
        undefined -> {error, {unknown_throttle, Name}};
        parallelism -> hold(Amoc, Name);
        _ ->
            case catch Amoc:wait(Name) of
                ok -> ok;
                _ -> {error, {throttle_stopped, Name}}
            end
    end.

hold(Amoc, Name) ->
    Self = self(),
    Ref = make_ref(),
    Holder = fun() ->
                     Mon = monitor(process, Self),
                     Self ! {Ref, held, self()},
                     receive
                         {Ref, release} -> ok;
                         {'DOWN', Mon, process, Self, _} -> ok
                     end
             end,
    case catch Amoc:run(Name, Holder) of
        ok ->
            receive
                {Ref, held, Pid} ->
                    put(?HOLDS, [{Name, Ref, Pid} | holds()]),
                    ok
            end;
        _ -> {error, {throttle_stopped, Name}}
    end.

%% @doc Gives back the slots this process holds on a parallelism throttle.
-spec release(live_load_throttle:name()) -> ok.
release(Name) ->
    {Mine, Others} = lists:partition(fun({N, _, _}) -> N =:= Name end, holds()),
    put(?HOLDS, Others),
    _ = [Pid ! {Ref, release} || {_, Ref, Pid} <- Mine],
    ok.

%% @doc Gives back every slot this process holds.
-spec release_all() -> ok.
release_all() ->
    case erase(?HOLDS) of
        undefined -> ok;
        Holds -> _ = [Pid ! {Ref, release} || {_, Ref, Pid} <- Holds], ok
    end.

holds() ->
    case get(?HOLDS) of
        undefined -> [];
        L -> L
    end.
