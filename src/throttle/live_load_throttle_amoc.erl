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
%%     `#{duration => D}' plan as steps of about 1 s, because amoc's own 100 ms duration steps
%%     starve while a process's delay exceeds 100 ms). Both ends are exact: the rates are
%%     counted per the smallest interval J >= 1000 ms in which both ends are whole numbers
%%     (100 -> 3000 per minute: 2 -> 60 per 1200 ms; interarrival 100 -> 20 ms: 10 -> 50 per
%%     1000 ms), and the throttle starts at the ramp's first rate in that form. amoc steps a
%%     ramp linearly in rate (an interarrival ramp too, where the local engine steps the
%%     milliseconds linearly; both ends are the same).</li>
%% <li>`parallelism' N: `#{rate => N, interval => N}' used through `amoc_throttle:run/2': a slot
%%     is a process that amoc counts as running until the user releases it (end of iteration)
%%     or dies, so at most N hold one cluster-wide. (amoc's documented `interval => 0' form lets
%%     exactly one run ever happen in 4.1.0.)</li>
%% </ul>
%% Every node's `init/0' starts the scenario's specs; the start runs on the amoc master
%% ({@link start_here/1}, through `erpc'), once cluster-wide: the first start creates the
%% throttle (and its ramp) and records the spec there; a later start of the same spec joins
%% it, also after the ramp moved the rate (amoc alone answers `wrong_reconfiguration' to a
%% start whose rate differs from the current one). A different spec under a name already
%% started is refused: `{amoc_throttle, Name, {already_started_as, Spec}}'. So the master needs
%% live_load's code; it has it (`live_load_amoc:await_result/2' runs there).
-module(live_load_throttle_amoc).

-export([config/1]).
-export([start/1]).
-export([start_here/1]).
-export([stop/1]).
-export([stop_here/1]).
-export([wait/1]).
-export([release/1]).
-export([release_all/0]).

-define(AMOC, amoc_throttle).
-define(CALL_MS, 4000).
-define(HOLDS, {?MODULE, holds}).

%% @doc The `amoc_throttle' configuration of a spec, and its gradual plan (`none' without a ramp).
-spec config(live_load_throttle:spec()) -> {ok, map(), map() | none} | {error, term()}.
config(#{kind := parallelism, max := N}) ->
    {ok, #{rate => N, interval => N}, none};
config(#{ramp := #{to := To, plan := Plan}} = Spec) ->
    %% both ends as whole rates over one interval J >= 1000 ms
    {From1, To1, J} = ramp_ends(Spec, To),
    case From1 =< J andalso To1 =< J of
        true ->
            {ok, #{rate => From1, interval => J},
             #{throttle => #{from_rate => From1, to_rate => To1, interval => J}, plan => plan(Plan)}};
        false ->
            {error, {invalid_throttle, rate, max_rate(Spec, To)}}
    end;
config(#{kind := interarrival, interarrival := Ms}) ->
    ok(smooth(1, Ms));
config(#{kind := rate, rate := 0, interval := I}) ->
    {ok, #{rate => 0, interval => I}, none};
config(#{kind := rate, rate := N, interval := I}) ->
    ok(smooth(N, I)).

ok({ok, Config}) -> {ok, Config, none};
ok({error, _} = E) -> E.

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

%% {FromRate, ToRate, J}: the ramp's ends counted per J ms, J the smallest interval of at least
%% 1000 ms in which both are whole numbers.
ramp_ends(#{kind := rate, rate := From, interval := I}, To) ->
    L = lcm(I div gcd(I, From), I div gcd(I, To)),
    J = at_least_1000(L),
    {From * J div I, To * J div I, J};
ramp_ends(#{kind := interarrival, interarrival := From}, To) ->
    J = at_least_1000(lcm(From, To)),
    {J div From, J div To, J}.

at_least_1000(L) -> L * max(1, (1000 + L - 1) div L).

max_rate(#{kind := rate, rate := From}, To) -> max(From, To);
max_rate(#{kind := interarrival, interarrival := From}, To) -> min(From, To).

gcd(A, 0) -> A;
gcd(A, B) -> gcd(B, A rem B).

lcm(A, B) -> A * B div gcd(A, B).

%% amoc plans: `#{steps, interval}' as is; a duration as steps of about 1 s covering it.
plan(#{steps := S, interval := Ms}) ->
    #{step_count => S, step_interval => Ms};
plan(#{duration := D}) ->
    Steps = max(1, D div 1000),
    #{step_count => Steps, step_interval => D div Steps}.

%% @doc Starts the spec as an `amoc_throttle', once cluster-wide (see the module doc).
-spec start(live_load_throttle:spec()) -> ok | {error, term()}.
start(#{name := Name, kind := Kind} = Spec) ->
    case code:ensure_loaded(?AMOC) of
        {module, _} ->
            Master = master(),
            try erpc:call(Master, ?MODULE, start_here, [Spec], ?CALL_MS) of
                ok ->
                    persistent_term:put({?MODULE, Name}, Kind),
                    ok;
                {error, _} = E -> E
            catch
                error:{exception, undef, [{?MODULE, start_here, _, _} | _]} ->
                    {error, {amoc_throttle, Name, {no_live_load_on_master, Master}}};
                Class:Reason ->
                    {error, {amoc_throttle, Name, {Class, Reason}}}
            end;
        {error, _} -> {error, {amoc_not_available, amoc_throttle}}
    end.

%% @doc On the amoc master: starts the spec's throttle (and ramp), or joins the one a node
%% started before with the same spec. Serialised per name.
-spec start_here(live_load_throttle:spec()) -> ok | {error, term()}.
start_here(#{name := Name} = Spec) ->
    global:trans({{?MODULE, Name}, self()}, fun() -> start_locked(Spec) end, [node()]).

start_locked(#{name := Name} = Spec) ->
    Key = {?MODULE, started, Name},
    case config(Spec) of
        {ok, Config, Ramp} ->
            Amoc = ?AMOC,
            case {catch Amoc:start(Name, Config), persistent_term:get(Key, undefined)} of
                {{ok, started}, _} ->
                    persistent_term:put(Key, Spec),
                    case start_ramp(Name, Ramp) of
                        ok -> ok;
                        {error, _} = E ->
                            _ = (catch Amoc:stop(Name)),
                            _ = persistent_term:erase(Key),
                            E
                    end;
                %% started by an earlier node: same spec (its ramp may have moved the rate)
                {{ok, already_started}, S} when S =:= Spec; S =:= undefined -> ok;
                {{error, wrong_reconfiguration}, Spec} -> ok;
                {{ok, already_started}, Other} -> {error, {amoc_throttle, Name, {already_started_as, Other}}};
                {{error, wrong_reconfiguration}, Other} when Other =/= undefined ->
                    {error, {amoc_throttle, Name, {already_started_as, Other}}};
                {{error, Reason}, _} -> {error, {amoc_throttle, Name, Reason}};
                {{'EXIT', Reason}, _} -> {error, {amoc_throttle, Name, Reason}}
            end;
        {error, _} = E -> E
    end.

start_ramp(_Name, none) -> ok;
start_ramp(Name, Gradual) ->
    Amoc = ?AMOC,
    case Amoc:change_rate_gradually(Name, Gradual) of
        ok -> ok;
        {error, Reason} -> {error, {amoc_throttle, Name, Reason}}
    end.

master() ->
    Cluster = amoc_cluster,
    case catch Cluster:master_node() of
        Node when is_atom(Node), Node =/= undefined -> Node;
        _ -> node()
    end.

%% @doc Stops an amoc throttle (callers still waiting exit) and forgets it on this node and
%% on the master.
-spec stop(live_load_throttle:name()) -> ok.
stop(Name) ->
    _ = persistent_term:erase({?MODULE, Name}),
    _ = (catch erpc:call(master(), ?MODULE, stop_here, [Name], ?CALL_MS)),
    ok.

%% @doc On the amoc master: stops the throttle and forgets its spec.
-spec stop_here(live_load_throttle:name()) -> ok.
stop_here(Name) ->
    global:trans({{?MODULE, Name}, self()},
                 fun() ->
                         _ = persistent_term:erase({?MODULE, started, Name}),
                         Amoc = ?AMOC,
                         _ = (catch Amoc:stop(Name)),
                         ok
                 end, [node()]).

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
