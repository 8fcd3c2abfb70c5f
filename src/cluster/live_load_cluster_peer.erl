%% @doc Cluster provider `peer': worker nodes on this machine through OTP `peer'.
%%
%% Node names are `live_load_w<I>_<os pid>_<unique>@<this host>'. The code reaches them by
%% code path by default (`-pa' for every non-OTP directory of the master's code path; same
%% machine, same files); `code => push' starts them without it and lets
%% {@link live_load_cluster_code} push the code. Each node is started with the master's
%% cookie and the option `args' (and, when the option `erl' names another `erl', that one);
%% it halts when the master goes away.
-module(live_load_cluster_peer).
-behaviour(live_load_cluster_provider).

-export([specs/2]).
-export([start_node/2]).
-export([stop_node/1]).
-export([default_code/0]).

%% @doc `Count' nodes (one when the options say no count).
-spec specs(live_load_cluster:options(), pos_integer() | undefined) ->
          {ok, [live_load_cluster_provider:spec()]}.
specs(_Opts, undefined) ->
    specs(#{}, 1);
specs(_Opts, Count) ->
    Host = live_load_cluster_code:host(),
    Tag = os:getpid() ++ "_" ++ integer_to_list(erlang:unique_integer([positive])),
    {ok, [#{node => list_to_atom(lists:flatten(["live_load_w", integer_to_list(I), "_", Tag, "@", Host])),
            index => I}
          || I <- lists:seq(1, Count)]}.

%% @doc Start the node with `peer:start/1' (not linked to the caller).
-spec start_node(live_load_cluster_provider:spec(), live_load_cluster:options()) ->
          {ok, live_load_cluster_provider:handle()} | {error, term()}.
start_node(#{node := Node} = Spec, Opts) ->
    [Name, Host] = string:split(atom_to_list(Node), "@"),
    Code = case maps:get(code, Opts, default_code()) of
               path -> live_load_cluster_code:path_args();
               push -> []
           end,
    Args = Code ++ ["-setcookie", atom_to_list(erlang:get_cookie())] ++ maps:get(args, Opts, []),
    Exec = case maps:get(erl, Opts, "erl") of
               "erl" -> #{};
               Erl -> #{exec => Erl}
           end,
    try peer:start(Exec#{name => Name, host => Host, args => Args,
                         wait_boot => maps:get(boot_timeout, Opts, 60000)}) of
        {ok, Pid, Node} -> {ok, #{node => Node, owned => true, peer => Pid, spec => Spec}};
        {ok, Pid, Other} -> _ = catch peer:stop(Pid), {error, {unexpected_node, Other}};
        {error, Reason} -> {error, {peer_start, Reason}}
    catch
        exit:timeout -> {error, {boot_timeout, maps:get(boot_timeout, Opts, 60000)}};
        Class:Reason -> {error, {peer_start, {Class, Reason}}}
    end.

%% @doc Stop the node (`peer:stop/1').
-spec stop_node(live_load_cluster_provider:handle()) -> ok.
stop_node(#{peer := Pid}) ->
    _ = catch peer:stop(Pid),
    ok.

%% @doc `path': the nodes run on this machine.
-spec default_code() -> path.
default_code() -> path.
