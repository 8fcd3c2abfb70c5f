%% @doc The HTML report: one self-contained `.html' file that opens offline.
%%
%% The page is the single-page app built from `assets/report/' into `priv/report/template.html'
%% (all JS and CSS inline). Each result is embedded as `base64(gzip(JSON))' in a
%% `<script type="application/x-live-load-result" data-label="...">' element put where the
%% template has its `<!--LIVE_LOAD_RESULTS-->' placeholder; the page decodes it with
%% `DecompressionStream'. Nothing is fetched when the page opens.
%%
%% A result is the map of `live_load_result' or its JSON text (a binary, e.g. a result file read
%% from disk; a `live_load.results/1' file of several results gives one entry per result). Several results render into one comparison report: the first is the baseline,
%% the others are shown beside it with their change in percent. A malformed or empty result still
%% renders: the page then says what is wrong with it. See `guides/report.md'.
-module(live_load_report_html).

-export([render/1]).
-export([render_file/2]).
-export([template/0]).

-define(PLACEHOLDER, <<"<!--LIVE_LOAD_RESULTS-->">>).

-type result() :: map() | binary().
%% A `live_load_result' map, or the JSON text of a result.
-type labelled() :: {Label :: unicode:chardata(), result()}.
-type input() :: result() | [result() | labelled()].
-export_type([result/0, labelled/0, input/0]).

%% @doc Renders one result, or a list of results (labelled `{Label, Result}' or unlabelled,
%% then called "run 1", "run 2", ...) into one comparison report. Raises `badarg' for a term
%% that is neither a map nor a binary.
-spec render(input()) -> iodata().
render(Input) ->
    [Before, After] = split_template(template()),
    [Before, [embed(Label, Result) || {Label, Result} <- labelled(Input)], After].

%% @doc Renders like {@link render/1} and writes the page to `Path'.
-spec render_file(input(), file:filename_all()) -> ok | {error, {file, file:filename_all(), file:posix() | atom()}}.
render_file(Input, Path) ->
    case file:write_file(Path, render(Input)) of
        ok -> ok;
        {error, Reason} -> {error, {file, Path, Reason}}
    end.

%% @doc The built page template (from `priv/report/template.html').
-spec template() -> binary().
template() ->
    Path = filename:join(priv_dir(), "report/template.html"),
    case file:read_file(Path) of
        {ok, Bin} -> Bin;
        {error, Reason} -> error({report_template_unreadable, Path, Reason})
    end.

labelled(Input) when is_binary(Input) ->
    %% a results file (`live_load.results/1' envelope): one entry per result; anything else
    %% (a result, a legacy array, bad bytes) goes to the page as it is, which says what is wrong
    case live_load_json:decode(Input) of
        {ok, #{<<"format">> := <<"live_load.results/1">>}} ->
            case live_load_result:read_results(Input) of
                {ok, [One]} -> [{<<"run">>, One}];
                {ok, Results} when Results =/= [] -> labelled(Results);
                _ -> [{<<"run">>, Input}]
            end;
        _ -> [{<<"run">>, Input}]
    end;
labelled(Input) when is_map(Input) -> [{<<"run">>, Input}];
labelled(List) when is_list(List) ->
    Labelled = [label(Item) || Item <- List],
    Given = [L || {L, _} <- Labelled],
    %% Unlabelled results are named by their scenario when that tells them apart, else "run N".
    Names = case lists:member(undefined, Given) andalso unique_scenarios([R || {_, R} <- Labelled]) of
                false -> Given;
                Scenarios -> [default(L, S) || {L, S} <- lists:zip(Given, Scenarios)]
            end,
    [{case Name of undefined -> <<"run ", (integer_to_binary(I))/binary>>; _ -> Name end, R}
     || {I, Name, {_, R}} <- lists:zip3(lists:seq(1, length(List)), Names, Labelled)];
labelled(Other) -> error(badarg, [Other]).

label({Label, Result}) when is_map(Result); is_binary(Result) ->
    case unicode:characters_to_binary(Label) of
        Bin when is_binary(Bin) -> {Bin, Result};
        _ -> error(badarg, [{Label, Result}])
    end;
label(Result) when is_map(Result); is_binary(Result) -> {undefined, Result};
label(Other) -> error(badarg, [Other]).

default(undefined, Scenario) -> Scenario;
default(Label, _) -> Label.

unique_scenarios(Results) ->
    Scenarios = [scenario(R) || R <- Results],
    case lists:member(undefined, Scenarios) orelse length(lists:usort(Scenarios)) =/= length(Scenarios) of
        true -> false;
        false -> Scenarios
    end.

scenario(#{<<"run">> := #{<<"scenario">> := S}}) when is_binary(S), S =/= <<>> -> S;
scenario(_) -> undefined.

embed(Label, Result) ->
    Payload = base64:encode(zlib:gzip(json(Result))),
    [<<"<script type=\"application/x-live-load-result\" data-label=\"">>, escape(Label), <<"\">">>,
     Payload, <<"</script>\n">>].

json(Json) when is_binary(Json) -> Json;
json(Result) when is_map(Result) -> iolist_to_binary(live_load_result:to_json(Result)).

split_template(Template) ->
    case binary:split(Template, ?PLACEHOLDER, [global]) of
        [_, _] = Parts -> Parts;
        Parts -> error({report_template_placeholders, length(Parts) - 1})
    end.

escape(Bin) ->
    << <<(escape_char(C))/binary>> || <<C>> <= Bin >>.

escape_char($&) -> <<"&amp;">>;
escape_char($<) -> <<"&lt;">>;
escape_char($>) -> <<"&gt;">>;
escape_char($") -> <<"&quot;">>;
escape_char($') -> <<"&#39;">>;
escape_char(C) -> <<C>>.

priv_dir() ->
    case code:priv_dir(live_load) of
        {error, bad_name} -> filename:join(filename:dirname(filename:dirname(code:which(?MODULE))), "priv");
        Dir -> Dir
    end.
