%% @doc Route templates: a URL or path collapsed into a bounded dimension value.
%%
%% Metrics are dimensioned by route, and a raw URL with ids would make one series per user and
%% record. The query and fragment are dropped, the scheme and host too, and path segments that
%% look like identifiers become placeholders: digits `:id', UUIDs `:uuid', long hex `:hex', other
%% long or mixed letter-digit tokens `:token'. At most 8 segments are kept (then `/...') and the
%% result is at most 128 bytes. `/users/42/posts?page=2' becomes `/users/:id/posts'.
-module(live_load_context_route).

-export([collapse/1]).

-define(MAX_SEGMENTS, 8).
-define(MAX_BYTES, 128).

%% @doc The route template of a URL (absolute or a path). Anything that is not a binary is `/'.
-spec collapse(term()) -> binary().
collapse(Url) when is_binary(Url) ->
    Path = path(strip(Url)),
    Segs = [segment(S) || S <- binary:split(Path, <<"/">>, [global, trim_all])],
    Route = case length(Segs) > ?MAX_SEGMENTS of
                true -> [<<"/">>, lists:join(<<"/">>, lists:sublist(Segs, ?MAX_SEGMENTS)), <<"/...">>];
                false -> [<<"/">>, lists:join(<<"/">>, Segs)]
            end,
    cap(iolist_to_binary(Route));
collapse(_) ->
    <<"/">>.

strip(Url) ->
    [NoFrag | _] = binary:split(Url, <<"#">>),
    [NoQuery | _] = binary:split(NoFrag, <<"?">>),
    NoQuery.

path(Url) ->
    case binary:split(Url, <<"://">>) of
        [_Scheme, Rest] ->
            case binary:split(Rest, <<"/">>) of
                [_Host, P] -> P;
                [_Host] -> <<>>
            end;
        [P] -> P
    end.

segment(S) ->
    Size = byte_size(S),
    case {digits(S), uuid(S), hex(S)} of
        {true, _, _} -> <<":id">>;
        {_, true, _} -> <<":uuid">>;
        {_, _, true} when Size >= 16 -> <<":hex">>;
        _ when Size > 32 -> <<":token">>;
        _ when Size >= 12 -> case mixed(S) of true -> <<":token">>; false -> S end;
        _ -> S
    end.

digits(S) -> S =/= <<>> andalso all(fun(C) -> C >= $0 andalso C =< $9 end, S).
hex(S) -> all(fun is_hex/1, S).
uuid(<<A:8/binary, $-, B:4/binary, $-, C:4/binary, $-, D:4/binary, $-, E:12/binary>>) ->
    lists:all(fun hex/1, [A, B, C, D, E]);
uuid(_) -> false.
%% Letters and digits mixed: a generated token rather than a word.
mixed(S) ->
    not all(fun(C) -> not (C >= $0 andalso C =< $9) end, S) andalso
        not all(fun(C) -> C >= $0 andalso C =< $9 end, S).

is_hex(C) -> (C >= $0 andalso C =< $9) orelse (C >= $a andalso C =< $f) orelse (C >= $A andalso C =< $F).

all(F, S) -> lists:all(F, binary_to_list(S)).

cap(B) when byte_size(B) =< ?MAX_BYTES -> B;
cap(B) -> <<(binary:part(B, 0, ?MAX_BYTES - 4))/binary, "/...">>.
