%% @doc Writes the result files of a command-line run and prints the Markdown summary on stdout.
%%
%% The JSON file always has the one documented shape, `{"format": "live_load.results/1",
%% "results": [Result, ...]}' in run order (`live_load_result:results_to_json/1'; read it back
%% with `live_load_result:read_results/1'), however many scenarios ran. A scenario that returned
%% an error is reported on stderr (`live_load_cli_errors') and left out of the files.
-module(live_load_cli_output).

-export([write/2]).

-spec write([{module(), map() | {error, term()}}], map()) -> ok.
write(Ordered, Cmd) ->
    Verbose = maps:get(verbose, Cmd, false),
    [io:format(standard_error, "live_load: scenario ~p failed: ~ts~n", [M, live_load_cli_errors:format(R, Verbose)])
     || {M, {error, R}} <- Ordered],
    Results = [R || {_, R} <- Ordered, is_map(R)],
    Markdown = [live_load_report_markdown:render(R) || R <- Results],
    maybe_write(json, Cmd, fun() -> live_load_result:results_to_json(Results) end),
    maybe_write(md, Cmd, fun() -> lists:join("\n", Markdown) end),
    maybe_write(html, Cmd, fun() -> html(Results) end),
    io:put_chars(standard_io, lists:join("\n", Markdown)),
    ok.

html([One]) -> live_load_report_html:render(One);
html(Many) -> live_load_report_html:render(Many).

maybe_write(Key, Cmd, Fun) ->
    case Cmd of
        #{Key := File} ->
            case write_file(File, Fun) of
                ok -> io:format(standard_error, "live_load: wrote ~ts~n", [File]);
                {error, R} -> io:format(standard_error, "live_load: ~ts~n",
                                        [live_load_cli_errors:format({write_failed, File, R})])
            end;
        _ -> ok
    end.

write_file(File, Fun) ->
    case filelib:ensure_dir(File) of
        ok -> file:write_file(File, Fun());
        {error, _} = E -> E
    end.
