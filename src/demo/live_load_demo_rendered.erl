%% @doc Templates of the demo pages and their LiveView wire form, in the format of
%% phoenix_live_view 1.2 or 0.20 (the target's `liveview' option).
%%
%% A page renders a tree built with {@link tpl/1}, {@link for/2} and {@link stream/3}. The tree
%% becomes the "rendered" JSON of a join reply ({@link to_rendered/3}) or, compared with the
%% previous tree, the minimal diff of an event reply ({@link diff/3}): only changed dynamics,
%% statics only where the fingerprint (the statics list) changed, as Phoenix's change tracking
%% sends them. The two formats differ where the servers do (lib/phoenix_live_view/diff.ex):
%%   1.2:  keyed comprehensions `k' (entries only when changed or new, the count `kc'), `r' on
%%         the root;
%%   0.20: comprehensions `d' (every row, whenever the comprehension changed; nested templates'
%%         statics shared in the comprehension's `p' and named by `s': N; an empty comprehension
%%         never rendered before is ""), no `r'.
%% A stream sends the rows it inserts (and its deletes / reset) once, with its `stream'
%% annotation in the version's shape. {@link to_html/1} is the dead render of the same tree.
-module(live_load_demo_rendered).

-export([tpl/1]).
-export([for/2]).
-export([esc/1]).
-export([stream/4]).
-export([to_rendered/2]).
-export([to_rendered/3]).
-export([diff/2]).
-export([diff/3]).
-export([to_html/1]).

-type dyn() :: binary() | tree().
-type tree() :: {tree, [binary()], [dyn()]} | {for, [binary()], [[dyn()]]}
              | {stream, [binary()], stream_ops()}.
%% what a stream sends with one rendering: `gen' tells two renderings apart, `inserts' are
%% `{DomId, At, Limit, UpdateOnly, Row}' in insert order, `deletes' DOM ids
-type stream_ops() :: #{ref := binary(), gen := non_neg_integer(),
                        inserts := [{binary(), integer(), integer() | null, boolean(), [dyn()]}],
                        deletes := [binary()], reset := boolean()}.
-type version() :: v1 | v0_20.
-type part() :: binary() | {d, binary() | integer() | tree()}.
-export_type([tree/0, part/0, version/0, stream_ops/0]).

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
dyn({for, _, _} = T) -> T;
dyn({stream, _, _} = T) -> T.

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

%% @doc A stream comprehension: `Fun' renders one item to a {@link tpl/1} tree (`Sample' is any
%% item, for the statics the rows share); `Inserts' and `Ops' say what this rendering sends (rows
%% inserted, deletes, reset).
-spec stream(fun((term()) -> tree()), term(), [{binary(), integer(), integer() | null, boolean(), term()}],
             #{ref := binary(), gen := non_neg_integer(), deletes := [binary()], reset := boolean()}) -> tree().
stream(Fun, Sample, Inserts, Ops) ->
    {tree, Statics, _} = Fun(Sample),
    Rows = [{Id, At, Limit, UpdateOnly, element(3, Fun(Item))} || {Id, At, Limit, UpdateOnly, Item} <- Inserts],
    {stream, Statics, Ops#{inserts => Rows}}.

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

%% @doc The join reply's `rendered' in the 1.2 format (see {@link to_rendered/3}).
-spec to_rendered(tree(), binary()) -> map().
to_rendered(Tree, Title) -> to_rendered(Tree, Title, v1).

%% @doc The join reply's `rendered': the whole tree with statics, title (and 1.2's root flag).
-spec to_rendered(tree(), binary(), version()) -> map().
to_rendered(Tree, Title, v1) ->
    (full(Tree))#{<<"r">> => 1, <<"t">> => Title};
to_rendered(Tree, Title, v0_20) ->
    (full0(Tree))#{<<"t">> => Title}.

full({tree, S, Ds}) -> (dyns(Ds))#{<<"s">> => S};
full({for, S, Rows}) -> #{<<"s">> => S, <<"k">> => keyed(Rows)};
full({stream, S, Ops}) -> (stream1(Ops))#{<<"s">> => S};
full(B) when is_binary(B) -> B.

%% 1.2: the rows of this rendering (insert order, the latest insert of an id wins), the
%% annotation [ref, [[id, at, limit, update_only]] (newest first, as the server keeps them),
%% deletes(, true)]
stream1(#{ref := Ref, inserts := Ins, deletes := Dels, reset := Reset}) ->
    Rows = stream_rows(Ins),
    #{<<"k">> => keyed(Rows),
      <<"stream">> => [Ref, [[Id, At, Limit, Only] || {Id, At, Limit, Only, _} <- lists:reverse(Ins)], Dels]
                      ++ [true || Reset]}.

stream_rows(Ins) ->
    Last = maps:from_list([{Id, Row} || {Id, _, _, _, Row} <- Ins]),
    {Rows, _} = lists:foldl(fun({Id, _, _, _, _}, {Acc, Seen}) ->
                                    case Seen of
                                        #{Id := _} -> {Acc, Seen};
                                        _ -> {[maps:get(Id, Last) | Acc], Seen#{Id => true}}
                                    end
                            end, {[], #{}}, lists:reverse(Ins)),
    Rows.

%% 0.20: rows as lists, nested templates shared by the comprehension
full0({tree, S, Ds}) -> (dyns0(Ds))#{<<"s">> => S};
full0({for, _S, []}) -> <<>>;
full0({for, S, Rows}) -> comprehension0(S, Rows, #{});
full0({stream, S, Ops}) -> (stream0(Ops))#{<<"s">> => S};
full0(B) when is_binary(B) -> B.

dyns0(Ds) ->
    {M, _} = lists:foldl(fun(D, {Acc, I}) -> {Acc#{integer_to_binary(I) => full0(D)}, I + 1} end,
                         {#{}, 0}, Ds),
    M.

comprehension0(S, Rows, Extra) ->
    {D, {_, Templates}} = lists:mapfoldl(fun(Row, T) -> lists:mapfoldl(fun row0/2, T, Row) end,
                                         {#{}, #{}}, Rows),
    M = Extra#{<<"d">> => D},
    M1 = case S of none -> M; _ -> M#{<<"s">> => S} end,
    case map_size(Templates) of
        0 -> M1;
        _ -> M1#{<<"p">> => Templates}
    end.

%% a dynamic of a comprehension row: nested trees name their statics in the shared templates
row0(B, T) when is_binary(B) -> {B, T};
row0({tree, S, Ds}, T) ->
    {Pos, T1} = template(S, T),
    {Parts, T2} = lists:mapfoldl(fun row0/2, T1, Ds),
    {maps:from_list([{<<"s">>, Pos} | lists:zip([integer_to_binary(I) || I <- lists:seq(0, length(Ds) - 1)], Parts)]), T2};
row0({for, _S, []}, T) -> {<<>>, T};
row0({for, S, Rows}, T) ->
    {Pos, T1} = template(S, T),
    {D, T2} = lists:mapfoldl(fun(Row, Acc) -> lists:mapfoldl(fun row0/2, Acc, Row) end, T1, Rows),
    {#{<<"s">> => Pos, <<"d">> => D}, T2}.

template(S, {ByStatics, ByPos}) ->
    case ByStatics of
        #{S := Pos} -> {Pos, {ByStatics, ByPos}};
        _ ->
            Pos = map_size(ByPos),
            {Pos, {ByStatics#{S => Pos}, ByPos#{integer_to_binary(Pos) => S}}}
    end.

stream0(#{ref := Ref, inserts := Ins, deletes := Dels, reset := Reset}) ->
    Rows = stream_rows(Ins),
    comprehension0(none, Rows,
                   #{<<"stream">> => [Ref, maps:from_list([{Id, [At, Limit]} || {Id, At, Limit, _, _} <- Ins]), Dels]
                                     ++ [true || Reset]}).


dyns(Ds) ->
    {M, _} = lists:foldl(fun(D, {Acc, I}) -> {Acc#{integer_to_binary(I) => full(D)}, I + 1} end,
                         {#{}, 0}, Ds),
    M.

keyed(Rows) ->
    {M, N} = lists:foldl(fun(R, {Acc, I}) -> {Acc#{integer_to_binary(I) => dyns(R)}, I + 1} end,
                         {#{}, 0}, Rows),
    M#{<<"kc">> => N}.

%% @doc The diff from `Old' to `New' in the 1.2 format (see {@link diff/3}).
-spec diff(tree(), tree()) -> map().
diff(Old, New) -> diff(Old, New, v1).

%% @doc The diff from `Old' to `New' as sent in `{diff: ...}'; `#{}' when nothing changed.
-spec diff(tree(), tree(), version()) -> map().
diff(Old, New, Version) ->
    R = case Version of
            v1 -> d(Old, New);
            v0_20 -> d0(Old, New)
        end,
    case R of
        none -> #{};
        M when is_map(M) -> M
    end.

%% 0.20: a changed comprehension sends every row (statics only when it was not rendered before)
d0(Same, Same) -> none;
d0({tree, S, ODs}, {tree, S, NDs}) when length(ODs) =:= length(NDs) ->
    {M, _} = lists:foldl(fun({O, N}, {Acc, I}) ->
                                 case d0(O, N) of
                                     none -> {Acc, I + 1};
                                     V -> {Acc#{integer_to_binary(I) => V}, I + 1}
                                 end
                         end, {#{}, 0}, lists:zip(ODs, NDs)),
    case map_size(M) of 0 -> none; _ -> M end;
d0({for, S, [_ | _]}, {for, S, Rows}) -> comprehension0(none, Rows, #{});
d0({stream, S, _}, {stream, S, #{inserts := [], deletes := [], reset := false}}) -> none;
d0({stream, S, _}, {stream, S, Ops}) -> stream0(Ops);
d0(_, New) -> full0(New).

d(Same, Same) -> none;
d({tree, S, ODs}, {tree, S, NDs}) when length(ODs) =:= length(NDs) -> dyn_diff(ODs, NDs);
d({stream, S, _}, {stream, S, #{inserts := [], deletes := [], reset := false}}) -> none;
d({stream, S, _}, {stream, S, Ops}) -> stream1(Ops);
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
to_html({for, S, Rows}) -> [interleave(S, R) || R <- Rows];
to_html({stream, S, #{inserts := Ins}}) -> [interleave(S, R) || R <- stream_rows(Ins)].

interleave([S], []) -> [S];
interleave([S | ST], [D | DT]) -> [S, html_dyn(D) | interleave(ST, DT)].

html_dyn(B) when is_binary(B) -> B;
html_dyn(T) -> to_html(T).
