%% @doc One throttle: a token scheduler (rate, interarrival, with an optional ramp) or a counting
%% semaphore (parallelism). Started by `live_load_throttle_sup'; used through `live_load_throttle'.
%%
%% Rate scheduling: passes are given at slots spaced by the period P (Interval/Rate); each pass
%% moves the slot on by P. A caller arriving at an empty queue after its slot (an idle spell)
%% restarts the slots from now, so idle time is never saved up. While callers queue, a pass the
%% VM gave late (the node was descheduled) is caught up, but never faster than one pass per P/2
%% and never more than the rate + 1 passes in any window of one interval, or of 1 s when the
%% interval is longer (the last passes are kept to check it): the rate is kept under load and no window sees more than the rate plus
%% the pass at its edge. An interarrival throttle is a rate of one per Ms.
-module(live_load_throttle_server).
-behaviour(gen_server).

-export([start_link/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-record(st, {name :: live_load_throttle:name(),
             kind :: rate | interarrival | parallelism,
             interval = 1000 :: pos_integer(),
             value :: number(),                 %% rate per interval, interarrival ms, or max holders
             period = infinity :: number() | infinity,  %% microseconds between passes
             next :: integer() | undefined,     %% earliest slot for the next pass (us, monotonic)
             queue = queue:new() :: queue:queue({gen_server:from(), reference()}),
             holders = #{} :: #{pid() => reference()},
             timer :: reference() | undefined,
             plan = [] :: [{integer(), number()}],  %% ramp steps: {At us, Value}
             passes = 0 :: non_neg_integer(),
             recent = queue:new() :: queue:queue(integer()),  %% times of the last passes (us)
             window = 1 :: pos_integer(),              %% passes allowed per window
             started :: integer()}).

-spec start_link(live_load_throttle:spec()) -> {ok, pid()} | {error, term()}.
start_link(Spec) ->
    gen_server:start_link(?MODULE, Spec, []).

-spec init(live_load_throttle:spec()) -> {ok, #st{}} | {stop, term()}.
init(#{name := Name, kind := Kind} = Spec) ->
    process_flag(trap_exit, true),
    case live_load_throttle_sup:register_throttle(Name) of
        ok ->
            Now = now_us(),
            Value = initial_value(Spec),
            St0 = #st{name = Name, kind = Kind, interval = maps:get(interval, Spec, 1000),
                      value = Value, started = Now, next = Now},
            St1 = St0#st{period = period(St0, Value), window = window(St0, Value),
                         plan = plan(Spec, Value, Now)},
            {ok, arm_ramp(St1)};
        {error, Reason} ->
            {stop, Reason}
    end.

initial_value(#{kind := rate, rate := R}) -> R;
initial_value(#{kind := interarrival, interarrival := Ms}) -> Ms;
initial_value(#{kind := parallelism, max := N}) -> N.

period(#st{kind = rate}, 0) -> infinity;
period(#st{kind = rate}, 0.0) -> infinity;
period(#st{kind = rate, interval = I}, R) -> I * 1000 / R;
period(#st{kind = interarrival}, Ms) -> Ms * 1000;
period(#st{kind = parallelism}, _) -> infinity.

%% Passes allowed in one window (for a rate, one interval but at most 1 s, so a per-minute rate
%% is kept per second too; the interarrival itself otherwise): the rate over the window plus
%% the one pass a window's edge can hold. Counting the edge pass keeps a late timer from
%% pushing every later window back (the lateness would add up over the run).
window(#st{kind = rate, interval = I}, R) -> max(1, ceil(R * min(I, 1000) / I)) + 1;
window(#st{}, _) -> 2.

window_us(#st{kind = rate, interval = I}) -> min(I, 1000) * 1000;
window_us(#st{kind = interarrival, value = Ms}) -> Ms * 1000;
window_us(#st{}) -> 0.

%% A duration plan moves in 100 ms steps (at least one); a steps plan in S steps of Interval ms.
plan(#{ramp := #{to := To, plan := Plan}}, From, Now) ->
    {Steps, StepUs} = case Plan of
                          #{duration := D} -> S = max(1, D div 100), {S, D * 1000 / S};
                          #{steps := S, interval := I} -> {S, I * 1000}
                      end,
    [{Now + round(K * StepUs), From + (To - From) * K / Steps} || K <- lists:seq(1, Steps)];
plan(_, _, _) ->
    [].

-spec handle_call(wait | info, gen_server:from(), #st{}) ->
          {reply, term(), #st{}} | {noreply, #st{}}.
handle_call(wait, {Pid, _} = From, #st{kind = parallelism} = St) ->
    #st{holders = H, value = Max, queue = Q} = St,
    case H of
        #{Pid := _} -> {reply, ok, St};
        _ when map_size(H) < Max ->
            {reply, ok, St#st{holders = H#{Pid => monitor(process, Pid)},
                              passes = St#st.passes + 1}};
        _ -> {noreply, St#st{queue = queue:in({From, monitor(process, Pid)}, Q)}}
    end;
handle_call(wait, {Pid, _} = From, #st{queue = Q0, next = Next} = St) ->
    Now = now_us(),
    %% idle until now: slots missed while nobody waited are not saved up
    Next1 = case queue:is_empty(Q0) andalso Now > Next of
                true -> Now;
                false -> Next
            end,
    Q = queue:in({From, monitor(process, Pid)}, Q0),
    {noreply, serve(St#st{queue = Q, next = Next1})};
handle_call(info, _From, St) ->
    {reply, #{name => St#st.name, kind => St#st.kind, value => St#st.value,
              interval => St#st.interval, passes => St#st.passes,
              waiting => queue:len(St#st.queue), holders => map_size(St#st.holders)}, St}.

-spec handle_cast({release, pid()}, #st{}) -> {noreply, #st{}}.
handle_cast({release, Pid}, St) ->
    {noreply, drop_holder(Pid, St)}.

-spec handle_info(term(), #st{}) -> {noreply, #st{}}.
handle_info({timeout, Ref, tick}, #st{timer = Ref} = St) ->
    {noreply, serve(St#st{timer = undefined})};
handle_info({timeout, _Ref, ramp}, St) ->
    {noreply, ramp_step(St)};
handle_info({'DOWN', _Ref, process, Pid, _}, St) ->
    Q = queue:filter(fun({{P, _}, _}) -> P =/= Pid end, St#st.queue),
    {noreply, drop_holder(Pid, St#st{queue = Q})};
handle_info(_Other, St) ->
    {noreply, St}.

-spec terminate(term(), #st{}) -> ok.
terminate(_Reason, #st{name = Name, queue = Q}) ->
    [gen_server:reply(From, {error, {throttle_stopped, Name}}) || {From, _} <- queue:to_list(Q)],
    live_load_throttle_sup:unregister_throttle(Name).

%% --- rate / interarrival -------------------------------------------------------------------

serve(#st{period = infinity} = St) ->
    St;
serve(#st{queue = Q, next = Next, period = P} = St) ->
    Now = now_us(),
    At = allowed_at(St),
    case queue:out(Q) of
        {empty, _} -> St;
        {{value, {From, Mon}}, Q1} when Now >= At ->
            demonitor(Mon, [flush]),
            gen_server:reply(From, ok),
            arm(St#st{queue = Q1, next = round(Next + P), passes = St#st.passes + 1,
                      recent = remember(Now, St)});
        {{value, _}, _} ->
            arm(St)
    end.

%% The earliest time the next pass may be given: its slot, half a period after the last pass,
%% and one window after the pass `window' passes back.
allowed_at(#st{next = Next, period = P, recent = R, window = W} = St) ->
    Spacing = case queue:peek_r(R) of
                  {value, Last} -> Last + P / 2;
                  empty -> Next
              end,
    Window = case queue:len(R) >= W of
                 true -> element(2, queue:peek(R)) + window_us(St);
                 false -> Next
             end,
    ceil(max(Next, max(Spacing, Window))).

remember(Now, #st{recent = R, window = W}) ->
    trim(queue:in(Now, R), W).

trim(R, W) ->
    case queue:len(R) > W of
        true -> trim(queue:drop(R), W);
        false -> R
    end.

arm(#st{timer = undefined, queue = Q} = St) ->
    case queue:is_empty(Q) of
        true -> St;
        false ->
            AtMs = ceil_div(allowed_at(St), 1000),
            St#st{timer = erlang:start_timer(AtMs, self(), tick, [{abs, true}])}
    end;
arm(St) ->
    St.

ramp_step(#st{plan = [{_, Value} | Rest]} = St) ->
    Period = period(St, Value),
    %% the next slot follows the new period, counted from the last slot given
    Next = case {St#st.period, Period} of
               {_, infinity} -> St#st.next;
               {infinity, _} -> now_us();
               {Old, New} -> round(St#st.next - Old + New)
           end,
    W = window(St, Value),
    St1 = cancel_tick(St#st{value = Value, period = Period, next = Next, plan = Rest,
                            window = W, recent = trim(St#st.recent, W)}),
    arm_ramp(serve(St1));
ramp_step(St) ->
    St.

arm_ramp(#st{plan = [{At, _} | _]} = St) ->
    _ = erlang:start_timer(ceil_div(At, 1000), self(), ramp, [{abs, true}]),
    St;
arm_ramp(St) ->
    St.

cancel_tick(#st{timer = undefined} = St) -> St;
cancel_tick(#st{timer = T} = St) ->
    _ = erlang:cancel_timer(T),
    St#st{timer = undefined}.

%% --- parallelism ---------------------------------------------------------------------------

drop_holder(Pid, #st{holders = H} = St) ->
    case maps:take(Pid, H) of
        {Mon, H1} ->
            demonitor(Mon, [flush]),
            grant(St#st{holders = H1});
        error ->
            St
    end.

grant(#st{queue = Q, holders = H, value = Max} = St) when map_size(H) < Max ->
    case queue:out(Q) of
        {empty, _} -> St;
        {{value, {{Pid, _} = From, Mon}}, Q1} ->
            gen_server:reply(From, ok),
            grant(St#st{queue = Q1, holders = H#{Pid => Mon}, passes = St#st.passes + 1})
    end;
grant(St) ->
    St.

%% --- time ----------------------------------------------------------------------------------

now_us() ->
    erlang:monotonic_time(microsecond).

ceil_div(A, B) ->
    case A rem B of
        0 -> A div B;
        R when R > 0 -> A div B + 1;
        _ -> A div B
    end.
