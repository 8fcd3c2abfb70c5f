%% @doc Cluster provider `ssh': worker nodes started by OTP `peer' over `ssh' on the given
%% hosts (`#{provider => ssh, hosts => ["h1", "h2"], nodes => 4}': nodes spread round-robin
%% over the hosts, one per host when `nodes' is not given).
%%
%% A host needs `sshd' accepting the master's key (`BatchMode=yes': no prompt) and
%% Erlang/OTP (`erl' on its path, or the option `erl'); live_load is not needed there: the
%% code is pushed from the master by default ({@link live_load_cluster_code}). The worker's
%% Erlang distribution connects back to the master directly, so the host must reach the
%% master's epmd and distribution port. Options under `ssh': `port', `user', `identity' (key
%% file), `options' (more `ssh' arguments), `executable' (default: `ssh' on the path).
%%
%% Node names: `live_load_w<I>_<os pid>_<unique>@<host>'; for a loopback host (`127.0.0.1',
%% `localhost', `::1') the master's own host name, and with short names the first label.
-module(live_load_cluster_ssh).
-behaviour(live_load_cluster_provider).

-export([specs/2]).
-export([start_node/2]).
-export([stop_node/1]).
-export([default_code/0]).

%% @doc `Count' nodes spread round-robin over `hosts' (one per host by default).
-spec specs(live_load_cluster:options(), pos_integer() | undefined) ->
          {ok, [live_load_cluster_provider:spec()]}.
specs(#{hosts := Hosts} = Opts, undefined) ->
    specs(Opts, length(Hosts));
specs(#{hosts := Hosts}, Count) ->
    Tag = os:getpid() ++ "_" ++ integer_to_list(erlang:unique_integer([positive])),
    {ok, [begin
              Host = lists:nth((I - 1) rem length(Hosts) + 1, Hosts),
              Name = lists:flatten(["live_load_w", integer_to_list(I), "_", Tag, "@", node_host(Host)]),
              #{node => list_to_atom(Name), index => I, host => Host}
          end || I <- lists:seq(1, Count)]}.

node_host(Host0) ->
    Host = case string:split(Host0, "@", trailing) of
               [_User, H] -> H;
               [H] -> H
           end,
    case lists:member(Host, ["127.0.0.1", "localhost", "::1", "[::1]"]) of
        true -> live_load_cluster_code:host();
        false ->
            case net_kernel:longnames() of
                true -> Host;
                false -> hd(string:split(Host, "."))
            end
    end.

%% @doc Start the node: `peer:start/1' with `ssh ... Host erl' as the command.
-spec start_node(live_load_cluster_provider:spec(), live_load_cluster:options()) ->
          {ok, live_load_cluster_provider:handle()} | {error, term()}.
start_node(#{host := Host} = Spec, Opts) ->
    Ssh = maps:get(ssh, Opts, #{}),
    case maps:get(executable, Ssh, os:find_executable("ssh")) of
        false ->
            {error, ssh_not_found};
        Exec ->
            SshArgs = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
                ++ opt("-p", maps:get(port, Ssh, undefined))
                ++ opt("-l", maps:get(user, Ssh, undefined))
                ++ opt("-i", maps:get(identity, Ssh, undefined))
                ++ maps:get(options, Ssh, [])
                ++ [Host],
            case probe(Exec, SshArgs, maps:get(erl, Opts, "erl"), maps:get(boot_timeout, Opts, 60000)) of
                ok -> start_peer(Spec, Exec, SshArgs, Opts);
                {error, _} = E -> E
            end
    end.

%% The node is controlled over the ssh session's standard input and output, and gets the
%% master's cookie through it once booted (`live_load_cluster_peer:start_peer/3'): the cookie is
%% on no command line, neither the local ssh client's nor the remote erl's.
start_peer(#{node := Node, host := Host} = Spec, Exec, SshArgs, Opts) ->
    [Name, NodeHost] = string:split(atom_to_list(Node), "@"),
    %% ssh joins its arguments into one remote shell line: quote what we pass on.
    Args = [quote(A) || A <- maps:get(args, Opts, [])],
    Command = SshArgs ++ [maps:get(erl, Opts, "erl")],
    case live_load_cluster_peer:start_peer(#{name => Name, host => NodeHost, exec => {Exec, Command},
                                             args => Args}, Spec, Opts) of
        {ok, _} = Ok -> Ok;
        {error, {peer_start, Reason}} -> {error, {ssh_peer_start, Host, Reason}};
        {error, _} = E -> E
    end.

%% One `ssh Host command -v erl' first: a refused key, an unknown host or a missing erl is
%% told at once, with ssh's own words, instead of as a boot timeout.
probe(Exec, SshArgs, Erl, Timeout) ->
    Host = lists:last(SshArgs),
    Port = open_port({spawn_executable, Exec},
                     [{args, SshArgs ++ ["command -v " ++ quote(Erl)]}, exit_status,
                      stderr_to_stdout, binary, {line, 512}]),
    probe_wait(Port, Host, [], erlang:monotonic_time(millisecond) + Timeout).

probe_wait(Port, Host, Out, Deadline) ->
    Left = max(0, Deadline - erlang:monotonic_time(millisecond)),
    receive
        {Port, {data, {_, Line}}} when length(Out) < 20 ->
            probe_wait(Port, Host, [Line | Out], Deadline);
        {Port, {data, _}} ->
            probe_wait(Port, Host, Out, Deadline);
        {Port, {exit_status, 0}} ->
            ok;
        {Port, {exit_status, S}} ->
            {error, {ssh_failed, Host, S, text(Out)}}
    after Left ->
            catch port_close(Port),
            {error, {ssh_failed, Host, timeout, text(Out)}}
    end.

text(Lines) ->
    iolist_to_binary(lists:join(<<"; ">>, lists:reverse(Lines))).

opt(_Flag, undefined) -> [];
opt(Flag, V) when is_integer(V) -> [Flag, integer_to_list(V)];
opt(Flag, V) -> [Flag, V].

quote(S) -> "'" ++ lists:flatten(string:replace(S, "'", "'\\''", all)) ++ "'".

%% @doc Stop the node (`peer:stop/1'; the ssh session ends with it).
-spec stop_node(live_load_cluster_provider:handle()) -> ok.
stop_node(#{peer := Pid}) ->
    _ = catch peer:stop(Pid),
    ok.

%% @doc `push': a host needs only Erlang/OTP.
-spec default_code() -> push.
default_code() -> push.
