%% Rows of the `make reliability' table: a test that proves a row appends one line
%% `Row<TAB>pass|FAIL<TAB>what it saw' to `$RELIABILITY_OUT' (default
%% `_build/reliability/rows.tsv' in the checkout). `make reliability' prints them as one table.
-module(live_load_reliability_rows).

-export([append/4, file/0, full/0, minutes/2, root/0]).

%% @doc Appends a row; `Pass' is a boolean, `Fmt'/`Args' the numbers seen (one line).
append(Row, Pass, Fmt, Args) ->
    File = file(),
    ok = filelib:ensure_dir(File),
    Seen = re:replace(io_lib:format(Fmt, Args), "[\t\n]+", " ", [global, unicode, {return, binary}]),
    Line = [Row, $\t, case Pass of true -> "pass"; false -> "FAIL" end, $\t, Seen, $\n],
    ok = file:write_file(File, unicode:characters_to_binary(Line), [append]),
    ct:pal("reliability row: ~ts", [Line]),
    ok.

%% @doc The rows file.
file() ->
    case os:getenv("RELIABILITY_OUT") of
        V when V =:= false; V =:= "" -> filename:join([root(), "_build", "reliability", "rows.tsv"]);
        V -> filename:absname(V, root())
    end.

%% @doc True under `make reliability' (LIVE_LOAD_RELIABILITY=1): full-size rows; else the smoke form.
full() -> os:getenv("LIVE_LOAD_RELIABILITY") =:= "1".

%% @doc Minutes from an environment variable (SOAK_MIN, FUZZ_MIN) with a default.
minutes(Var, Default) ->
    case os:getenv(Var) of
        false -> Default;
        S -> try list_to_float(S) catch error:badarg -> float(list_to_integer(S)) end
    end.

%% @doc The checkout (LIVE_LOAD_ROOT or the directory above this module that has bin/live_load).
root() -> live_load_test_checkout:root().
