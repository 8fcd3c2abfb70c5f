%% @doc Cluster provider `peer': worker nodes on this machine through OTP `peer'.
%%
%% Node names are `live_load_w<I>_<os pid>_<unique>@<this host>'. The code reaches them by
%% code path by default (`-pa' for every non-OTP directory of the master's code path; same
%% machine, same files); `code => push' starts them without it and lets
%% {@link live_load_cluster_code} push the code. Each node gets the master's cookie after it
%% booted, never on its command line ({@link start_peer/3}), and the option `args' (and, when
%% the option `erl' names another `erl', that one); it halts when the master goes away.
-module(live_load_cluster_peer).
-behaviour(live_load_cluster_provider).

-export([specs/2]).
-export([start_node/2]).
-export([stop_node/1]).
-export([default_code/0]).
-export([start_peer/3]).

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
    Exec = case maps:get(erl, Opts, "erl") of
               "erl" -> #{};
               Erl -> #{exec => Erl}
           end,
    start_peer(Exec#{name => Name, host => Host, args => Code ++ maps:get(args, Opts, [])}, Spec, Opts).

%% @doc Starts a node with OTP `peer' (options `PeerOpts'), controlled over its standard input
%% and output, then gives it this node's cookie (`erlang:set_cookie/2' through that channel)
%% and connects to it: the cookie is never on a command line, which `ps' shows to every user
%% (an `-args_file' would not help: `erl' puts its contents on the emulator's command line).
%% Until then the node has the cookie of its own `~/.erlang.cookie'. The node halts when the
%% channel closes (this node, or the ssh session carrying it, gone). Also used by
%% {@link live_load_cluster_ssh}.
-spec start_peer(map(), live_load_cluster_provider:spec(), live_load_cluster:options()) ->
          {ok, live_load_cluster_provider:handle()} | {error, term()}.
start_peer(PeerOpts, #{node := Node} = Spec, Opts) ->
    Boot = maps:get(boot_timeout, Opts, 60000),
    try peer:start(PeerOpts#{connection => standard_io, wait_boot => Boot}) of
        {ok, Pid, Node} ->
            case connect(Pid, Node) of
                ok -> {ok, #{node => Node, owned => true, peer => Pid, spec => Spec}};
                {error, _} = E -> _ = catch peer:stop(Pid), E
            end;
        {ok, Pid, Other} -> _ = catch peer:stop(Pid), {error, {unexpected_node, Other}};
        {error, Reason} -> {error, {peer_start, Reason}}
    catch
        exit:timeout -> {error, {boot_timeout, Boot}};
        Class:Reason -> {error, {peer_start, {Class, Reason}}}
    end.

connect(Pid, Node) ->
    try peer:call(Pid, erlang, set_cookie, [Node, erlang:get_cookie()], 30000) of
        true ->
            case net_kernel:connect_node(Node) of
                true -> ok;
                _ -> {error, {not_connected, Node}}
            end
    catch
        Class:Reason -> {error, {set_cookie, {Class, Reason}}}
    end.

%% @doc Stop the node (`peer:stop/1').
-spec stop_node(live_load_cluster_provider:handle()) -> ok.
stop_node(#{peer := Pid}) ->
    _ = catch peer:stop(Pid),
    ok.

%% @doc `path': the nodes run on this machine.
-spec default_code() -> path.
default_code() -> path.
