%% @doc Option names and URLs checked before a run starts: misspelt names ("did you mean") and
%% the `base_url' check. Used by `live_load_options'.
%%
%% A name is misspelt when it is not a known name but within edit distance 2 of one; known names
%% are live_load's options plus the keys a scenario declares with the optional `config_keys/0'.
%% Names farther from every known one are scenario config, as before.
-module(live_load_option_names).

-export([misspelt/2]).
-export([declared/1]).
-export([absolute_http_url/1]).
-export([distance/2]).

-define(MAX_DISTANCE, 2).

%% @doc `[{Name, Close}]' for every name of `Names' that is not in `Known' but within edit
%% distance 2 of a known name (`Close': those known names, nearest first).
-spec misspelt([term()], [atom()]) -> [{term(), [atom()]}].
misspelt(Names, Known) ->
    [{Name, Close} || Name <- lists:sort(Names), not lists:member(Name, Known),
                      Close <- [close(text(Name), Known)], Close =/= []].

close(none, _Known) -> [];
close(Text, Known) ->
    Scored = [{distance(Text, atom_to_list(K)), K} || K <- lists:usort(Known)],
    [K || {D, K} <- lists:sort(Scored), D =< ?MAX_DISTANCE].

%% the CLI's --set keys arrive as binaries when the atom does not exist
text(A) when is_atom(A) -> atom_to_list(A);
text(B) when is_binary(B) ->
    case unicode:characters_to_list(B) of L when is_list(L) -> L; _ -> none end;
text(_) -> none.

%% @doc The config keys the scenarios declare with their optional `config_keys/0'.
-spec declared([module()]) -> [atom()].
declared(Scenarios) ->
    lists:usort([K || M <- Scenarios, erlang:function_exported(M, config_keys, 0),
                      K <- keys(M), is_atom(K)]).

keys(M) ->
    try M:config_keys() of L when is_list(L) -> L; _ -> []
    catch _:_ -> []
    end.

%% @doc `true' for an absolute `http' or `https' URL with a host (binary or string).
-spec absolute_http_url(term()) -> boolean().
absolute_http_url(V) when is_binary(V); is_list(V) ->
    try uri_string:parse(V) of
        #{scheme := S, host := H} when H =/= "", H =/= <<>> ->
            lists:member(string:lowercase(unicode:characters_to_list(S)), ["http", "https"]);
        _ -> false
    catch _:_ -> false
    end;
absolute_http_url(_) -> false.

%% @doc Levenshtein distance of two strings.
-spec distance(string(), string()) -> non_neg_integer().
distance(A, B) ->
    First = lists:seq(0, length(B)),
    lists:last(lists:foldl(fun({I, Ca}, Prev) -> row(Ca, B, Prev, [I]) end, First,
                           lists:zip(lists:seq(1, length(A)), A))).

row(_Ca, [], _Prev, Acc) -> lists:reverse(Acc);
row(Ca, [Cb | Bs], [Diag, Up | _] = Prev, [Left | _] = Acc) ->
    Cost = case Ca =:= Cb of true -> 0; false -> 1 end,
    row(Ca, Bs, tl(Prev), [min(min(Up + 1, Left + 1), Diag + Cost) | Acc]).
