%% @doc live_load's one JSON codec (RFC 8259, strict): results and reports, and the demo
%% target's Phoenix wire format (OTP 25 has no `json' module; the build has no hex deps).
%%
%% Invalid UTF-8 is decided the way Phoenix's Jason does: decoding rejects it
%% (`{error, {invalid_json, Offset, invalid_string}}'), encoding raises
%% `error({not_json, Binary})' (the demo target's view process then crashes, as a Phoenix
%% channel does when Jason cannot encode its reply).
%%
%% Mapping between JSON and Erlang terms:
%% <ul>
%% <li>object = map with binary keys (atom and integer keys are accepted when encoding
%%     and written as strings)</li>
%% <li>array = list, string = UTF-8 binary</li>
%% <li>number = integer or float (a JSON number with a fraction or exponent decodes to a
%%     float, one without to an integer)</li>
%% <li>`true', `false', `null' = the atoms of the same name</li>
%% </ul>
%% Floats are written in their shortest round-trip form, so `decode(encode(T)) =:= T' holds
%% for every term made only of the types above with binary keys. Decoding never creates atoms
%% other than the three literals, caps nesting depth at 512, and reports the byte offset of
%% the first error.
%%
%% {@link to_term/1} turns an arbitrary Erlang term (options with atoms, tuples, pids,
%% funs) into a JSON-compatible one; it is lossy by design and meant for run metadata.
-module(live_load_json).

-export([encode/1]).
-export([decode/1]).
-export([to_term/1]).

-export_type([json/0]).

-type json() :: null | boolean() | number() | binary() | [json()] | #{binary() => json()}.

-define(MAX_DEPTH, 512).

%%% Encoding

%% @doc Encode a JSON term as iodata. Raises `error({not_json, Term})' for a value that has
%% no JSON form (a tuple, pid, atom other than null/true/false, invalid UTF-8 binary).
-spec encode(term()) -> iodata().
encode(null) -> <<"null">>;
encode(true) -> <<"true">>;
encode(false) -> <<"false">>;
encode(I) when is_integer(I) -> integer_to_binary(I);
encode(F) when is_float(F) -> float_to_binary(F, [short]);
encode(B) when is_binary(B) -> string(B);
encode(L) when is_list(L) -> array(L);
encode(M) when is_map(M) -> object(M);
encode(Other) -> error({not_json, Other}).

array([]) -> <<"[]">>;
array([H | T]) -> [$[, encode(H) | array_tail(T)].

array_tail([]) -> [$]];
array_tail([H | T]) -> [$,, encode(H) | array_tail(T)];
array_tail(Improper) -> error({not_json, Improper}).

object(M) when map_size(M) =:= 0 -> <<"{}">>;
object(M) ->
    %% Sorted keys: stable, diffable output.
    [{K0, V0} | Rest] = lists:sort([{key(K), V} || {K, V} <- maps:to_list(M)]),
    [${, string(K0), $:, encode(V0),
     [[$,, string(K), $:, encode(V)] || {K, V} <- Rest], $}].

key(K) when is_binary(K) -> K;
key(K) when is_atom(K), K =/= null, K =/= true, K =/= false -> atom_to_binary(K, utf8);
key(K) when is_integer(K) -> integer_to_binary(K);
key(K) -> error({not_json, K}).

string(B) ->
    case unicode:characters_to_binary(B, utf8, utf8) of
        B -> [$", escape(B, B, 0, 0, []), $"];
        _ -> error({not_json, B})
    end.

%% Copies runs of plain bytes as sub-binaries; only the escaped characters are rebuilt.
escape(<<>>, Orig, Start, Len, Acc) ->
    lists:reverse(Acc, [binary_part(Orig, Start, Len)]);
escape(<<C, Rest/binary>>, Orig, Start, Len, Acc) when C < 16#20; C =:= $"; C =:= $\\ ->
    Acc1 = [esc(C), binary_part(Orig, Start, Len) | Acc],
    escape(Rest, Orig, Start + Len + 1, 0, Acc1);
escape(<<_, Rest/binary>>, Orig, Start, Len, Acc) ->
    escape(Rest, Orig, Start, Len + 1, Acc).

esc($") -> <<"\\\"">>;
esc($\\) -> <<"\\\\">>;
esc($\n) -> <<"\\n">>;
esc($\r) -> <<"\\r">>;
esc($\t) -> <<"\\t">>;
esc($\b) -> <<"\\b">>;
esc($\f) -> <<"\\f">>;
esc(C) -> io_lib:format("\\u~4.16.0b", [C]).

%%% Decoding

%% @doc Decode one JSON text (surrounding whitespace allowed).
-spec decode(iodata()) -> {ok, json()} | {error, {invalid_json, Offset :: non_neg_integer(), term()}}.
decode(IoData) ->
    Bin = iolist_to_binary(IoData),
    try
        {Value, Rest} = value(ws(Bin), 0),
        case ws(Rest) of
            <<>> -> {ok, Value};
            Trailing -> throw({syntax, Trailing, trailing_data})
        end
    catch
        throw:{syntax, At, What} ->
            {error, {invalid_json, byte_size(Bin) - byte_size(At), What}}
    end.

value(_, Depth) when Depth > ?MAX_DEPTH -> throw({syntax, <<>>, too_deep});
value(<<${, R/binary>>, D) -> object_members(ws(R), D + 1, #{});
value(<<$[, R/binary>>, D) -> array_items(ws(R), D + 1, []);
value(<<$", R/binary>>, _) -> str(R, R, 0, []);
value(<<"true", R/binary>>, _) -> {true, R};
value(<<"false", R/binary>>, _) -> {false, R};
value(<<"null", R/binary>>, _) -> {null, R};
value(<<C, _/binary>> = R, _) when C =:= $-; C >= $0, C =< $9 -> number(R);
value(R, _) -> throw({syntax, R, unexpected}).

object_members(<<$}, R/binary>>, _, Acc) when map_size(Acc) =:= 0 -> {Acc, R};
object_members(<<$", R/binary>>, D, Acc) ->
    {K, R1} = str(R, R, 0, []),
    case ws(R1) of
        <<$:, R2/binary>> ->
            {V, R3} = value(ws(R2), D),
            Acc1 = Acc#{K => V},
            case ws(R3) of
                <<$,, R4/binary>> -> object_members(ws(R4), D, Acc1);
                <<$}, R4/binary>> -> {Acc1, R4};
                Other -> throw({syntax, Other, expected_comma_or_brace})
            end;
        Other ->
            throw({syntax, Other, expected_colon})
    end;
object_members(R, _, _) -> throw({syntax, R, expected_key}).

array_items(<<$], R/binary>>, _, []) -> {[], R};
array_items(R, D, Acc) ->
    {V, R1} = value(R, D),
    case ws(R1) of
        <<$,, R2/binary>> -> array_items(ws(R2), D, [V | Acc]);
        <<$], R2/binary>> -> {lists:reverse(Acc, [V]), R2};
        Other -> throw({syntax, Other, expected_comma_or_bracket})
    end.

%% Strings: runs of plain bytes are taken as sub-binaries of the input.
str(<<$", R/binary>>, Orig, Len, Acc) ->
    {iolist_to_binary(lists:reverse(Acc, [binary_part(Orig, 0, Len)])), R};
str(<<$\\, R/binary>>, Orig, Len, Acc) ->
    {Char, R1} = unescape(R),
    str(R1, R1, 0, [Char, binary_part(Orig, 0, Len) | Acc]);
str(<<C, _/binary>> = R, _, _, _) when C < 16#20 -> throw({syntax, R, control_character});
str(<<C, R/binary>>, Orig, Len, Acc) when C < 16#80 -> str(R, Orig, Len + 1, Acc);
str(<<C/utf8, R/binary>>, Orig, Len, Acc) ->
    str(R, Orig, Len + byte_size(<<C/utf8>>), Acc);
str(R, _, _, _) -> throw({syntax, R, invalid_string}).

unescape(<<$", R/binary>>) -> {<<$">>, R};
unescape(<<$\\, R/binary>>) -> {<<$\\>>, R};
unescape(<<$/, R/binary>>) -> {<<$/>>, R};
unescape(<<$b, R/binary>>) -> {<<$\b>>, R};
unescape(<<$f, R/binary>>) -> {<<$\f>>, R};
unescape(<<$n, R/binary>>) -> {<<$\n>>, R};
unescape(<<$r, R/binary>>) -> {<<$\r>>, R};
unescape(<<$t, R/binary>>) -> {<<$\t>>, R};
unescape(<<$u, H:4/binary, $\\, $u, L:4/binary, R/binary>> = At) ->
    case {hex4(H, At), hex4(L, At)} of
        {Hi, Lo} when Hi >= 16#D800, Hi =< 16#DBFF, Lo >= 16#DC00, Lo =< 16#DFFF ->
            {<<(16#10000 + ((Hi - 16#D800) bsl 10) + (Lo - 16#DC00))/utf8>>, R};
        {Hi, _} ->
            {<<(scalar(Hi, At))/utf8>>, <<$\\, $u, L/binary, R/binary>>}
    end;
unescape(<<$u, H:4/binary, R/binary>> = At) -> {<<(scalar(hex4(H, At), At))/utf8>>, R};
unescape(R) -> throw({syntax, R, invalid_escape}).

hex4(H, At) ->
    try binary_to_integer(H, 16) of
        N when N >= 0 -> N;
        _ -> throw({syntax, At, invalid_escape})
    catch error:badarg -> throw({syntax, At, invalid_escape})
    end.

%% A lone surrogate has no UTF-8 form.
scalar(N, At) when N >= 16#D800, N =< 16#DFFF -> throw({syntax, At, lone_surrogate});
scalar(N, _) -> N.

%% One pass over the number's bytes checks the grammar and finds its end; the text is then
%% converted as a whole.
number(Bin) ->
    {Len, Kind} = num_sign(Bin, 0),
    <<Text:Len/binary, Rest/binary>> = Bin,
    Value = case Kind of
                integer -> binary_to_integer(Text);
                float -> to_float(Text, Bin);
                exponent -> to_float(exp_to_float(Text), Bin)
            end,
    {Value, Rest}.

num_sign(<<$-, R/binary>>, N) -> num_int(R, N + 1);
num_sign(R, N) -> num_int(R, N).

num_int(<<$0, R/binary>>, N) -> num_after_int(R, N + 1);
num_int(<<C, R/binary>>, N) when C >= $1, C =< $9 -> num_int_digits(R, N + 1);
num_int(R, _) -> throw({syntax, R, invalid_number}).

num_int_digits(<<C, R/binary>>, N) when C >= $0, C =< $9 -> num_int_digits(R, N + 1);
num_int_digits(R, N) -> num_after_int(R, N).

num_after_int(<<$., C, R/binary>>, N) when C >= $0, C =< $9 -> num_frac(R, N + 2);
num_after_int(<<$., R/binary>>, _) -> throw({syntax, R, invalid_number});
num_after_int(<<E, R/binary>>, N) when E =:= $e; E =:= $E -> num_exp(R, N + 1, exponent);
num_after_int(_, N) -> {N, integer}.

num_frac(<<C, R/binary>>, N) when C >= $0, C =< $9 -> num_frac(R, N + 1);
num_frac(<<E, R/binary>>, N) when E =:= $e; E =:= $E -> num_exp(R, N + 1, float);
num_frac(_, N) -> {N, float}.

num_exp(<<S, R/binary>>, N, Kind) when S =:= $+; S =:= $- -> num_exp_first(R, N + 1, Kind);
num_exp(R, N, Kind) -> num_exp_first(R, N, Kind).

num_exp_first(<<C, R/binary>>, N, Kind) when C >= $0, C =< $9 -> num_exp_digits(R, N + 1, Kind);
num_exp_first(R, _, _) -> throw({syntax, R, invalid_number}).

num_exp_digits(<<C, R/binary>>, N, Kind) when C >= $0, C =< $9 -> num_exp_digits(R, N + 1, Kind);
num_exp_digits(_, N, Kind) -> {N, Kind}.

%% binary_to_float/1 needs a fraction: "1e5" -> "1.0e5".
exp_to_float(Text) ->
    [Int, Exp] = binary:split(Text, [<<"e">>, <<"E">>]),
    <<Int/binary, ".0e", Exp/binary>>.

%% Out of the double range (1e999) is an error, not infinity.
to_float(Text, Original) ->
    try binary_to_float(Text)
    catch error:badarg -> throw({syntax, Original, number_out_of_range})
    end.

ws(<<C, R/binary>>) when C =:= $\s; C =:= $\t; C =:= $\n; C =:= $\r -> ws(R);
ws(R) -> R.

%%% Arbitrary terms

%% @doc Convert any term to a JSON-compatible one for metadata such as run options:
%% atoms become strings (except null/true/false), tuples and improper lists become arrays,
%% printable lists become strings, pids/refs/funs/ports their printed form; map keys
%% become strings.
-spec to_term(term()) -> json().
to_term(T) when T =:= null; is_boolean(T); is_number(T) -> T;
to_term(A) when is_atom(A) -> atom_to_binary(A, utf8);
to_term(B) when is_binary(B) ->
    case unicode:characters_to_binary(B, utf8, utf8) of
        B -> B;
        _ -> printed(B)
    end;
to_term(L) when is_list(L) ->
    case io_lib:printable_unicode_list(L) andalso L =/= [] of
        true -> unicode:characters_to_binary(L);
        false -> list_to_json(L)
    end;
to_term(T) when is_tuple(T) -> [to_term(E) || E <- tuple_to_list(T)];
to_term(M) when is_map(M) -> maps:from_list([{map_key(K), to_term(V)} || {K, V} <- maps:to_list(M)]);
to_term(Other) -> printed(Other).

list_to_json([H | T]) when is_list(T) -> [to_term(H) | list_to_json(T)];
list_to_json([]) -> [];
list_to_json([H | T]) -> [to_term(H), to_term(T)].

map_key(K) ->
    case to_term(K) of
        B when is_binary(B) -> B;
        _ -> printed(K)
    end.

printed(T) -> unicode:characters_to_binary(io_lib:format("~0tp", [T])).
