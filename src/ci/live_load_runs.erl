%% @doc Saved runs: each scenario's result under a timestamped name in a directory, with an
%% index file listing them in order, so runs can be compared and trended over time.
%%
%% `DIR/<run id>.json' is a results file (`live_load_result:results_to_json/1', one result);
%% the run id is `<UTC start, 20261201T190000Z>-<scenario>' (a counter is appended when taken).
%% `DIR/index.json' is `{"format": "live_load.runs/1", "runs": [Entry, ...]}', oldest first, an
%% entry being `{"id", "file", "scenario", "started_at", "duration_ms", "iterations",
%% "thresholds": "pass" | "fail" | null}'. See `guides/ci.md'.
-module(live_load_runs).

-export([save/2]).
-export([check/1]).
-export([index/1]).
-export([load_dir/1]).
-export([format_error/1]).

-define(INDEX, "index.json").
-define(FORMAT, <<"live_load.runs/1">>).

%% @doc Saves `Result' in `Dir' (created) and appends it to the index; returns the file.
-spec save(file:filename(), map()) -> {ok, file:filename()} | {error, term()}.
save(Dir, Result) ->
    Run = maps:get(<<"run">>, Result, #{}),
    Id0 = iolist_to_binary([stamp(maps:get(<<"started_at">>, Run, null)), "-",
                            safe(maps:get(<<"scenario">>, Run, <<"run">>))]),
    case filelib:ensure_path(Dir) of
        ok ->
            Id = free_id(Dir, Id0, 1),
            File = filename:join(Dir, <<Id/binary, ".json">>),
            case file:write_file(File, live_load_result:results_to_json([Result])) of
                ok ->
                    case index(Dir) of
                        {ok, Index} ->
                            case write_index(Dir, Index ++ [entry(Id, Result)]) of
                                ok -> {ok, binary_to_list(File)};
                                {error, _} = E -> E
                            end;
                        {error, _} = E -> E
                    end;
                {error, Reason} -> {error, {cannot_write, File, Reason}}
            end;
        {error, Reason} -> {error, {cannot_write, Dir, Reason}}
    end.

%% @doc Whether runs can be saved in `Dir' (checked before a run): the directory exists or
%% can be made, and its index, if any, is readable.
-spec check(file:filename()) -> ok | {error, term()}.
check(Dir) ->
    case filelib:ensure_path(Dir) of
        ok ->
            case index(Dir) of
                {ok, _} -> ok;
                {error, _} = E -> E
            end;
        {error, Reason} -> {error, {cannot_write, Dir, Reason}}
    end.

%% @doc The index entries of `Dir' (oldest first); `[]' when there is none yet. An index that is
%% not one (bad JSON, another format, entries without `id' and `file') is
%% `{error, {bad_index, Path, Why}}'.
-spec index(file:filename()) -> {ok, [map()]} | {error, term()}.
index(Dir) ->
    Path = filename:join(Dir, ?INDEX),
    case file:read_file(Path) of
        {ok, Bin} ->
            case live_load_json:decode(Bin) of
                {ok, #{<<"format">> := ?FORMAT, <<"runs">> := Runs}} when is_list(Runs) ->
                    case [E || E <- Runs, not is_map(E) orelse not is_binary(maps:get(<<"id">>, E, null))
                                   orelse not is_binary(maps:get(<<"file">>, E, null))] of
                        [] -> {ok, Runs};
                        [Bad | _] -> {error, {bad_index, Path, {bad_entry, Bad}}}
                    end;
                {ok, #{<<"format">> := Other}} -> {error, {bad_index, Path, {format, Other}}};
                {ok, _} -> {error, {bad_index, Path, not_an_index}};
                {error, Why} -> {error, {bad_index, Path, {json, Why}}}
            end;
        {error, enoent} -> {ok, []};
        {error, Reason} -> {error, {cannot_read, Path, Reason}}
    end.

%% @doc A sentence for this module's errors.
-spec format_error(term()) -> iodata().
format_error({bad_index, Path, Why}) ->
    io_lib:format("~ts is not a runs index (~ts); move it away or repair it: it lists the saved runs as "
                  "{\"format\": \"live_load.runs/1\", \"runs\": [...]}", [Path, index_why(Why)]);
format_error({cannot_read, Path, Reason}) ->
    io_lib:format("cannot read ~ts: ~ts", [Path, file:format_error(Reason)]);
format_error({cannot_write, Path, Reason}) ->
    io_lib:format("cannot write ~ts: ~ts", [Path, file:format_error(Reason)]);
format_error({no_runs, Dir}) ->
    io_lib:format("no saved runs in ~ts (no index.json)", [Dir]);
format_error({bad_result_file, Path, Why}) ->
    io_lib:format("~ts is not a live_load results file: ~0tp", [Path, Why]);
format_error(Other) ->
    io_lib:format("~0tp", [Other]).

index_why({json, Why}) -> io_lib:format("not JSON: ~0tp", [Why]);
index_why({format, F}) -> io_lib:format("format ~0tp", [F]);
index_why(not_an_index) -> "no format live_load.runs/1";
index_why({bad_entry, E}) -> io_lib:format("an entry without id and file: ~0tp", [E]).

%% @doc Every result of the runs indexed in `Dir', oldest first, labelled by run id.
-spec load_dir(file:filename()) -> {ok, [{binary(), map()}]} | {error, term()}.
load_dir(Dir) ->
    case index(Dir) of
        {ok, []} -> {error, {no_runs, Dir}};
        {ok, Entries} ->
            lists:foldr(
              fun(_, {error, _} = E) -> E;
                 (#{<<"id">> := Id, <<"file">> := F}, {ok, Acc}) ->
                      Path = filename:join(Dir, F),
                      case file:read_file(Path) of
                          {ok, Bin} ->
                              case live_load_result:read_results(Bin) of
                                  {ok, [R | _]} -> {ok, [{Id, R} | Acc]};
                                  {ok, []} -> {ok, Acc};
                                  {error, Why} -> {error, {bad_result_file, Path, Why}}
                              end;
                          {error, Why} -> {error, {cannot_read, Path, Why}}
                      end
              end, {ok, []}, Entries);
        {error, _} = E -> E
    end.

entry(Id, Result) ->
    Run = maps:get(<<"run">>, Result, #{}),
    Thresholds = case maps:find(<<"thresholds">>, Result) of
                     error -> null;
                     {ok, Vs} ->
                         case lists:all(fun(#{<<"pass">> := P}) -> P end, Vs) of
                             true -> <<"pass">>;
                             false -> <<"fail">>
                         end
                 end,
    #{<<"id">> => Id, <<"file">> => <<Id/binary, ".json">>,
      <<"scenario">> => maps:get(<<"scenario">>, Run, null),
      <<"started_at">> => maps:get(<<"started_at">>, Run, null),
      <<"duration_ms">> => maps:get(<<"duration_ms">>, Run, null),
      <<"iterations">> => maps:get(<<"iterations">>, Run, null),
      <<"thresholds">> => Thresholds}.

%% Written beside and renamed: a reader never sees half an index.
write_index(Dir, Entries) ->
    Path = filename:join(Dir, ?INDEX),
    Tmp = Path ++ ".tmp",
    Json = live_load_json:encode(#{<<"format">> => ?FORMAT, <<"runs">> => Entries}),
    case file:write_file(Tmp, [Json, $\n]) of
        ok ->
            case file:rename(Tmp, Path) of
                ok -> ok;
                {error, Reason} -> {error, {cannot_write, Path, Reason}}
            end;
        {error, Reason} -> {error, {cannot_write, Tmp, Reason}}
    end.

free_id(Dir, Id, N) ->
    Candidate = case N of
                    1 -> Id;
                    _ -> <<Id/binary, "-", (integer_to_binary(N))/binary>>
                end,
    case filelib:is_file(filename:join(Dir, <<Candidate/binary, ".json">>)) of
        true -> free_id(Dir, Id, N + 1);
        false -> Candidate
    end.

%% "2026-12-01T19:00:00.123Z" -> "20261201T190000Z"
stamp(Iso) when is_binary(Iso), byte_size(Iso) >= 19 ->
    <<Y:4/binary, "-", Mo:2/binary, "-", D:2/binary, "T", H:2/binary, ":", Mi:2/binary, ":", S:2/binary, _/binary>> = Iso,
    <<Y/binary, Mo/binary, D/binary, "T", H/binary, Mi/binary, S/binary, "Z">>;
stamp(_) ->
    stamp(list_to_binary(calendar:system_time_to_rfc3339(erlang:system_time(second), [{offset, "Z"}]))).

%% A file-name-safe scenario name.
safe(null) -> <<"run">>;
safe(Name) when is_binary(Name) ->
    << <<(case (C >= $a andalso C =< $z) orelse (C >= $A andalso C =< $Z) orelse (C >= $0 andalso C =< $9)
                    orelse C =:= $_ orelse C =:= $. of
              true -> C;
              false -> $_
          end)>> || <<C>> <= Name >>;
safe(_) -> <<"run">>.
