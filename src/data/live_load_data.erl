%% @doc Per-user data (parameterised journeys): a data file loaded once per node, and the row
%% each iteration gets (`live_load_context:data(Ctx)' in `run/3').
%%
%% The run option `data => #{source => "users.csv"}' takes:
%% <ul>
%% <li>`source' (file; `.csv' with a header line, or `.jsonl'/`.ndjson' with one JSON object per
%%     line) or `rows' (a list of maps, given directly);</li>
%% <li>`strategy': `per_user' (default: user N gets row N, the same row every iteration),
%%     `per_iteration' (every iteration takes the next row of the node, cycling) or `random'
%%     (a row drawn per iteration from `seed' (default 1), the user id and the iteration number:
%%     the same run gives the same rows);</li>
%% <li>`cycle' (`per_user' only, default false): with more users than rows, false fails the run
%%     before it starts (`{not_enough_rows, Rows, Users}') and, for a user id past the last row
%%     that still comes (the amoc engine adding users), fails that user's iterations with
%%     `data_exhausted'; true wraps around (user Rows+1 gets row 1).</li>
%% </ul>
%% Rows are maps with binary keys (CSV values are binaries); no atom is made from the file.
%% The rows live in `persistent_term' for the run (read by every user without copying).
-module(live_load_data).

-export([check_spec/1]).
-export([load/1]).
-export([check_users/2]).
-export([row/3]).
-export([unload/1]).

-export_type([feeder/0]).

-type feeder() :: #{key := {module(), reference()}, size := pos_integer(),
                      strategy := per_user | per_iteration | random, seed := integer(),
                      cycle := boolean(), next := atomics:atomics_ref()}.

-define(STRATEGIES, [per_user, per_iteration, random]).

%% @doc `ok' when `Spec' has the shape of the `data' option (the file is read by {@link load/1}).
-spec check_spec(term()) -> ok | {error, {invalid_option, data, term()}}.
check_spec(#{} = Spec) ->
    Known = [source, rows, strategy, seed, cycle],
    case {maps:keys(Spec) -- Known, Spec} of
        {[K | _], _} -> {error, {invalid_option, data, {unknown_key, K}}};
        {[], #{source := _, rows := _}} -> {error, {invalid_option, data, source_and_rows}};
        {[], _} when not (is_map_key(source, Spec) orelse is_map_key(rows, Spec)) ->
            {error, {invalid_option, data, missing_source}};
        {[], _} ->
            Checks = [{strategy, fun(V) -> lists:member(V, ?STRATEGIES) end},
                      {seed, fun erlang:is_integer/1}, {cycle, fun erlang:is_boolean/1},
                      {rows, fun(V) -> is_list(V) andalso V =/= [] andalso lists:all(fun erlang:is_map/1, V) end},
                      {source, fun(V) -> is_list(V) orelse is_binary(V) end}],
            case [{K, maps:get(K, Spec)} || {K, Ok} <- Checks, is_map_key(K, Spec), not Ok(maps:get(K, Spec))] of
                [] -> ok;
                [{K, V} | _] -> {error, {invalid_option, data, {K, V}}}
            end
    end;
check_spec(Other) ->
    {error, {invalid_option, data, Other}}.

%% @doc Reads the rows (once per node) and makes the feeder.
-spec load(map()) -> {ok, feeder()} | {error, {invalid_option, data, term()}}.
load(Spec) ->
    case check_spec(Spec) of
        ok ->
            case rows(Spec) of
                {ok, []} -> {error, {invalid_option, data, no_rows}};
                {ok, Rows} ->
                    Key = {?MODULE, make_ref()},
                    persistent_term:put(Key, list_to_tuple(Rows)),
                    {ok, #{key => Key, size => length(Rows),
                           strategy => maps:get(strategy, Spec, per_user),
                           seed => maps:get(seed, Spec, 1),
                           cycle => maps:get(cycle, Spec, false),
                           next => atomics:new(1, [])}};
                {error, Why} -> {error, {invalid_option, data, Why}}
            end;
        {error, _} = E -> E
    end.

rows(#{rows := Rows}) -> {ok, Rows};
rows(#{source := Source}) ->
    case file:read_file(Source) of
        {ok, Bin} ->
            case string:lowercase(filename:extension(Source)) of
                Ext when Ext =:= ".jsonl"; Ext =:= ".ndjson"; Ext =:= <<".jsonl">>; Ext =:= <<".ndjson">> ->
                    in_file(Source, live_load_data_csv:parse_jsonl(Bin));
                _ -> in_file(Source, live_load_data_csv:parse_csv(Bin))
            end;
        {error, Reason} -> {error, {cannot_read, Source, Reason}}
    end.

in_file(_Source, {ok, _} = Ok) -> Ok;
in_file(Source, {error, {Kind, Line, Why}}) -> {error, {Kind, Source, Line, Why}}.

%% @doc `ok' when the feeder has a row for each of `Users' users (always, except `per_user'
%% without `cycle').
-spec check_users(feeder(), pos_integer()) -> ok | {error, {invalid_option, data, term()}}.
check_users(#{strategy := per_user, cycle := false, size := Size}, Users) when Users > Size ->
    {error, {invalid_option, data, {not_enough_rows, Size, Users}}};
check_users(_, _) -> ok.

%% @doc The row of iteration `N' of user `UserId'.
-spec row(feeder(), pos_integer(), pos_integer()) -> {ok, map()} | {error, {data_exhausted, pos_integer(), pos_integer()}}.
row(#{strategy := per_user, size := Size, cycle := Cycle} = F, UserId, _N) ->
    case UserId =< Size of
        true -> {ok, nth(F, UserId)};
        false when Cycle -> {ok, nth(F, (UserId - 1) rem Size + 1)};
        false -> {error, {data_exhausted, UserId, Size}}
    end;
row(#{strategy := per_iteration, size := Size, next := Next} = F, _UserId, _N) ->
    K = atomics:add_get(Next, 1, 1),
    {ok, nth(F, (K - 1) rem Size + 1)};
row(#{strategy := random, size := Size, seed := Seed} = F, UserId, N) ->
    {I, _} = rand:uniform_s(Size, rand:seed_s(exsss, {Seed, UserId, N})),
    {ok, nth(F, I)}.

nth(#{key := Key}, I) ->
    element(I, persistent_term:get(Key)).

%% @doc Drops the rows (after the run).
-spec unload(feeder()) -> ok.
unload(#{key := Key}) ->
    _ = persistent_term:erase(Key),
    ok.
