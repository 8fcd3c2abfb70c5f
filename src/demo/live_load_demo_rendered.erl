%% @doc Templates of the demo pages and their LiveView wire form (phoenix_live_view 1.2).
%%
%% A page renders a tree built with {@link tpl/1} and {@link for/2}. The tree becomes the
%% "rendered" JSON of a join reply ({@link to_rendered/2}: statics `s', numbered dynamics, keyed
%% comprehensions `k' with the count `kc', `r' on the root, title `t') or, compared with the
%% previous tree, the minimal diff of an event reply ({@link diff/2}): only changed dynamics,
%% statics only where the fingerprint (the statics list) changed, comprehension entries only
%% when changed or new, exactly as Phoenix's change tracking sends them. {@link to_html/1} is
%% the dead render of the same tree.
-module(live_load_demo_rendered).

-export([tpl/1]).
-export([for/2]).
-export([esc/1]).
-export([to_rendered/2]).
-export([diff/2]).
-export([to_html/1]).

-type dyn() :: binary() | tree().
-type tree() :: {tree, [binary()], [dyn()]} | {for, [binary()], [[dyn()]]}.
-type part() :: binary() | {d, binary() | integer() | tree()}.
-export_type([tree/0, part/0]).

%% @doc Builds a template from static binaries and `{d, Dynamic}' parts (dynamic binaries are
%% escaped here, integers printed).
-spec tpl([part()]) -> tree().
tpl(Parts) -> tpl(Parts, <<>>, [], []).

tpl([], S, Ss, Ds) -> {tree, lists:reverse([S | Ss]), lists:reverse(Ds)};
tpl([B | T], S, Ss, Ds) when is_binary(B) -> tpl(T, <<S/binary, B/binary>>, Ss, Ds);
tpl([{d, V} | T], S, Ss, Ds) -> tpl(T, <<>>, [S | Ss], [dyn(V) | Ds]).

dyn(B) when is_binary(B) -> esc(B);
dyn(I) when is_integer(I) -> integer_to_binary(I);
dyn({tree, _, _} = T) -> T;
dyn({for, _, _} = T) -> T.

%% @doc A comprehension: `Fun' renders one item to a {@link tpl/1} tree; all items share its
%% statics.
-spec for(fun((term()) -> tree()), [term()]) -> tree().
for(Fun, Items) ->
    Rows = [Fun(I) || I <- Items],
    Statics = case Rows of
                  [{tree, S, _} | _] -> S;
                  [] -> [<<>>]
              end,
    {for, Statics, [Ds || {tree, _, Ds} <- Rows]}.

%% @doc HTML-escapes text for element content and quoted attribute values.
-spec esc(binary()) -> binary().
esc(B) ->
    case binary:match(B, [<<"&">>, <<"<">>, <<">">>, <<"\"">>, <<"'">>]) of
        nomatch -> B;
        _ -> << <<(esc_char(C))/binary>> || <<C>> <= B >>
    end.

esc_char($&) -> <<"&amp;">>;
esc_char($<) -> <<"&lt;">>;
esc_char($>) -> <<"&gt;">>;
esc_char($") -> <<"&quot;">>;
esc_char($') -> <<"&#39;">>;
esc_char(C) -> <<C>>.

%% @doc The join reply's `rendered': the whole tree with statics, root flag and title.
-spec to_rendered(tree(), binary()) -> map().
to_rendered(Tree, Title) ->
    (full(Tree))#{<<"r">> => 1, <<"t">> => Title}.

full({tree, S, Ds}) -> (dyns(Ds))#{<<"s">> => S};
full({for, S, Rows}) -> #{<<"s">> => S, <<"k">> => keyed(Rows)};
full(B) when is_binary(B) -> B.

dyns(Ds) ->
    {M, _} = lists:foldl(fun(D, {Acc, I}) -> {Acc#{integer_to_binary(I) => full(D)}, I + 1} end,
                         {#{}, 0}, Ds),
    M.

keyed(Rows) ->
    {M, N} = lists:foldl(fun(R, {Acc, I}) -> {Acc#{integer_to_binary(I) => dyns(R)}, I + 1} end,
                         {#{}, 0}, Rows),
    M#{<<"kc">> => N}.

%% @doc The diff from `Old' to `New' as sent in `{diff: ...}'; `#{}' when nothing changed.
-spec diff(tree(), tree()) -> map().
diff(Old, New) ->
    case d(Old, New) of
        none -> #{};
        M when is_map(M) -> M
    end.

d(Same, Same) -> none;
d({tree, S, ODs}, {tree, S, NDs}) when length(ODs) =:= length(NDs) -> dyn_diff(ODs, NDs);
d({for, S, ORows}, {for, S, NRows}) ->
    Entries = keyed_diff(ORows, NRows, 0, #{}),
    case map_size(Entries) =:= 0 andalso length(ORows) =:= length(NRows) of
        true -> none;
        false -> #{<<"k">> => Entries#{<<"kc">> => length(NRows)}}
    end;
d(_, New) -> full(New).

dyn_diff(ODs, NDs) ->
    {M, _} = lists:foldl(
               fun({O, N}, {Acc, I}) ->
                       case d(O, N) of
                           none -> {Acc, I + 1};
                           V -> {Acc#{integer_to_binary(I) => V}, I + 1}
                       end
               end, {#{}, 0}, lists:zip(ODs, NDs)),
    case map_size(M) of 0 -> none; _ -> M end.

keyed_diff(_, [], _, Acc) -> Acc;
keyed_diff([O | OT], [N | NT], I, Acc) ->
    Acc1 = case dyn_diff(O, N) of
               none -> Acc;
               V -> Acc#{integer_to_binary(I) => V}
           end,
    keyed_diff(OT, NT, I + 1, Acc1);
keyed_diff([], [N | NT], I, Acc) ->
    keyed_diff([], NT, I + 1, Acc#{integer_to_binary(I) => dyns(N)}).

%% @doc The dead (HTTP) render of a tree.
-spec to_html(tree()) -> iodata().
to_html({tree, S, Ds}) -> interleave(S, Ds);
to_html({for, S, Rows}) -> [interleave(S, R) || R <- Rows].

interleave([S], []) -> [S];
interleave([S | ST], [D | DT]) -> [S, html_dyn(D) | interleave(ST, DT)].

html_dyn(B) when is_binary(B) -> B;
html_dyn(T) -> to_html(T).
