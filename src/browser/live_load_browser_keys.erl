%% @doc Key names to `Input.dispatchKeyEvent' parameters, as Playwright's keyboard sends them.
%%
%% A key is a named key (`Enter', `Tab', `Escape', `Backspace', `Delete', `ArrowUp'/`Down'/`Left'/
%% `Right', `Home', `End', `PageUp', `PageDown', `Space') or one character, optionally after
%% modifiers joined with `+' (`Shift+Tab', `Control+a'). Keys that produce text are sent as
%% `keyDown' with `text' (so Enter submits a form implicitly); the others as `rawKeyDown'.
-module(live_load_browser_keys).

-export([events/1]).

-define(MODIFIERS, [{<<"Alt">>, 1, 18}, {<<"Control">>, 2, 17}, {<<"Meta">>, 4, 91}, {<<"Shift">>, 8, 16}]).

%% @doc The key events for a key description, or `{error, {invalid_option, key, Key}}'.
-spec events(binary()) -> {ok, [map()]} | {error, {invalid_option, key, term()}}.
events(Key) when is_binary(Key), Key =/= <<>> ->
    Parts = case Key of
                <<"+">> -> [<<"+">>];
                _ -> binary:split(Key, <<"+">>, [global])
            end,
    {Mods, [Main]} = lists:split(length(Parts) - 1, Parts),
    case {modifiers(Mods), key(Main)} of
        {{ok, ModKeys}, {ok, Def}} ->
            Bits = lists:foldl(fun({_, Bit, _}, Acc) -> Acc bor Bit end, 0, ModKeys),
            Downs = [down(#{<<"key">> => N, <<"code">> => code_of(N), <<"keyCode">> => C}, 0) || {N, _, C} <- ModKeys],
            Ups = [up(#{<<"key">> => N, <<"code">> => code_of(N), <<"keyCode">> => C}, 0) || {N, _, C} <- lists:reverse(ModKeys)],
            Text = case Bits band (1 bor 2 bor 4) of 0 -> Def; _ -> maps:remove(<<"text">>, Def) end,
            {ok, Downs ++ [down(Text, Bits), up(Def, Bits)] ++ Ups};
        _ ->
            {error, {invalid_option, key, Key}}
    end;
events(Key) ->
    {error, {invalid_option, key, Key}}.

modifiers(Names) ->
    Found = [lists:keyfind(N, 1, ?MODIFIERS) || N <- Names],
    case lists:member(false, Found) of
        true -> error;
        false -> {ok, Found}
    end.

code_of(<<"Control">>) -> <<"ControlLeft">>;
code_of(<<"Shift">>) -> <<"ShiftLeft">>;
code_of(<<"Alt">>) -> <<"AltLeft">>;
code_of(<<"Meta">>) -> <<"MetaLeft">>.

key(<<"Enter">>) -> named(<<"Enter">>, <<"Enter">>, 13, <<"\r">>);
key(<<"Tab">>) -> named(<<"Tab">>, <<"Tab">>, 9, undefined);
key(<<"Escape">>) -> named(<<"Escape">>, <<"Escape">>, 27, undefined);
key(<<"Backspace">>) -> named(<<"Backspace">>, <<"Backspace">>, 8, undefined);
key(<<"Delete">>) -> named(<<"Delete">>, <<"Delete">>, 46, undefined);
key(<<"ArrowLeft">>) -> named(<<"ArrowLeft">>, <<"ArrowLeft">>, 37, undefined);
key(<<"ArrowUp">>) -> named(<<"ArrowUp">>, <<"ArrowUp">>, 38, undefined);
key(<<"ArrowRight">>) -> named(<<"ArrowRight">>, <<"ArrowRight">>, 39, undefined);
key(<<"ArrowDown">>) -> named(<<"ArrowDown">>, <<"ArrowDown">>, 40, undefined);
key(<<"Home">>) -> named(<<"Home">>, <<"Home">>, 36, undefined);
key(<<"End">>) -> named(<<"End">>, <<"End">>, 35, undefined);
key(<<"PageUp">>) -> named(<<"PageUp">>, <<"PageUp">>, 33, undefined);
key(<<"PageDown">>) -> named(<<"PageDown">>, <<"PageDown">>, 34, undefined);
key(<<"Space">>) -> named(<<" ">>, <<"Space">>, 32, <<" ">>);
key(Key) ->
    case unicode:characters_to_list(Key) of
        [C] when C >= $a, C =< $z -> named(Key, <<"Key", (C - 32)>>, C - 32, Key);
        [C] when C >= $A, C =< $Z -> named(Key, <<"Key", C>>, C, Key);
        [C] when C >= $0, C =< $9 -> named(Key, <<"Digit", C>>, C, Key);
        [$\s] -> key(<<"Space">>);
        [C] when is_integer(C), C > 32 -> named(Key, <<>>, 0, Key);
        _ -> error
    end.

named(Key, Code, KeyCode, Text) ->
    M = #{<<"key">> => Key, <<"code">> => Code, <<"keyCode">> => KeyCode},
    {ok, case Text of undefined -> M; _ -> M#{<<"text">> => Text} end}.

down(Def, Mods) ->
    Type = case maps:is_key(<<"text">>, Def) of true -> <<"keyDown">>; false -> <<"rawKeyDown">> end,
    params(Def, Type, Mods).

up(Def, Mods) ->
    params(maps:remove(<<"text">>, Def), <<"keyUp">>, Mods).

params(Def, Type, Mods) ->
    Base = #{<<"type">> => Type, <<"key">> => maps:get(<<"key">>, Def), <<"code">> => maps:get(<<"code">>, Def),
             <<"windowsVirtualKeyCode">> => maps:get(<<"keyCode">>, Def), <<"modifiers">> => Mods},
    case maps:find(<<"text">>, Def) of
        {ok, T} -> Base#{<<"text">> => T, <<"unmodifiedText">> => T};
        error -> Base
    end.
