%% @doc The `cluster' options of a distributed run: their check and their defaults.
%%
%% | key | default | meaning |
%% |---|---|---|
%% | `provider' | `peer' | `peer', `ssh' or `nodes' ({@link live_load_cluster_provider}), or a loaded module implementing that behaviour (e.g. `'Elixir.LiveLoad.Cluster.FLAME'') |
%% | `provider_opts' | — | any term, for a provider module's own options (read by it from the options) |
%% | `nodes' | from sizing | worker count (`peer', `ssh'), or the node names (`nodes') |
%% | `hosts' | — | ssh hosts (`ssh'); with `provider => nodes' and no `nodes' list, the node names |
%% | `users_per_node' | — | users each worker carries (the node count follows from it) |
%% | `cost' | measured default | `#{cpu_ms_per_iteration, iteration_ms, pss_mb_per_user}' of one user (figures you give, or what {@link live_load_cluster_cost:measure/2} returns) |
%% | `calibrate' | `false' | `true' or `#{users => K, duration => Ms}' (default 2 users, 15000 ms): measure the cost on the first worker with a short local run of the scenario before sizing; not with `cost' or `users_per_node' |
%% | `headroom' | `0.8' | share of a machine's cores and memory the sizing may plan for |
%% | `code' | provider's | `path' (same machine: master's code path) or `push' (copy from master) |
%% | `amoc' | `auto' | join the workers to amoc: `auto' (when amoc is on the master), `true', `false' |
%% | `boot_timeout' | `60000' | ms for one node to start and connect |
%% | `join_timeout' | `60000' | ms for one node to load code and join amoc |
%% | `erl' | `"erl"' | the `erl' to run on ssh hosts (`peer': another `erl' than this node's) |
%% | `ssh' | `#{}' | `#{port, user, identity, options => [string()], executable}' for `ssh' |
%% | `args' | `[]' | extra `erl' arguments for the nodes a provider starts |
%%
%% Errors name the key: `{error, {invalid_option, {cluster, Key}, Value}}'.
-module(live_load_cluster_opts).

-export([validate/1]).
-export([normalise/1]).
-export([default_cost/0]).

-define(MAX_NODES, 1000).
-define(KEYS, [provider, provider_opts, nodes, hosts, users_per_node, cost, calibrate, headroom, code, amoc,
               boot_timeout, join_timeout, erl, ssh, args]).
-define(CALLBACKS, [{specs, 2}, {start_node, 2}, {stop_node, 1}, {default_code, 0}]).
-define(CALIBRATION, #{users => 2, duration => 15000}).

%% @doc Check the cluster options.
-spec validate(term()) -> ok | {error, {invalid_option, {cluster, term()}, term()}}.
validate(Opts) ->
    case normalise(Opts) of
        {ok, _} -> ok;
        {error, _} = E -> E
    end.

%% @doc Check the options and fill in the defaults; node names given as text become node
%% atoms here (and only here, after their shape was checked).
-spec normalise(term()) -> {ok, live_load_cluster:options()} | {error, {invalid_option, {cluster, term()}, term()}}.
normalise(Opts) when is_map(Opts) ->
    case [K || K <- maps:keys(Opts), not lists:member(K, ?KEYS)] of
        [K | _] -> invalid(K, maps:get(K, Opts));
        [] ->
            Full = maps:merge(#{provider => peer, headroom => 0.8, amoc => auto,
                                boot_timeout => 60000, join_timeout => 60000, erl => "erl",
                                ssh => #{}, args => []}, Opts),
            case maps:get(calibrate, Opts, false) of
                %% a calibration measures the cost: not with a cost given, nor with a fixed share
                Cal when Cal =/= false, (is_map_key(cost, Opts) orelse is_map_key(users_per_node, Opts)) ->
                    invalid(calibrate, Cal);
                _ -> check_all(?KEYS, Full)
            end
    end;
normalise(Opts) ->
    {error, {invalid_option, cluster, Opts}}.

%% @doc The cost of one browser user when the run gives none: measured on the 2-core
%% reference machine (8 faithful users saturate it; ~1.1 GB PSS for 8 users), see
%% `guides/distributed.md'.
-spec default_cost() -> #{cpu_ms_per_iteration := number(), iteration_ms := number(),
                          pss_mb_per_user := number()}.
default_cost() ->
    #{cpu_ms_per_iteration => 250, iteration_ms => 1000, pss_mb_per_user => 140}.

check_all([], Opts) ->
    provider_needs(Opts);
check_all([K | Rest], Opts) ->
    case Opts of
        #{K := V} ->
            case check(K, V, Opts) of
                ok -> check_all(Rest, Opts);
                {ok, V1} -> check_all(Rest, Opts#{K := V1});
                error -> invalid(K, V)
            end;
        _ -> check_all(Rest, Opts)
    end.

check(provider, P, _) when P =:= peer; P =:= ssh; P =:= nodes -> ok;
check(provider, M, _) when is_atom(M) -> provider_module(M);
check(provider_opts, _, _) -> ok;
check(nodes, N, _) when is_integer(N), N > 0, N =< ?MAX_NODES -> ok;
check(nodes, L, _) when is_list(L), L =/= [], length(L) =< ?MAX_NODES -> node_names(L);
check(hosts, L, #{provider := nodes}) when is_list(L), L =/= [], length(L) =< ?MAX_NODES ->
    node_names(L);
check(hosts, L, _) when is_list(L), L =/= [], length(L) =< ?MAX_NODES -> hosts(L);
check(users_per_node, N, _) when is_integer(N), N > 0 -> ok;
check(cost, #{cpu_ms_per_iteration := C, iteration_ms := I, pss_mb_per_user := M} = Cost, _) ->
    %% the figures, possibly with the rest of a measurement (live_load_cluster_cost:measure/2)
    Extra = maps:keys(Cost) -- [cpu_ms_per_iteration, iteration_ms, pss_mb_per_user, iterations,
                                cpu_ms, wall_ms, peak_pss_mb],
    case Extra =:= [] andalso lists:all(fun(X) -> is_number(X) andalso X > 0 end, [C, I, M]) of
        true -> ok;
        false -> error
    end;
check(calibrate, false, _) -> ok;
check(calibrate, true, _) -> {ok, ?CALIBRATION};
check(calibrate, #{} = Cal, _) ->
    Full = maps:merge(?CALIBRATION, Cal),
    case map_size(Full) =:= 2 andalso lists:all(fun(V) -> is_integer(V) andalso V > 0 end, maps:values(Full)) of
        true -> {ok, Full};
        false -> error
    end;
check(headroom, H, _) when is_number(H), H > 0, H =< 1 -> ok;
check(code, C, _) when C =:= path; C =:= push -> ok;
check(amoc, A, _) when A =:= auto; A =:= true; A =:= false -> ok;
check(K, T, _) when (K =:= boot_timeout orelse K =:= join_timeout), is_integer(T), T > 0 -> ok;
check(erl, E, _) -> string(E);
check(ssh, S, _) when is_map(S) -> ssh(maps:to_list(S), S);
check(args, A, _) when is_list(A) ->
    case lists:all(fun(X) -> string(X) =/= error end, A) of
        true -> {ok, [unicode:characters_to_list(X) || X <- A]};
        false -> error
    end;
check(_, _, _) -> error.

%% a provider module implements live_load_cluster_provider (a loaded module, never a new atom)
provider_module(M) ->
    case code:ensure_loaded(M) of
        {module, M} ->
            case lists:all(fun({F, A}) -> erlang:function_exported(M, F, A) end, ?CALLBACKS) of
                true -> ok;
                false -> error
            end;
        _ -> error
    end.

provider_needs(#{provider := ssh, hosts := _} = O) -> {ok, O};
provider_needs(#{provider := ssh} = O) -> invalid(hosts, maps:get(hosts, O, undefined));
provider_needs(#{provider := nodes, nodes := L} = O) when is_list(L) -> {ok, O};
provider_needs(#{provider := nodes, hosts := L} = O) -> {ok, maps:remove(hosts, O#{nodes => L})};
provider_needs(#{provider := nodes} = O) -> invalid(nodes, maps:get(nodes, O, undefined));
provider_needs(#{nodes := L}) when is_list(L) -> invalid(nodes, L);
provider_needs(O) -> {ok, O}.

%% Node names come from the user (options, CLI): only name@host of safe characters, and at
%% most ?MAX_NODES of them, become atoms.
node_names(L) ->
    Names = [node_name(X) || X <- L],
    case lists:member(error, Names) of
        true -> error;
        false -> {ok, Names}
    end.

node_name(A) when is_atom(A) -> node_name(atom_to_list(A));
node_name(B) when is_binary(B) -> node_name(unicode:characters_to_list(B));
node_name(S) when is_list(S) ->
    case io_lib:printable_latin1_list(S) andalso string:split(S, "@") of
        [Name, Host] when Name =/= "", Host =/= "" ->
            case safe(Name, "_-") andalso safe(Host, "_-.") of
                true -> list_to_atom(S);
                false -> error
            end;
        _ -> error
    end;
node_name(_) -> error.

hosts(L) ->
    Hosts = [string(H) || H <- L],
    case lists:all(fun({ok, H}) -> H =/= "" andalso safe(H, "_-.@:[]"); (_) -> false end, Hosts) of
        true -> {ok, [H || {ok, H} <- Hosts]};
        false -> error
    end.

safe(S, Extra) ->
    lists:all(fun(C) -> (C >= $a andalso C =< $z) orelse (C >= $A andalso C =< $Z)
                            orelse (C >= $0 andalso C =< $9) orelse lists:member(C, Extra) end, S).

ssh([], S) -> {ok, S};
ssh([{port, P} | T], S) when is_integer(P), P > 0, P < 65536 -> ssh(T, S);
ssh([{K, V} | T], S) when K =:= user; K =:= identity; K =:= executable ->
    case string(V) of
        {ok, Str} -> ssh(T, S#{K := Str});
        error -> error
    end;
ssh([{options, L} | T], S) when is_list(L) ->
    case check(args, L, #{}) of
        {ok, L1} -> ssh(T, S#{options := L1});
        error -> error
    end;
ssh(_, _) -> error.

string(B) when is_binary(B) ->
    case unicode:characters_to_list(B) of
        L when is_list(L) -> {ok, L};
        _ -> error
    end;
string(L) when is_list(L) ->
    case io_lib:char_list(L) of
        true -> {ok, L};
        false -> error
    end;
string(_) -> error.

invalid(K, V) -> {error, {invalid_option, {cluster, K}, V}}.
