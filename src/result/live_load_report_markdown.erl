%% @doc A compact Markdown summary of a result (the map of {@link live_load_result}, or
%% the same read back with {@link live_load_result:from_json/1}): the thresholds (when the run
%% had any), run info, the LiveView events with their three timings and diff size side by side,
%% one table of
%% metrics (count, p50, p90, p95, p99, max, errors) with the top dimension rows under each
%% metric, counters, a per-node table and the most frequent errors.
-module(live_load_report_markdown).

-export([render/1]).
-export([render/2]).

-define(TOP_ROWS, 5).
-define(TOP_ERRORS, 20).
-define(TOP_EVENTS, 20).

%% @doc Render with at most 5 dimension rows per dimension key.
-spec render(live_load_result:result()) -> iodata().
render(Result) ->
    render(Result, #{}).

%% @doc Options: `top_rows' (dimension rows per key, default 5).
-spec render(live_load_result:result(), #{top_rows => non_neg_integer()}) -> iodata().
render(#{<<"run">> := Run} = R, Opts) ->
    Top = maps:get(top_rows, Opts, ?TOP_ROWS),
    Points = maps:get(<<"quantile_points">>, R, []),
    [title(Run),
     thresholds_section(maps:get(<<"thresholds">>, R, [])),
     run_section(Run, maps:get(<<"live_load_version">>, R, null)),
     events_section(maps:get(<<"metrics">>, R, #{}), Points),
     metrics_section(maps:get(<<"metrics">>, R, #{}), Points, Top),
     counters_section(maps:get(<<"counters">>, R, #{})),
     nodes_section(maps:get(<<"nodes">>, R, [])),
     errors_section(maps:get(<<"errors">>, R, []))].

run_section(Run, Version) ->
    Rows = [{<<"started at">>, txt(maps:get(<<"started_at">>, Run, null))},
            {<<"duration">>, seconds(maps:get(<<"duration_ms">>, Run, null))},
            {<<"mode">>, txt(maps:get(<<"mode">>, Run, null))},
            {<<"users">>, pairs(maps:get(<<"users">>, Run, null))},
            {<<"iterations">>, pairs(maps:get(<<"iterations">>, Run, null))},
            {<<"nodes">>, lists:join(<<", ">>, [txt(N) || N <- maps:get(<<"nodes">>, Run, [])])},
            {<<"live_load">>, txt(Version)}],
    [table([<<"">>, <<"">>], [l, l], [[K, V] || {K, V} <- Rows]), $\n].

title(Run) ->
    [<<"# live_load run: ">>, txt(maps:get(<<"scenario">>, Run, null)), <<"\n\n">>].

%% Pass/fail first: what a CI reader looks for.
thresholds_section([]) -> [];
thresholds_section(Verdicts) ->
    Failed = length([V || #{<<"pass">> := false} = V <- Verdicts]),
    Rows = [[case maps:get(<<"pass">>, V, false) of true -> <<"pass">>; false -> <<"**FAIL**">> end,
             [<<"`">>, esc(maps:get(<<"expression">>, V, <<>>)), <<"`">>],
             case maps:get(<<"observed">>, V, null) of
                 null -> esc(txt(maps:get(<<"reason">>, V, null)));
                 O -> [num(O), $\s, unit_text(maps:get(<<"unit">>, V, <<>>)),
                       %% an abort_on_fail threshold that stopped the run says when
                       case maps:get(<<"reason">>, V, null) of
                           null -> [];
                           Why -> [<<" (">>, esc(txt(Why)), <<")">>]
                       end]
             end]
            || V <- Verdicts],
    [<<"## Thresholds: ">>,
     case Failed of
         0 -> [integer_to_binary(length(Verdicts)), <<" passed">>];
         _ -> [integer_to_binary(Failed), <<" of ">>, integer_to_binary(length(Verdicts)), <<" failed">>]
     end, <<"\n\n">>,
     table([<<"Result">>, <<"Threshold">>, <<"Observed">>], [l, l, r], Rows), $\n].

unit_text(<<"percent">>) -> <<"%">>;
unit_text(<<"per_second">>) -> <<"/s">>;
unit_text(<<"count">>) -> <<"">>;
unit_text(U) -> txt(U).

%% Per LiveView event name: the three timings side by side (guides/events.md, "Three timings per
%% event") and the size of the server's reply, busiest events first.
events_section(Metrics, Points) ->
    ByEvent = [maps:get(<<"event">>, maps:get(<<"by">>, maps:get(M, Metrics, #{}), #{}), #{})
               || M <- [<<"liveview.event">>, <<"liveview.wire">>, <<"liveview.input_to_patch">>,
                        <<"liveview.diff_bytes">>]],
    [Page, Wire, Input, Diff] = ByEvent,
    Count = fun(E) -> max(count(maps:get(E, Page, #{})), count(maps:get(E, Wire, #{}))) end,
    Events = lists:sort(fun(A, B) -> {Count(A), B} >= {Count(B), A} end,
                        lists:usort(lists:append([maps:keys(B) || B <- ByEvent]))),
    Pair = fun(By, E) ->
                   case maps:get(E, By, #{}) of
                       #{<<"count">> := N} = Row when N > 0 ->
                           Qs = maps:get(<<"quantiles">>, Row, []),
                           [num(at(0.5, Points, Qs)), <<" / ">>, num(at(0.95, Points, Qs))];
                       _ -> <<"-">>
                   end
           end,
    Rows = [[esc(E), int(Count(E)), Pair(Wire, E), Pair(Page, E), Pair(Input, E), Pair(Diff, E)]
            || E <- lists:sublist(Events, ?TOP_EVENTS)],
    More = case length(Events) > ?TOP_EVENTS of
               true -> [integer_to_binary(length(Events) - ?TOP_EVENTS), <<" more events.\n\n">>];
               false -> []
           end,
    case Events of
        [] -> [];
        _ ->
            [<<"## LiveView events\n\nwire = push frame to reply frame (server + network; faithful mode adds the "
               "browser's frame wait), push->patch = in the page, input->patch = trusted input to patch (faithful "
               "only), diff = reply frame size; ms and bytes, p50 / p95 (guides/events.md).\n\n">>,
             table([<<"Event">>, <<"Count">>, <<"wire">>, <<"push->patch">>, <<"input->patch">>, <<"diff bytes">>],
                   [l, r, r, r, r, r], Rows), $\n, More]
    end.

metrics_section(Metrics, _, _) when map_size(Metrics) =:= 0 ->
    <<"## Metrics\n\nNo values recorded.\n\n">>;
metrics_section(Metrics, Points, Top) ->
    Head = [<<"Metric">>, <<"Unit">>, <<"Count">>, <<"p50">>, <<"p90">>, <<"p95">>,
            <<"p99">>, <<"Max">>, <<"Errors">>],
    Rows = lists:append(
             [[stat_row(esc(Name), Unit, M, Points) | dim_rows(M, Points, Top)]
              || {Name, #{<<"unit">> := Unit} = M} <- lists:sort(maps:to_list(Metrics))]),
    [<<"## Metrics\n\n">>, table(Head, [l, l, r, r, r, r, r, r, r], Rows), $\n].

stat_row(Label, Unit, M, Points) ->
    Qs = maps:get(<<"quantiles">>, M, []),
    [Label, Unit, int(maps:get(<<"count">>, M, 0))]
        ++ [num(at(Q, Points, Qs)) || Q <- [0.5, 0.9, 0.95, 0.99]]
        ++ [num(maps:get(<<"max">>, M, null)), int(maps:get(<<"errors">>, M, 0))].

%% The busiest values of each dimension key, indented under their metric.
dim_rows(M, Points, Top) ->
    By = maps:get(<<"by">>, M, #{}),
    lists:append(
      [[stat_row([<<"&nbsp;&nbsp;">>, esc(K), $=, esc(V)], <<"">>, Row, Points)
        || {V, Row} <- lists:sublist(by_count(Values), Top)]
       ++ case maps:size(Values) > Top of
              true -> [[[<<"&nbsp;&nbsp;">>, esc(K), <<": ">>,
                         integer_to_binary(maps:size(Values) - Top), <<" more">>],
                        <<"">>, <<"">>, <<"">>, <<"">>, <<"">>, <<"">>, <<"">>, <<"">>]];
              false -> []
          end
       || {K, Values} <- lists:sort(maps:to_list(By))]).

by_count(Values) ->
    lists:sort(fun({_, A}, {_, B}) -> count(A) >= count(B) end, maps:to_list(Values)).

count(#{<<"count">> := C}) -> C;
count(_) -> 0.

counters_section(Counters) when map_size(Counters) =:= 0 -> [];
counters_section(Counters) ->
    Rows = [[esc(Name), int(maps:get(<<"total">>, C, 0)), breakdown(maps:get(<<"by">>, C, #{}))]
            || {Name, C} <- lists:sort(maps:to_list(Counters))],
    [<<"## Counters\n\n">>, table([<<"Counter">>, <<"Total">>, <<"By">>], [l, r, l], Rows), $\n].

breakdown(By) ->
    lists:join(<<"; ">>,
               [[esc(K), <<": ">>,
                 lists:join(<<", ">>, [[esc(V), $=, int(N)] || {V, N} <- lists:sublist(
                                                                   lists:sort(fun({_, A}, {_, B}) -> A >= B end,
                                                                              maps:to_list(Vs)), ?TOP_ROWS)])]
                || {K, Vs} <- lists:sort(maps:to_list(By))]).

nodes_section([]) -> [];
nodes_section(Nodes) ->
    Head = [<<"Node">>, <<"Status">>, <<"Metric">>, <<"Count">>, <<"p50">>, <<"p95">>,
            <<"p99">>, <<"Max">>, <<"Errors">>],
    Rows = lists:append([node_rows(N) || N <- Nodes]),
    [<<"## Nodes\n\n">>, table(Head, [l, l, l, r, r, r, r, r, r], Rows), $\n].

%% A node lost mid-run (`down') keeps its figures up to the last pull: its rows show them,
%% with the status, reason and the time it was lost.
node_rows(#{<<"node">> := Node, <<"status">> := Status} = N) ->
    Label = status_label(Status, N),
    case lists:sort(maps:to_list(maps:get(<<"metrics">>, N, #{}))) of
        [] -> [[esc(Node), Label, <<"">>, <<"">>, <<"">>, <<"">>, <<"">>, <<"">>, <<"">>]];
        Metrics ->
            [[esc(Node), Label, esc(Name), int(maps:get(<<"count">>, M, 0))]
             ++ [num(maps:get(P, M, null)) || P <- [<<"p50">>, <<"p95">>, <<"p99">>, <<"max">>]]
             ++ [int(maps:get(<<"errors">>, M, 0))]
             || {Name, M} <- Metrics]
    end.

status_label(<<"ok">>, _N) -> <<"ok">>;
status_label(Status, N) ->
    Reason = [<<": ">>, esc(txt(maps:get(<<"reason">>, N, null)))],
    At = case N of
             #{<<"down_at">> := T} -> [<<" (lost at ">>, esc(txt(T)), <<")">>];
             _ -> []
         end,
    [esc(Status), Reason, At].

errors_section([]) -> [];
errors_section(Errors) ->
    Rows = [[esc(txt(maps:get(<<"kind">>, E, null))), esc(txt(maps:get(<<"message">>, E, null))),
             esc(txt(maps:get(<<"metric">>, E, null))), int(maps:get(<<"count">>, E, 0)),
             txt(maps:get(<<"first_at">>, E, null)), txt(maps:get(<<"last_at">>, E, null))]
            || E <- lists:sublist(Errors, ?TOP_ERRORS)],
    More = case length(Errors) > ?TOP_ERRORS of
               true -> [integer_to_binary(length(Errors) - ?TOP_ERRORS), <<" more kinds of error.\n\n">>];
               false -> []
           end,
    [<<"## Errors\n\n">>,
     table([<<"Kind">>, <<"Message">>, <<"Metric">>, <<"Count">>, <<"First">>, <<"Last">>],
           [l, l, l, r, l, l], Rows), $\n, More].

%%% Formatting

table(Head, Align, Rows) ->
    Sep = [case A of l -> <<"---">>; r -> <<"--:">> end || A <- Align],
    [line(Head), line(Sep) | [line(R) || R <- Rows]].

line(Cells) -> [<<"| ">>, lists:join(<<" | ">>, Cells), <<" |\n">>].

%% The value at quantile Q of a curve aligned to Points.
at(Q, Points, Qs) ->
    case {Points, Qs} of
        {[P | _], [V | _]} when is_number(P), abs(P - Q) < 1.0e-9 -> V;
        {[_ | Ps], [_ | Vs]} -> at(Q, Ps, Vs);
        _ -> null
    end.

num(null) -> <<"-">>;
num(V) when is_integer(V) -> integer_to_binary(V);
num(V) when is_float(V), abs(V) >= 1000 -> float_to_binary(V, [{decimals, 0}]);
num(V) when is_float(V), abs(V) >= 10 -> float_to_binary(V, [{decimals, 1}]);
num(V) when is_float(V) -> float_to_binary(V, [{decimals, 2}]).

int(N) when is_integer(N) -> integer_to_binary(N);
int(_) -> <<"-">>.

seconds(Ms) when is_number(Ms) -> [float_to_binary(Ms / 1000, [{decimals, 1}]), <<" s">>];
seconds(_) -> <<"-">>.

pairs(M) when is_map(M), map_size(M) > 0 ->
    lists:join(<<", ">>, [[esc(K), $\s, txt(V)] || {K, V} <- lists:sort(maps:to_list(M))]);
pairs(_) -> <<"-">>.

txt(null) -> <<"-">>;
txt(B) when is_binary(B) -> B;
txt(N) when is_integer(N) -> integer_to_binary(N);
txt(F) when is_float(F) -> float_to_binary(F, [short]);
txt(T) -> live_load_json:encode(live_load_json:to_term(T)).

%% A table cell: no pipes, no line breaks.
esc(Text) ->
    B = iolist_to_binary(txt(Text)),
    binary:replace(binary:replace(B, <<"|">>, <<"\\|">>, [global]),
                   [<<"\r\n">>, <<"\n">>, <<"\r">>], <<" ">>, [global]).
