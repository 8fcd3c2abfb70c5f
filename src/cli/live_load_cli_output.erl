%% @doc Writes the result files of a command-line run and prints the Markdown summary on stdout.
%%
%% One scenario: the JSON file is that scenario's result. Several: a JSON array of results in run
%% order. A scenario that returned an error is reported on stderr and left out of the files.
-module(live_load_cli_output).

-export([write/2]).

-spec write([{module(), map() | {error, term()}}], map()) -> ok.
write(Ordered, Cmd) ->
    [io:format(standard_error, "live_load: scenario ~p failed: ~0tp~n", [M, R])
     || {M, {error, R}} <- Ordered],
    Results = [R || {_, R} <- Ordered, is_map(R)],
    Markdown = [live_load_report_markdown:render(R) || R <- Results],
    maybe_write(json, Cmd, fun() -> json(Results) end),
    maybe_write(md, Cmd, fun() -> lists:join("\n", Markdown) end),
    maybe_write(html, Cmd, fun() -> html(Results) end),
    io:put_chars(standard_io, lists:join("\n", Markdown)),
    ok.

json([One]) -> live_load_result:to_json(One);
json(Many) -> ["[", lists:join(",\n", [live_load_result:to_json(R) || R <- Many]), "]\n"].

html([One]) -> live_load_report_html:render(One);
html(Many) -> live_load_report_html:render(Many).

maybe_write(Key, Cmd, Fun) ->
    case Cmd of
        #{Key := File} ->
            ok = filelib:ensure_dir(File),
            case file:write_file(File, Fun()) of
                ok -> io:format(standard_error, "live_load: wrote ~ts~n", [File]);
                {error, R} -> io:format(standard_error, "live_load: cannot write ~ts: ~p~n", [File, R])
            end;
        _ -> ok
    end.
