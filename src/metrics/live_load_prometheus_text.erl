%% @doc A result (`live_load_result' map) in the Prometheus text exposition format 0.0.4.
%%
%% Names: `live_load_' + the metric name with every character outside `[a-zA-Z0-9_]' made `_'
%% (`liveview.event' -> `live_load_liveview_event'). Families:
%% <ul>
%% <li>`live_load_users_active' (gauge): contexts open on this node.</li>
%% <li>counters: `live_load_<name>_total' (counter, all dimensions), and per dimension key
%%     `live_load_<name>_by_<key>_total{<key>="<value>"}' (rows of different keys overlap, so they
%%     are separate families: summing one never double counts);</li>
%% <li>metrics: `live_load_<name>' (summary over the whole run: quantiles 0.5, 0.9, 0.95, 0.99,
%%     `_sum', `_count'), `live_load_<name>_errors_total' (counter) and
%%     `live_load_<name>_latest{quantile=...}' (gauge: p50, p95, p99 of the latest time bucket
%%     holding values of the metric).</li>
%% </ul>
%% Label values are escaped (`\\', `"', newline).
-module(live_load_prometheus_text).

-export([render/2]).
-export([name/1]).
-export([escape/1]).

%% @doc The exposition text for `Result' and the live figures `Live' (`users_active').
-spec render(map(), #{users_active => integer()}) -> iodata().
render(Result, Live) ->
    Users = family(<<"live_load_users_active">>, gauge, <<"contexts (simulated users) open on this node">>,
                   [{[], maps:get(users_active, Live, 0)}]),
    Counters = [counter(Name, C) || {Name, C} <- lists:sort(maps:to_list(maps:get(<<"counters">>, Result, #{})))],
    Latest = latest(maps:get(<<"time_series">>, Result, #{})),
    Points = maps:get(<<"quantile_points">>, Result, []),
    Metrics = [metric(Name, M, Points, maps:get(Name, Latest, none))
               || {Name, M} <- lists:sort(maps:to_list(maps:get(<<"metrics">>, Result, #{})))],
    [Users, Counters, Metrics].

counter(Name, #{<<"total">> := Total} = C) ->
    Base = name(Name),
    [family(<<Base/binary, "_total">>, counter, [<<"live_load counter ">>, Name], [{[], Total}])
     | [family(<<Base/binary, "_by_", (label_name(K))/binary, "_total">>, counter,
               [<<"live_load counter ">>, Name, <<" by ">>, K],
               [{[{label_name(K), V}], N} || {V, N} <- lists:sort(maps:to_list(Values))])
        || {K, Values} <- lists:sort(maps:to_list(maps:get(<<"by">>, C, #{})))]].

metric(Name, M, Points, Latest) ->
    Base = name(Name),
    Help = case maps:get(<<"description">>, M, <<>>) of
               <<>> -> [<<"live_load metric ">>, Name, <<" (">>, maps:get(<<"unit">>, M, <<"ms">>), <<")">>];
               D -> [D, <<" (">>, maps:get(<<"unit">>, M, <<"ms">>), <<")">>]
           end,
    Qs = maps:get(<<"quantiles">>, M, []),
    Quantiles = [{[{<<"quantile">>, Label}], at(Q, Points, Qs)}
                 || {Label, Q} <- [{<<"0.5">>, 0.5}, {<<"0.9">>, 0.9}, {<<"0.95">>, 0.95}, {<<"0.99">>, 0.99}]],
    Summary = [header(Base, summary, Help),
               [sample(Base, L, V) || {L, V} <- Quantiles],
               sample(<<Base/binary, "_sum">>, [], maps:get(<<"sum">>, M, 0)),
               sample(<<Base/binary, "_count">>, [], maps:get(<<"count">>, M, 0))],
    Errors = family(<<Base/binary, "_errors_total">>, counter, [<<"failed operations of ">>, Name],
                    [{[], maps:get(<<"errors">>, M, 0)}]),
    LatestFamily = case Latest of
                       none -> [];
                       B -> family(<<Base/binary, "_latest">>, gauge,
                                   [Name, <<" in the latest time bucket with values">>],
                                   [{[{<<"quantile">>, L}], maps:get(K, B, null)}
                                    || {L, K} <- [{<<"0.5">>, <<"p50">>}, {<<"0.95">>, <<"p95">>},
                                                  {<<"0.99">>, <<"p99">>}]])
                   end,
    [Summary, Errors, LatestFamily].

%% #{Metric => its figures in the last bucket that holds values of it}
latest(#{<<"buckets">> := Buckets}) ->
    lists:foldl(fun(#{<<"metrics">> := Ms}, Acc) ->
                        maps:merge(Acc, maps:filter(fun(_, #{<<"count">> := C}) -> C > 0 end, Ms))
                end, #{}, Buckets);
latest(_) -> #{}.

at(Q, [P | _], [V | _]) when abs(P - Q) < 1.0e-9 -> V;
at(Q, [_ | Ps], [_ | Vs]) -> at(Q, Ps, Vs);
at(_, _, _) -> null.

family(Name, Type, Help, Samples) ->
    [header(Name, Type, Help), [sample(Name, L, V) || {L, V} <- Samples]].

header(Name, Type, Help) ->
    [<<"# HELP ">>, Name, $\s, help(Help), $\n, <<"# TYPE ">>, Name, $\s, atom_to_binary(Type), $\n].

sample(Name, Labels, Value) ->
    [Name, labels(Labels), $\s, value(Value), $\n].

labels([]) -> [];
labels(Ls) -> [${, lists:join($,, [[K, <<"=\"">>, escape(V), $"] || {K, V} <- Ls]), $}].

value(null) -> <<"NaN">>;
value(N) when is_integer(N) -> integer_to_binary(N);
value(F) when is_float(F) -> float_to_binary(F, [short]).

%% @doc A valid Prometheus metric name for a live_load name.
-spec name(binary()) -> binary().
name(Name) -> <<"live_load_", (sanitize(Name))/binary>>.

label_name(K) ->
    case sanitize(K) of
        <<D, _/binary>> = S when D >= $0, D =< $9 -> <<$_, S/binary>>;
        <<"__", _/binary>> = S -> <<"x", S/binary>>;   %% names starting with __ are reserved
        <<>> -> <<"_">>;
        S -> S
    end.

sanitize(B) ->
    << <<(case (C >= $a andalso C =< $z) orelse (C >= $A andalso C =< $Z) orelse (C >= $0 andalso C =< $9) of
              true -> C;
              false -> $_
          end)>> || <<C>> <= B >>.

%% @doc A label value escaped: backslash, double quote and line feed.
-spec escape(binary()) -> binary().
escape(V) ->
    << <<(case C of $\\ -> <<"\\\\">>; $" -> <<"\\\"">>; $\n -> <<"\\n">>; _ -> <<C>> end)/binary>>
       || <<C>> <= V >>.

help(Text) ->
    binary:replace(binary:replace(iolist_to_binary(Text), <<"\\">>, <<"\\\\">>, [global]),
                   <<"\n">>, <<"\\n">>, [global]).
