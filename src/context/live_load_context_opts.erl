%% @doc Validation of `live_load_context:new/1' options, with defaults filled in.
-module(live_load_context_opts).

-export([validate/1]).

-define(DEFAULTS, #{connection => browser, mode => faithful, network => true,
                    timeout => 30000, assigns => #{}}).

%% @doc The options with defaults, or the first bad one as `{invalid_option, Name, Value}'.
%% `server' and `browser' both name the backend process (pid) to open the user on.
-spec validate(map()) -> {ok, map()} | {error, {invalid_option, term(), term()}}.
validate(Opts) ->
    case [{K, V} || {K, V} <- lists:sort(maps:to_list(Opts)), not valid(K, V)] of
        [] ->
            V = maps:merge(?DEFAULTS, Opts),
            case live_load_connection:resolve(legacy(maps:get(connection, V))) of
                {ok, Mod, Kind} -> {ok, V#{connection => Mod, kind => Kind}};
                {error, _} = E -> E
            end;
        [{K, V} | _] -> {error, {invalid_option, K, V}}
    end.

%% Before #13 `connection' named the CDP module; that module is the browser backend's.
legacy(live_load_browser) -> browser;
legacy(C) -> C.

valid(browser, V) -> V =:= undefined orelse is_pid(V);
valid(server, V) -> V =:= undefined orelse is_pid(V);
valid(connection, V) -> is_atom(V) andalso V =/= undefined;
valid(mode, V) -> V =:= faithful orelse V =:= fast;
valid(network, V) -> is_boolean(V);
valid(timeout, V) -> is_integer(V) andalso V > 0;
valid(assigns, V) -> is_map(V);
valid(base_url, V) -> is_binary(V);
valid(user_id, _) -> true;
valid(_, _) -> false.
