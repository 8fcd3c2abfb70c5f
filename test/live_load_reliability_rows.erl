%% Rows of the `make reliability' table: a test that proves a row appends one line
%% `Row<TAB>pass|FAIL<TAB>what it saw' to `$RELIABILITY_OUT' (`make reliability' gives each suite
%% its own file under _build/reliability/table/ and prints them as one table: mk/reliability.mk).
%% Only full-size rows are written (LIVE_LOAD_RELIABILITY=1): the smoke form of a row (`make test',
%% a plain `rebar3 ct') prints its line in the test log and writes nothing, so it never lands in
%% the table.
-module(live_load_reliability_rows).

-export([append/4, file/0, full/0, minutes/2, root/0]).

%% @doc Appends a row (full size only; always printed to the log); `Pass' is a boolean,
%% `Fmt'/`Args' the numbers seen (one line).
-spec append(iodata(), boolean(), io:format(), [term()]) -> ok.
append(Row, Pass, Fmt, Args) ->
    Seen = re:replace(io_lib:format(Fmt, Args), "[\t\n]+", " ", [global, unicode, {return, binary}]),
    Line = [Row, $\t, case Pass of true -> "pass"; false -> "FAIL" end, $\t, Seen, $\n],
    ct:pal("reliability row~ts: ~ts", [case full() of true -> ""; false -> " (smoke, not written)" end, Line]),
    case full() of
        true ->
            File = file(),
            ok = filelib:ensure_dir(File),
            ok = file:write_file(File, unicode:characters_to_binary(Line), [append]);
        false -> ok
    end.

%% @doc The rows file: $RELIABILITY_OUT, else _build/reliability/rows.tsv of the checkout (which
%% the table does not read).
-spec file() -> file:filename().
file() ->
    case os:getenv("RELIABILITY_OUT") of
        V when V =:= false; V =:= "" -> filename:join([root(), "_build", "reliability", "rows.tsv"]);
        V -> filename:absname(V, root())
    end.

%% @doc True under `make reliability' (LIVE_LOAD_RELIABILITY=1): full-size rows; else the smoke form.
-spec full() -> boolean().
full() -> os:getenv("LIVE_LOAD_RELIABILITY") =:= "1".

%% @doc Minutes from an environment variable (SOAK_MIN, FUZZ_MIN) with a default.
-spec minutes(string(), number()) -> float().
minutes(Var, Default) ->
    case os:getenv(Var) of
        false -> float(Default);
        S -> try list_to_float(S) catch error:badarg -> float(list_to_integer(S)) end
    end.

%% @doc The checkout (LIVE_LOAD_ROOT or the directory above this module that has bin/live_load).
-spec root() -> file:filename().
root() -> live_load_test_checkout:root().
