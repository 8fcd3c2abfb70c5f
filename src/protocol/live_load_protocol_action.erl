%% @doc Context actions (the `live_load_connection' action terms) to port commands, and the
%% port's answers back to the reasons the context documents (guides/context.md).
%%
%% A command is a map with binary keys (`op' plus its arguments); the port answers `{ok, Value}'
%% or `{error, #{<<"reason">> := Name, ...}}'. Reason names are matched against a fixed list here,
%% so no atom is ever made from what the port (or the server behind it) sent.
-module(live_load_protocol_action).

-export([encode/1]).
-export([decode/2]).

-define(UNSUPPORTED(F), {error, {unsupported_by_connection, protocol, F}}).

%% @doc The port command for an action, or `{error, {unsupported_by_connection, protocol, F}}' for
%% what only a browser can do, or `{error, {invalid_option, action, A}}' for a malformed action.
-spec encode(live_load_protocol:action()) -> {ok, map()} | {error, term()}.
encode({navigate, Url}) when is_binary(Url) -> {ok, #{<<"op">> => <<"navigate">>, <<"url">> => Url}};
encode(reload) -> {ok, #{<<"op">> => <<"reload">>}};
encode({click, Sel}) when is_binary(Sel) -> sel(<<"click">>, Sel);
encode({fill, Sel, V}) when is_binary(Sel), is_binary(V) -> sel(<<"fill">>, Sel, #{<<"value">> => V});
encode({clear, Sel}) when is_binary(Sel) -> sel(<<"fill">>, Sel, #{<<"value">> => <<>>});
encode({press, Sel, Key}) when is_binary(Sel), is_binary(Key) -> sel(<<"press">>, Sel, #{<<"key">> => Key});
encode({check, Sel}) when is_binary(Sel) -> sel(<<"check">>, Sel, #{<<"checked">> => true});
encode({uncheck, Sel}) when is_binary(Sel) -> sel(<<"check">>, Sel, #{<<"checked">> => false});
encode({select_options, Sel, Vs}) when is_binary(Sel), is_list(Vs) ->
    case lists:all(fun is_binary/1, Vs) of
        true -> sel(<<"select">>, Sel, #{<<"values">> => Vs});
        false -> {error, {invalid_option, values, Vs}}
    end;
encode({focus, Sel}) when is_binary(Sel) -> sel(<<"focus">>, Sel);
encode({blur, Sel}) when is_binary(Sel) -> sel(<<"blur">>, Sel);
encode({hover, _}) -> ?UNSUPPORTED(hover);
encode({drag_and_drop, _, _}) -> ?UNSUPPORTED(drag_and_drop);
encode(storage_snapshot) -> ?UNSUPPORTED(context_storage_snapshot);
encode({restore_storage, _}) -> ?UNSUPPORTED(restore_context_storage);
encode(reset_storage) -> ?UNSUPPORTED(reset_context_storage);
encode({wait_for_selector, Sel, Opts}) when is_binary(Sel), is_map(Opts) ->
    case maps:get(state, Opts, attached) of
        St when St =:= attached; St =:= visible; St =:= hidden; St =:= detached ->
            sel(<<"wait_selector">>, Sel, #{<<"state">> => atom_to_binary(St)});
        St -> {error, {invalid_option, state, St}}
    end;
encode(wait_for_liveview) -> {ok, #{<<"op">> => <<"wait_liveview">>}};
encode(ensure_liveview) -> {ok, #{<<"op">> => <<"ensure_liveview">>}};
encode({wait_for_loading, Type, Sel}) when is_atom(Type), is_binary(Sel) ->
    case lists:member(Type, [click, change, submit, keydown, keyup, blur, focus, hook]) of
        true -> sel(<<"wait_loading">>, Sel, #{<<"type">> => atom_to_binary(Type)});
        false -> {error, {invalid_option, kind, Type}}
    end;
encode({submit_form, Sel}) when is_binary(Sel) -> sel(<<"submit">>, Sel);
encode(page_content) -> {ok, #{<<"op">> => <<"page_content">>}};
encode({inner_html, Sel}) when is_binary(Sel) -> sel(<<"inner_html">>, Sel);
encode({inner_text, Sel}) when is_binary(Sel) -> sel(<<"inner_text">>, Sel);
encode({text_content, Sel}) when is_binary(Sel) -> sel(<<"text_content">>, Sel);
encode({input_value, Sel}) when is_binary(Sel) -> sel(<<"input_value">>, Sel);
encode({get_attribute, Sel, Name}) when is_binary(Sel), is_binary(Name) ->
    sel(<<"get_attribute">>, Sel, #{<<"name">> => Name});
encode({visible, Sel}) when is_binary(Sel) -> sel(<<"visible">>, Sel);
encode({checked, Sel}) when is_binary(Sel) -> sel(<<"checked">>, Sel);
encode(A) -> {error, {invalid_option, action, A}}.

sel(Op, Sel) -> sel(Op, Sel, #{}).
sel(Op, Sel, Extra) -> {ok, Extra#{<<"op">> => Op, <<"sel">> => Sel}}.

%% @doc The action's result from the port's answer.
-spec decode(live_load_protocol:action(), {ok, term()} | {error, term()}) -> ok | {ok, term()} | {error, term()}.
decode(Action, {ok, V}) ->
    case returns_value(Action) of
        true -> {ok, V};
        false -> ok
    end;
decode(_Action, {error, #{<<"reason">> := R} = E}) ->
    {error, reason(R, E)};
decode(_Action, {error, R}) when is_atom(R) ->
    {error, R};
decode(_Action, {error, {invalid_option, _, _} = R}) ->
    {error, R};
decode(_Action, {error, R}) ->
    {error, {protocol_error, R}}.

returns_value(ensure_liveview) -> true;
returns_value(page_content) -> true;
returns_value({Op, _}) -> lists:member(Op, [inner_html, inner_text, text_content, input_value, visible, checked]);
returns_value({get_attribute, _, _}) -> true;
returns_value(_) -> false.

reason(<<"timeout">>, _) -> timeout;
reason(<<"not_liveview">>, _) -> not_liveview;
reason(<<"liveview_timeout">>, _) -> liveview_timeout;
reason(<<"selector_timeout">>, E) -> {selector_timeout, arg(E, <<"sel">>)};
reason(<<"selector_not_found">>, E) -> {selector_timeout, arg(E, <<"sel">>)};
reason(<<"invalid_selector">>, E) -> {invalid_selector, arg(E, <<"sel">>)};
reason(<<"not_actionable">>, E) -> {not_actionable, arg(E, <<"sel">>), why(arg(E, <<"why">>))};
reason(<<"navigation_error">>, E) -> {navigation_error, arg(E, <<"url">>), arg(E, <<"text">>)};
reason(<<"loading_timeout">>, E) -> {loading_timeout, kind(arg(E, <<"type">>)), arg(E, <<"sel">>)};
reason(<<"event_lost">>, E) -> {event_lost, arg(E, <<"sel">>)};
reason(<<"no_such_option">>, E) -> {no_such_option, arg(E, <<"sel">>), maps:get(<<"values">>, E, [])};
reason(<<"check_failed">>, E) -> {check_failed, arg(E, <<"sel">>)};
reason(<<"not_an_input">>, E) -> {not_an_input, arg(E, <<"sel">>)};
reason(<<"unsupported">>, E) -> {unsupported_by_connection, protocol, unsupported(arg(E, <<"function">>))};
reason(<<"too_many_users">>, _) -> too_many_users;
reason(<<"no_such_user">>, _) -> browser_down;
reason(<<"out_of_memory">>, _) -> out_of_memory;
reason(R, E) -> {protocol_error, R, maps:get(<<"text">>, E, null)}.

arg(E, K) -> maps:get(K, E, <<>>).

why(<<"not_visible">>) -> not_visible;
why(<<"not_enabled">>) -> not_enabled;
why(<<"not_editable">>) -> not_editable;
why(W) -> W.

kind(K) ->
    case [A || A <- [click, change, submit, keydown, keyup, blur, focus, hook], atom_to_binary(A) =:= K] of
        [A] -> A;
        [] -> K
    end.

unsupported(<<"press">>) -> press;
unsupported(<<"hook">>) -> hook;
unsupported(F) -> F.
