%% @doc Small JSON codec for the demo target's wire formats (OTP 25 has no `json' module and the
%% build has no hex dependencies).
%%
%% Terms: object = map with binary keys, array = list, string = binary, number = integer or
%% float, `true' / `false' / `null' atoms. Decoding never creates atoms from input, limits
%% nesting depth, and returns `{error, invalid_json}' for anything malformed (the caller
%% already capped the input size).
-module(live_load_demo_json).

-export([encode/1]).
-export([decode/1]).

-type json() :: #{binary() => json()} | [json()] | binary() | number() | true | false | null.
-export_type([json/0]).

-define(MAX_DEPTH, 64).

%% @doc Encodes a term to JSON iodata. Atom keys and atom values other than the three literals
%% are written as strings (server-side convenience; never from input).
-spec encode(term()) -> iodata().
encode(null) -> <<"null">>;
encode(true) -> <<"true">>;
encode(false) -> <<"false">>;
encode(undefined) -> <<"null">>;
encode(A) when is_atom(A) -> string(atom_to_binary(A));
encode(B) when is_binary(B) -> string(B);
encode(I) when is_integer(I) -> integer_to_binary(I);
encode(F) when is_float(F) -> float_to_binary(F, [short]);
encode(L) when is_list(L) -> [$[, join([encode(X) || X <- L]), $]];
encode(M) when is_map(M) ->
    [${, join([[string(key(K)), $:, encode(V)] || {K, V} <- lists:sort(maps:to_list(M))]), $}].

key(K) when is_binary(K) -> K;
key(K) when is_atom(K) -> atom_to_binary(K);
key(K) when is_integer(K) -> integer_to_binary(K).

join([]) -> [];
join([H | T]) -> [H | [[$, | X] || X <- T]].

string(B) -> [$", escape(B, 0, B, []), $"].

%% Copies runs of safe bytes as sub-binaries; escapes quote, backslash and control bytes.
escape(Rest, Len, Orig, Acc) ->
    case Rest of
        <<>> -> lists:reverse(Acc, [binary:part(Orig, byte_size(Orig) - Len, Len)]);
        <<C, T/binary>> when C =:= $"; C =:= $\\; C < 16#20 ->
            Start = byte_size(Orig) - byte_size(Rest) - Len,
            Acc1 = [esc(C), binary:part(Orig, Start, Len) | Acc],
            escape(T, 0, Orig, Acc1);
        <<_, T/binary>> -> escape(T, Len + 1, Orig, Acc)
    end.

esc($") -> <<"\\\"">>;
esc($\\) -> <<"\\\\">>;
esc($\n) -> <<"\\n">>;
esc($\r) -> <<"\\r">>;
esc($\t) -> <<"\\t">>;
esc(C) -> io_lib:format("\\u~4.16.0b", [C]).

%% @doc Decodes one JSON value (surrounding whitespace allowed).
-spec decode(binary()) -> {ok, json()} | {error, invalid_json}.
decode(Bin) when is_binary(Bin) ->
    try value(ws(Bin), 0) of
        {V, Rest} ->
            case ws(Rest) of
                <<>> -> {ok, V};
                _ -> {error, invalid_json}
            end
    catch
        throw:invalid -> {error, invalid_json};
        error:_ -> {error, invalid_json}
    end.

ws(<<C, T/binary>>) when C =:= $\s; C =:= $\t; C =:= $\n; C =:= $\r -> ws(T);
ws(B) -> B.

value(_, D) when D > ?MAX_DEPTH -> throw(invalid);
value(<<${, T/binary>>, D) -> object(ws(T), D + 1, #{});
value(<<$[, T/binary>>, D) -> array(ws(T), D + 1, []);
value(<<$", T/binary>>, _) -> str(T, []);
value(<<"true", T/binary>>, _) -> {true, T};
value(<<"false", T/binary>>, _) -> {false, T};
value(<<"null", T/binary>>, _) -> {null, T};
value(<<C, _/binary>> = B, _) when C =:= $-; C >= $0, C =< $9 -> number(B);
value(_, _) -> throw(invalid).

object(<<$}, T/binary>>, _, Acc) when map_size(Acc) =:= 0 -> {Acc, T};
object(<<$", T/binary>>, D, Acc) ->
    {K, R1} = str(T, []),
    <<$:, R2/binary>> = ws(R1),
    {V, R3} = value(ws(R2), D),
    case ws(R3) of
        <<$,, R4/binary>> -> object(ws(R4), D, Acc#{K => V});
        <<$}, R4/binary>> -> {Acc#{K => V}, R4};
        _ -> throw(invalid)
    end;
object(_, _, _) -> throw(invalid).

array(<<$], T/binary>>, _, []) -> {[], T};
array(B, D, Acc) ->
    {V, R1} = value(B, D),
    case ws(R1) of
        <<$,, R2/binary>> -> array(ws(R2), D, [V | Acc]);
        <<$], R2/binary>> -> {lists:reverse([V | Acc]), R2};
        _ -> throw(invalid)
    end.

str(B, Acc) ->
    case binary:match(B, [<<"\"">>, <<"\\">>]) of
        nomatch -> throw(invalid);
        {Pos, 1} ->
            <<Chunk:Pos/binary, C, T/binary>> = B,
            no_control(Chunk),
            case C of
                $" -> {iolist_to_binary(lists:reverse(Acc, [Chunk])), T};
                $\\ -> unescape(T, [Chunk | Acc])
            end
    end.

no_control(Chunk) ->
    case [C || <<C>> <= Chunk, C < 16#20] of
        [] -> ok;
        _ -> throw(invalid)
    end.

unescape(<<$", T/binary>>, Acc) -> str(T, [$" | Acc]);
unescape(<<$\\, T/binary>>, Acc) -> str(T, [$\\ | Acc]);
unescape(<<$/, T/binary>>, Acc) -> str(T, [$/ | Acc]);
unescape(<<$b, T/binary>>, Acc) -> str(T, [$\b | Acc]);
unescape(<<$f, T/binary>>, Acc) -> str(T, [$\f | Acc]);
unescape(<<$n, T/binary>>, Acc) -> str(T, [$\n | Acc]);
unescape(<<$r, T/binary>>, Acc) -> str(T, [$\r | Acc]);
unescape(<<$t, T/binary>>, Acc) -> str(T, [$\t | Acc]);
unescape(<<$u, H:4/binary, $\\, $u, L:4/binary, T/binary>>, Acc)
  when H >= <<"D800">>, H =< <<"DBFF">>; H >= <<"d800">>, H =< <<"dbff">> ->
    Hi = binary_to_integer(H, 16), Lo = binary_to_integer(L, 16),
    (Hi >= 16#D800 andalso Hi =< 16#DBFF andalso Lo >= 16#DC00 andalso Lo =< 16#DFFF)
        orelse throw(invalid),
    Cp = 16#10000 + ((Hi - 16#D800) bsl 10) + (Lo - 16#DC00),
    str(T, [<<Cp/utf8>> | Acc]);
unescape(<<$u, H:4/binary, T/binary>>, Acc) ->
    Cp = binary_to_integer(H, 16),
    (Cp >= 16#D800 andalso Cp =< 16#DFFF) andalso throw(invalid),
    str(T, [<<Cp/utf8>> | Acc]);
unescape(_, _) -> throw(invalid).

number(B) ->
    {Int, R1} = digits(B, <<>>),
    {Frac, R2} = case R1 of
                     <<$., T/binary>> -> frac(T);
                     _ -> {<<>>, R1}
                 end,
    {Exp, R3} = case R2 of
                    <<E, T2/binary>> when E =:= $e; E =:= $E -> exp(T2);
                    _ -> {<<>>, R2}
                end,
    case {Frac, Exp} of
        {<<>>, <<>>} -> {binary_to_integer(Int), R3};
        _ ->
            F = case Frac of <<>> -> <<".0">>; _ -> Frac end,
            {binary_to_float(<<Int/binary, F/binary, Exp/binary>>), R3}
    end.

digits(<<$-, T/binary>>, <<>>) -> {D, R} = digits1(T), {<<$-, D/binary>>, R};
digits(B, <<>>) -> digits1(B).

digits1(B) ->
    case take_digits(B, 0) of
        0 -> throw(invalid);
        N -> <<D:N/binary, R/binary>> = B, {D, R}
    end.

frac(T) -> {D, R} = digits1(T), {<<$., D/binary>>, R}.

exp(<<S, T/binary>>) when S =:= $+; S =:= $- -> {D, R} = digits1(T), {<<$e, S, D/binary>>, R};
exp(T) -> {D, R} = digits1(T), {<<$e, D/binary>>, R}.

take_digits(<<C, T/binary>>, N) when C >= $0, C =< $9 -> take_digits(T, N + 1);
take_digits(_, N) -> N.
