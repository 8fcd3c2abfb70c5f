%% @doc RFC 6455 pieces for the demo target: the handshake accept key and a bounded frame
%% parser/encoder. Pure functions; the connection process owns the socket.
%%
%% The parser enforces what a server must: client frames are masked, control frames are short
%% and unfragmented, reserved bits are zero, and no message (a data frame plus its
%% continuations) grows past the cap, checked from the header before the payload arrives.
-module(live_load_demo_ws).

-export([accept_key/1]).
-export([new_parser/1]).
-export([parse/2]).
-export([text/1]).
-export([close/2]).
-export([pong/1]).

-record(parser, {max :: pos_integer(),
                 frag = none :: none | {text | binary, [binary()], non_neg_integer()}}).
-opaque parser() :: #parser{}.
-type message() :: {text, binary()} | {binary, binary()} | {ping, binary()} | {pong, binary()}
                 | {close, non_neg_integer() | none, binary()}.
-type error() :: {protocol_error, atom()} | {too_big, non_neg_integer()}.
-export_type([parser/0, message/0, error/0]).

-define(GUID, <<"258EAFA5-E914-47DA-95CA-C5AB0DC85B11">>).

%% @doc `Sec-WebSocket-Accept' for a client's `Sec-WebSocket-Key'.
-spec accept_key(binary()) -> binary().
accept_key(Key) ->
    base64:encode(crypto:hash(sha, <<Key/binary, ?GUID/binary>>)).

%% @doc A parser that refuses messages longer than `Max' bytes.
-spec new_parser(pos_integer()) -> parser().
new_parser(Max) -> #parser{max = Max}.

%% @doc Parses as many complete frames as `Data' holds. Returns the complete messages, the
%% unconsumed bytes and the new parser state, or the first protocol error.
-spec parse(binary(), parser()) -> {ok, [message()], binary(), parser()} | {error, error()}.
parse(Data, P) -> parse(Data, P, []).

parse(Data, P, Acc) ->
    case frame(Data, P#parser.max) of
        more -> {ok, lists:reverse(Acc), Data, P};
        {error, _} = E -> E;
        {ok, Fin, Op, Payload, Rest} ->
            case assemble(Fin, Op, Payload, P) of
                {error, _} = E -> E;
                {none, P1} -> parse(Rest, P1, Acc);
                {Msg, P1} -> parse(Rest, P1, [Msg | Acc])
            end
    end.

frame(<<_:1, Rsv:3, _/bitstring>>, _) when Rsv =/= 0 -> {error, {protocol_error, reserved_bits}};
frame(<<_:8, 0:1, _/bitstring>>, _) -> {error, {protocol_error, unmasked_frame}};
frame(<<Fin:1, 0:3, Op:4, 1:1, Len7:7, Rest/binary>>, Max) ->
    case Len7 of
        126 -> case Rest of <<L:16, R/binary>> -> body(Fin, Op, L, R, Max); _ -> more end;
        127 -> case Rest of <<L:64, R/binary>> -> body(Fin, Op, L, R, Max); _ -> more end;
        L -> body(Fin, Op, L, Rest, Max)
    end;
frame(_, _) -> more.

body(_, Op, L, _, _) when Op >= 8, L > 125 -> {error, {protocol_error, long_control_frame}};
body(0, Op, _, _, _) when Op >= 8 -> {error, {protocol_error, fragmented_control_frame}};
body(_, _, L, _, Max) when L > Max -> {error, {too_big, L}};
body(Fin, Op, L, <<Mask:4/binary, Rest/binary>>, _) when byte_size(Rest) >= L ->
    <<Masked:L/binary, Tail/binary>> = Rest,
    {ok, Fin, Op, unmask(Masked, Mask), Tail};
body(_, _, _, _, _) -> more.

unmask(Data, <<M:32>> = Mask) ->
    Words = byte_size(Data) div 4,
    <<Body:Words/binary-unit:32, Tail/binary>> = Data,
    Head = << <<(W bxor M):32>> || <<W:32>> <= Body >>,
    <<Mb:(byte_size(Tail))/binary, _/binary>> = Mask,
    Rem = crypto:exor(Tail, Mb),
    <<Head/binary, Rem/binary>>.

assemble(1, 1, Payload, #parser{frag = none} = P) -> {{text, Payload}, P};
assemble(1, 2, Payload, #parser{frag = none} = P) -> {{binary, Payload}, P};
assemble(0, Op, Payload, #parser{frag = none} = P) when Op =:= 1; Op =:= 2 ->
    Kind = case Op of 1 -> text; 2 -> binary end,
    {none, P#parser{frag = {Kind, [Payload], byte_size(Payload)}}};
assemble(Fin, 0, Payload, #parser{frag = {Kind, Parts, Size}, max = Max} = P) ->
    Size1 = Size + byte_size(Payload),
    if
        Size1 > Max -> {error, {too_big, Size1}};
        Fin =:= 1 ->
            {{Kind, iolist_to_binary(lists:reverse([Payload | Parts]))}, P#parser{frag = none}};
        true -> {none, P#parser{frag = {Kind, [Payload | Parts], Size1}}}
    end;
assemble(_, 0, _, #parser{frag = none}) -> {error, {protocol_error, unexpected_continuation}};
assemble(_, Op, _, #parser{frag = {_, _, _}}) when Op =:= 1; Op =:= 2 ->
    {error, {protocol_error, interleaved_data_frame}};
assemble(1, 8, <<Code:16, Reason/binary>>, P) -> {{close, Code, Reason}, P};
assemble(1, 8, <<>>, P) -> {{close, none, <<>>}, P};
assemble(1, 8, _, _) -> {error, {protocol_error, bad_close_frame}};
assemble(1, 9, Payload, P) -> {{ping, Payload}, P};
assemble(1, 10, Payload, P) -> {{pong, Payload}, P};
assemble(_, _, _, _) -> {error, {protocol_error, unknown_opcode}}.

%% @doc An unmasked (server) text frame.
-spec text(iodata()) -> iodata().
text(Data) -> frame_out(1, Data).

%% @doc A close frame with a status code and a short reason.
-spec close(non_neg_integer(), binary()) -> iodata().
close(Code, Reason) -> frame_out(8, [<<Code:16>>, binary:part(Reason, 0, min(123, byte_size(Reason)))]).

%% @doc A pong answering a ping's payload.
-spec pong(binary()) -> iodata().
pong(Payload) -> frame_out(10, Payload).

frame_out(Op, Data) ->
    Len = iolist_size(Data),
    Header = if
                 Len < 126 -> <<1:1, 0:3, Op:4, 0:1, Len:7>>;
                 Len < 65536 -> <<1:1, 0:3, Op:4, 0:1, 126:7, Len:16>>;
                 true -> <<1:1, 0:3, Op:4, 0:1, 127:7, Len:64>>
             end,
    [Header, Data].
