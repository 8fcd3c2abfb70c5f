%% @doc Reading data files into rows (maps of binary column name to binary value): CSV with a
%% header line (RFC 4180: fields in double quotes may hold commas, line breaks and `""' for a
%% quote; LF or CRLF line ends; a UTF-8 byte order mark is skipped) and JSON lines (one object
%% per line; keys stay binaries, values as decoded). Blank lines are skipped.
-module(live_load_data_csv).

-export([parse_csv/1]).
-export([parse_jsonl/1]).

%% @doc The rows of a CSV text, or `{error, {csv, Line, Why}}'.
-spec parse_csv(binary()) -> {ok, [#{binary() => binary()}]} | {error, {csv, pos_integer(), term()}}.
parse_csv(<<16#EF, 16#BB, 16#BF, Rest/binary>>) -> parse_csv(Rest);
parse_csv(Bin) ->
    case records(Bin, 1, []) of
        {ok, []} -> {error, {csv, 1, no_header}};
        {ok, [{_, Header} | Records]} ->
            case length(lists:usort(Header)) =:= length(Header) of
                false -> {error, {csv, 1, duplicate_column}};
                true -> rows(Header, Records, [])
            end;
        {error, _} = E -> E
    end.

rows(_Header, [], Acc) -> {ok, lists:reverse(Acc)};
rows(Header, [{_, [<<>>]} | Rest], Acc) -> rows(Header, Rest, Acc);   %% blank line
rows(Header, [{_Line, Fields} | Rest], Acc) when length(Fields) =:= length(Header) ->
    rows(Header, Rest, [maps:from_list(lists:zip(Header, Fields)) | Acc]);
rows(Header, [{Line, Fields} | _], _) ->
    {error, {csv, Line, {fields, length(Fields), expected, length(Header)}}}.

%% [{LineOfRecordStart, [Field]}]
records(<<>>, _Line, Acc) -> {ok, lists:reverse(Acc)};
records(Bin, Line, Acc) ->
    case record(Bin, Line, [], <<>>) of
        {ok, Fields, Rest, Next} -> records(Rest, Next, [{Line, Fields} | Acc]);
        {error, _} = E -> E
    end.

%% One record: fields up to an unquoted line end.
record(<<>>, Line, Fields, Field) -> {ok, lists:reverse([Field | Fields]), <<>>, Line};
record(<<"\r\n", Rest/binary>>, Line, Fields, Field) -> {ok, lists:reverse([Field | Fields]), Rest, Line + 1};
record(<<"\n", Rest/binary>>, Line, Fields, Field) -> {ok, lists:reverse([Field | Fields]), Rest, Line + 1};
record(<<",", Rest/binary>>, Line, Fields, Field) -> record(Rest, Line, [Field | Fields], <<>>);
record(<<"\"", Rest/binary>>, Line, Fields, <<>>) -> quoted(Rest, Line, Line, Fields, <<>>);
record(<<C, Rest/binary>>, Line, Fields, Field) -> record(Rest, Line, Fields, <<Field/binary, C>>).

quoted(<<"\"\"", Rest/binary>>, Start, Line, Fields, Field) -> quoted(Rest, Start, Line, Fields, <<Field/binary, $">>);
quoted(<<"\"", Rest/binary>>, _Start, Line, Fields, Field) -> after_quote(Rest, Line, Fields, Field);
quoted(<<"\n", Rest/binary>>, Start, Line, Fields, Field) -> quoted(Rest, Start, Line + 1, Fields, <<Field/binary, $\n>>);
quoted(<<C, Rest/binary>>, Start, Line, Fields, Field) -> quoted(Rest, Start, Line, Fields, <<Field/binary, C>>);
quoted(<<>>, Start, _Line, _Fields, _Field) -> {error, {csv, Start, unterminated_quote}}.

after_quote(<<",", Rest/binary>>, Line, Fields, Field) -> record(Rest, Line, [Field | Fields], <<>>);
after_quote(<<"\r\n", Rest/binary>>, Line, Fields, Field) -> {ok, lists:reverse([Field | Fields]), Rest, Line + 1};
after_quote(<<"\n", Rest/binary>>, Line, Fields, Field) -> {ok, lists:reverse([Field | Fields]), Rest, Line + 1};
after_quote(<<>>, Line, Fields, Field) -> {ok, lists:reverse([Field | Fields]), <<>>, Line};
after_quote(_, Line, _, _) -> {error, {csv, Line, text_after_closing_quote}}.

%% @doc The rows of a JSON lines text, or `{error, {jsonl, Line, Why}}'.
-spec parse_jsonl(binary()) -> {ok, [map()]} | {error, {jsonl, pos_integer(), term()}}.
parse_jsonl(Bin) ->
    Lines = binary:split(Bin, [<<"\r\n">>, <<"\n">>], [global]),
    jsonl(Lines, 1, []).

jsonl([], _N, Acc) -> {ok, lists:reverse(Acc)};
jsonl([L | Rest], N, Acc) ->
    case string:trim(L) of
        <<>> -> jsonl(Rest, N + 1, Acc);
        T ->
            case live_load_json:decode(T) of
                {ok, Row} when is_map(Row) -> jsonl(Rest, N + 1, [Row | Acc]);
                {ok, _} -> {error, {jsonl, N, not_an_object}};
                {error, Why} -> {error, {jsonl, N, Why}}
            end
    end.
