%% @doc `/login': a sign-in form that checks a credential, for per-user data tests.
%%
%% `#login-form' (`phx-submit="login"') with `#username' and `#password', submit `#login'.
%% The accounts are `user1', `user2', ...: the password of `userN' is {@link password/1}
%% (`"pw-N-" ++ 4 hex digits of a hash of the name'), so a wrong or swapped credential is refused.
%% After a submit, `#login-status' carries `data-status' (`ok' | `denied') and `data-user' (the
%% signed-in name, empty when denied). Every successful sign-in is counted per name in the
%% target's table; {@link logins/0} reads it.
-module(live_load_demo_login).
-behaviour(live_load_demo_page).

-export([mount/1, handle_params/2, handle_event/3, render/1, title/1]).
-export([password/1]).
-export([logins/0]).
-export([table/0]).

-define(TABLE, live_load_demo_logins).

%% @doc Makes the table of sign-ins (the demo supervisor owns it).
-spec table() -> ok.
table() ->
    ?TABLE = ets:new(?TABLE, [named_table, public, set, {write_concurrency, true}]),
    ok.

%% @doc The password of account `Name' (`<<"user7">>'), or `undefined' for a name that is not one.
-spec password(binary()) -> binary() | undefined.
password(<<"user", N/binary>> = Name) ->
    case string:to_integer(N) of
        {I, <<>>} when I > 0 ->
            <<H:16, _/binary>> = crypto:hash(sha256, Name),
            iolist_to_binary(io_lib:format("pw-~b-~4.16.0b", [I, H]));
        _ -> undefined
    end;
password(_) -> undefined.

%% @doc `#{Name => successful sign-ins}' since the target started.
-spec logins() -> #{binary() => pos_integer()}.
logins() ->
    maps:from_list(ets:tab2list(?TABLE)).

-spec mount(map()) -> map().
mount(_Query) -> #{status => <<>>, user => <<>>}.

-spec handle_params(map(), map()) -> map().
handle_params(_Query, A) -> A.

-spec handle_event(binary(), map(), map()) -> {noreply, map()}.
handle_event(<<"login">>, Form, A) ->
    User = text(maps:get(<<"username">>, Form, <<>>)),
    Pass = text(maps:get(<<"password">>, Form, <<>>)),
    case password(User) of
        Pass when Pass =/= undefined ->
            _ = ets:update_counter(?TABLE, User, 1, {User, 0}),
            {noreply, A#{status := <<"ok">>, user := User}};
        _ ->
            {noreply, A#{status := <<"denied">>, user := <<>>}}
    end;
handle_event(_, _, A) -> {noreply, A}.

text(V) when is_binary(V) -> V;
text(_) -> <<>>.

-spec render(map()) -> live_load_demo_rendered:tree().
render(#{status := Status, user := User}) ->
    R = live_load_demo_rendered,
    R:tpl(
      [<<"<main id=\"login-page\"><h1>Sign in</h1>"
         "<form id=\"login-form\" phx-submit=\"login\">"
         "<input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"off\">"
         "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"off\">"
         "<button id=\"login\" type=\"submit\">Sign in</button></form>"
         "<p id=\"login-status\" data-status=\"">>, {d, Status}, <<"\" data-user=\"">>, {d, User}, <<"\">">>,
       {d, case Status of
               <<"ok">> -> <<"Welcome ", User/binary>>;
               <<"denied">> -> <<"Wrong user name or password">>;
               _ -> <<>>
           end},
       <<"</p><p><a href=\"/\">home</a></p></main>">>]).

-spec title(map()) -> binary().
title(_) -> <<"Sign in">>.
