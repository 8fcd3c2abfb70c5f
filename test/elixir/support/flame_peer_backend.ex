defmodule LiveLoad.Test.FLAMEPeerBackend do
  @moduledoc """
  A FLAME backend for the tests (what FLAME's own tests once had as `LocalBackendAnotherPeer`):
  each runner is an OTP `:peer` node on this machine, started with this node's code path and
  cookie and `FLAME_PARENT` in its environment. Starting the `:flame` application there starts
  FLAME's terminator, which reads `FLAME_PARENT`, connects back and sends `{ref, {:remote_up,
  pid}}` to the runner process that booted it; `system_shutdown/0` (called on the runner by the
  terminator) stops the node. It implements FLAME.Backend's callbacks; the `@behaviour` is left
  out because FLAME is optional and the attribute would warn without it.
  """

  @doc "The backend's state: the boot timeout FLAME gives (`boot_timeout:`)."
  @spec init(keyword()) :: {:ok, map()}
  def init(opts), do: {:ok, %{boot_timeout: Keyword.get(opts, :boot_timeout, 30_000), node: nil, peer: nil}}

  @doc "Starts the runner node and waits for its terminator."
  @spec remote_boot(map()) :: {:ok, pid(), map()} | {:error, term()}
  def remote_boot(%{boot_timeout: timeout} = state) do
    ref = make_ref()
    parent = apply(FLAME.Parent, :new, [ref, self(), __MODULE__, "live_load_flame", nil])
    [_, host] = node() |> Atom.to_string() |> String.split("@")
    name = "live_load_flame_#{System.pid()}_#{System.unique_integer([:positive])}"

    args = :live_load_cluster_code.path_args() ++ [~c"-setcookie", Atom.to_charlist(Node.get_cookie())]

    peer_opts = %{
      name: String.to_charlist(name),
      host: String.to_charlist(host),
      args: Enum.map(args, &to_charlist/1),
      env: [{~c"FLAME_PARENT", String.to_charlist(apply(FLAME.Parent, :encode, [parent]))}],
      wait_boot: timeout
    }

    with {:ok, peer, node} <- :peer.start(peer_opts),
         {:ok, _} <- :erpc.call(node, :application, :ensure_all_started, [:flame], timeout) do
      receive do
        {^ref, {:remote_up, terminator}} -> {:ok, terminator, %{state | node: node, peer: peer}}
      after
        timeout ->
          :peer.stop(peer)
          {:error, :remote_up_timeout}
      end
    end
  end

  @doc "Spawns `fun` (or `{m, f, a}`) on the runner node, monitored."
  @spec remote_spawn_monitor(map(), (() -> term()) | {module(), atom(), list()}) ::
          {:ok, {pid(), reference()}}
  def remote_spawn_monitor(%{node: node}, fun) when is_function(fun, 0),
    do: {:ok, Node.spawn_monitor(node, fun)}

  def remote_spawn_monitor(%{node: node}, {m, f, a}), do: {:ok, Node.spawn_monitor(node, m, f, a)}

  @doc "On the runner: stops its node."
  @spec system_shutdown() :: :ok
  def system_shutdown, do: System.stop()

  @doc "Other messages to the runner process are ignored."
  @spec handle_info(term(), map()) :: {:noreply, map()}
  def handle_info(_msg, state), do: {:noreply, state}
end
