%% @doc JUnit XML of a run's results, so CI systems show failures natively: one `<testsuite>'
%% per scenario holding one `<testcase>' for the scenario's iterations (failed when no
%% iteration succeeded, the rule of exit status 1) and one per threshold (failed when the
%% threshold failed, with its observed value). See `guides/ci.md'.
-module(live_load_junit).

-export([render/1]).

%% @doc The JUnit document for `Results' (`live_load_result' maps, or `{error, Reason}' for a
%% scenario that did not run, given as `{Scenario, Result}').
-spec render([{module() | binary(), map() | {error, term()}}]) -> iodata().
render(Results) ->
    Suites = [suite(name(S), R) || {S, R} <- Results],
    Tests = lists:sum([T || {T, _, _} <- Suites]),
    Failures = lists:sum([F || {_, F, _} <- Suites]),
    [<<"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n">>,
     <<"<testsuites name=\"live_load\" tests=\"">>, integer_to_binary(Tests),
     <<"\" failures=\"">>, integer_to_binary(Failures), <<"\">\n">>,
     [Xml || {_, _, Xml} <- Suites],
     <<"</testsuites>\n">>].

name(S) when is_atom(S) -> atom_to_binary(S);
name(S) -> S.

suite(Name, {error, Reason}) ->
    Text = iolist_to_binary(io_lib:format("~0tp", [Reason])),
    {1, 1, [open_suite(Name, 1, 1, 0),
            testcase(Name, <<"run">>, {failure, <<"the scenario did not run">>, Text}),
            <<"  </testsuite>\n">>]};
suite(Name, Result) ->
    Run = maps:get(<<"run">>, Result, #{}),
    Seconds = maps:get(<<"duration_ms">>, Run, 0) / 1000,
    Cases = [iterations_case(Run) | [threshold_case(V) || V <- maps:get(<<"thresholds">>, Result, [])]],
    Failed = length([F || {_, {failure, _, _} = F} <- Cases]),
    {length(Cases), Failed,
     [open_suite(Name, length(Cases), Failed, Seconds),
      [testcase(Name, Case, Outcome) || {Case, Outcome} <- Cases],
      <<"  </testsuite>\n">>]}.

iterations_case(Run) ->
    It = maps:get(<<"iterations">>, Run, #{}),
    Ok = maps:get(<<"ok">>, It, 0),
    Halted = maps:get(<<"halted">>, It, 0),
    Failed = maps:get(<<"failed">>, It, 0),
    Text = iolist_to_binary(io_lib:format("~b ok, ~b failed, ~b halted iterations", [Ok, Failed, Halted])),
    Outcome = case Ok + Halted > 0 of
                  true -> {pass, Text};
                  false -> {failure, <<"no successful iteration">>, Text}
              end,
    {<<"iterations succeed">>, Outcome}.

threshold_case(#{<<"expression">> := E, <<"pass">> := Pass} = V) ->
    Observed = case maps:get(<<"observed">>, V, null) of
                   null -> <<"no value">>;
                   N -> number(N)
               end,
    Text = iolist_to_binary([<<"observed ">>, Observed, <<" ">>, maps:get(<<"unit">>, V, <<>>),
                             case maps:get(<<"reason">>, V, null) of
                                 null -> <<>>;
                                 R -> [<<" (">>, R, <<")">>]
                             end]),
    Outcome = case Pass of
                  true -> {pass, Text};
                  false -> {failure, <<"threshold failed: ", E/binary>>, Text}
              end,
    {<<"threshold ", E/binary>>, Outcome}.

number(N) when is_integer(N) -> integer_to_binary(N);
number(F) -> float_to_binary(F, [{decimals, 3}, compact]).

open_suite(Name, Tests, Failures, Seconds) ->
    [<<"  <testsuite name=\"">>, esc(Name), <<"\" tests=\"">>, integer_to_binary(Tests),
     <<"\" failures=\"">>, integer_to_binary(Failures), <<"\" errors=\"0\" time=\"">>,
     float_to_binary(float(Seconds), [{decimals, 3}]), <<"\">\n">>].

testcase(Suite, Case, {pass, Text}) ->
    [<<"    <testcase classname=\"">>, esc(Suite), <<"\" name=\"">>, esc(Case), <<"\">">>,
     <<"<system-out>">>, esc(Text), <<"</system-out></testcase>\n">>];
testcase(Suite, Case, {failure, Message, Text}) ->
    [<<"    <testcase classname=\"">>, esc(Suite), <<"\" name=\"">>, esc(Case), <<"\">">>,
     <<"<failure message=\"">>, esc(Message), <<"\">">>, esc(Text), <<"</failure></testcase>\n">>].

esc(Text) ->
    << <<(esc_char(C))/binary>> || <<C>> <= iolist_to_binary(Text) >>.

esc_char($&) -> <<"&amp;">>;
esc_char($<) -> <<"&lt;">>;
esc_char($>) -> <<"&gt;">>;
esc_char($") -> <<"&quot;">>;
esc_char($') -> <<"&apos;">>;
esc_char(C) when C < 32, C =/= $\n, C =/= $\t -> <<" ">>;
esc_char(C) -> <<C>>.
