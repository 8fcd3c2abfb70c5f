defmodule LiveLoad.Cluster.FLAME do
  @moduledoc """
  The cluster provider of `distributed?: true, flame_backend: Backend`: the worker nodes of a
  distributed run are FLAME runners booted by `Backend` (a `FLAME.Backend`: `FLAME.FlyBackend`,
  or your own), then live_load's cluster (`:live_load_cluster`) loads code, sizes and joins them
  to amoc as for every provider (guides/distributed.md).

  FLAME is optional at runtime, like amoc: this module compiles and loads without it, and a run
  asking for it without FLAME on the code path gets
  `{:error, {:flame_not_available, %{option: :flame_backend, reason: text}}}`.

  How nodes come and go:
  - `specs/2` starts one `FLAME.Pool` for the cluster (`min: 0`, `max:` the node count,
    `max_concurrency: 1`, the cluster's `boot_timeout`), owned by a holder process that stops
    the pool when every node it gave is stopped, or when the process that formed the cluster
    goes away;
  - `start_node/2` places a small anchor process with `FLAME.place_child/3` (`link: false`):
    with one slot per runner, each anchor takes a runner of its own, booted by the backend, and
    the anchor's node is the worker node. A runner on this very node (what `FLAME.LocalBackend`
    does) is refused with `{:flame_runner_on_master, backend}`: it would be no worker at all;
  - `stop_node/1` stops the anchor; the runner then shuts itself down through FLAME (its idle
    shutdown, whose check waits for the anchor to be gone), which calls the backend's
    `system_shutdown/0` on the runner.

  Code reaches the runners by their own code path (`default_code/0` is `:path`): a FLAME runner
  boots the same release or checkout as the parent. The cluster option `code: :push` copies
  live_load (and amoc) from this node instead.
  """
  @behaviour :live_load_cluster_provider

  alias LiveLoad.Cluster.FLAME.Anchor

  # one pool at a time: a node runs one distributed run at a time (amoc_dist has one master run)
  @pool LiveLoad.Cluster.FLAME.Pool
  # how long a runner whose anchor is gone stays up before FLAME shuts it down
  @idle_ms 200

  @typedoc "A FLAME backend module, or `{module, keyword options}` (FLAME.Pool's `backend:`)."
  @type backend :: module() | {module(), keyword()}

  @doc """
  `:ok` when FLAME is loaded and `backend` is a FLAME backend that boots other nodes; else
  `{:error, {:flame_not_available, %{option: :flame_backend, reason: text}}}`,
  `{:error, {:flame_local_backend, FLAME.LocalBackend}}` or
  `{:error, {:invalid_option, :flame_backend, backend}}`. Called by `live_load_options` when a run
  gives `flame_backend`.
  """
  @spec check_backend(term()) :: :ok | {:error, term()}
  def check_backend(backend) do
    {mod, opts} = split(backend)

    cond do
      not flame_loaded?() ->
        not_available()

      mod == FLAME.LocalBackend ->
        {:error, {:flame_local_backend, mod}}

      not (is_atom(mod) and Code.ensure_loaded?(mod) and function_exported?(mod, :init, 1) and
               function_exported?(mod, :remote_boot, 1)) or not Keyword.keyword?(opts) ->
        {:error, {:invalid_option, :flame_backend, backend}}

      true ->
        :ok
    end
  end

  @doc "The node specs of `count` runners (one without a count), and the pool that boots them."
  @impl :live_load_cluster_provider
  @spec specs(map(), pos_integer() | :undefined) :: {:ok, [map()]} | {:error, term()}
  def specs(opts, :undefined), do: specs(opts, 1)

  def specs(opts, count) when is_integer(count) and count > 0 do
    cond do
      not flame_loaded?() ->
        not_available()

      Process.whereis(@pool) != nil ->
        {:error, {:flame_pool_in_use, @pool}}

      true ->
        case start_pool(backend(opts), count, Map.get(opts, :boot_timeout, 60_000)) do
          {:ok, holder} ->
            # the runner's node is known once it booted: the spec's name only labels errors
            {:ok, for(i <- 1..count, do: %{node: :"flame_runner_#{i}", index: i, holder: holder})}

          {:error, _} = error ->
            error
        end
    end
  end

  @doc "Boots a runner (through the pool) with the anchor on it; the handle's node is the runner's."
  @impl :live_load_cluster_provider
  @spec start_node(map(), map()) :: {:ok, map()} | {:error, term()}
  def start_node(%{holder: holder} = spec, opts) do
    timeout = Map.get(opts, :boot_timeout, 60_000)

    placed =
      try do
        apply(FLAME, :place_child, [@pool, Anchor.child_spec([]), [timeout: timeout, link: false]])
      catch
        :exit, reason -> {:error, {:flame_boot, exit_reason(reason)}}
      end

    case placed do
      {:ok, anchor} when node(anchor) == node() ->
        stop_anchor(anchor)
        done(holder)
        {:error, {:flame_runner_on_master, backend(opts)}}

      {:ok, anchor} ->
        {:ok, %{node: node(anchor), owned: true, spec: spec, anchor: anchor}}

      {:error, reason} ->
        done(holder)
        {:error, {:flame_place_child, reason}}

      other ->
        done(holder)
        {:error, {:flame_place_child, other}}
    end
  end

  @doc "Stops the anchor: FLAME then shuts the runner down (its backend's `system_shutdown/0`)."
  @impl :live_load_cluster_provider
  @spec stop_node(map()) :: :ok
  def stop_node(%{anchor: anchor, spec: %{holder: holder}}) do
    stop_anchor(anchor)
    done(holder)
    :ok
  end

  @doc "`:path`: a runner boots the parent's release or checkout (`code: :push` copies instead)."
  @impl :live_load_cluster_provider
  @spec default_code() :: :path
  def default_code, do: :path

  # ---------------------------------------------------------------- the pool and its holder

  defp start_pool(backend, count, boot_timeout) do
    owner = self()

    pool_opts = [
      name: @pool,
      min: 0,
      max: count,
      max_concurrency: 1,
      backend: backend,
      boot_timeout: boot_timeout,
      timeout: boot_timeout,
      idle_shutdown_after: {@idle_ms, &Anchor.released?/0},
      log: false
    ]

    {pid, ref} = spawn_monitor(fn -> holder(owner, pool_opts, count) end)

    receive do
      {^pid, :started} ->
        Process.demonitor(ref, [:flush])
        {:ok, pid}

      {:DOWN, ^ref, :process, ^pid, reason} ->
        {:error, {:flame_pool, exit_reason(reason)}}
    end
  end

  # Owns the pool's supervisor; stops it once `left` nodes are done, or when the owner is gone.
  defp holder(owner, pool_opts, left) do
    Process.flag(:trap_exit, true)
    owner_ref = Process.monitor(owner)

    case Supervisor.start_link([{FLAME.Pool, pool_opts}], strategy: :one_for_one, max_restarts: 0) do
      {:ok, sup} ->
        send(owner, {self(), :started})
        hold(sup, owner_ref, left)

      {:error, reason} ->
        exit(reason)
    end
  end

  defp hold(sup, _owner_ref, 0), do: stop_pool(sup)

  defp hold(sup, owner_ref, left) do
    receive do
      :done -> hold(sup, owner_ref, left - 1)
      {:DOWN, ^owner_ref, :process, _, _} -> stop_pool(sup)
      {:EXIT, ^sup, reason} -> exit(reason)
    end
  end

  defp stop_pool(sup) do
    Supervisor.stop(sup, :shutdown)
  catch
    :exit, _ -> :ok
  end

  defp done(holder), do: send(holder, :done)

  defp stop_anchor(anchor) do
    ref = Process.monitor(anchor)
    Process.exit(anchor, :shutdown)

    receive do
      {:DOWN, ^ref, :process, ^anchor, _} -> :ok
    after
      5_000 -> Process.demonitor(ref, [:flush])
    end
  end

  defp backend(opts) do
    case opts do
      %{provider_opts: %{backend: backend}} -> backend
      _ -> apply(FLAME.Backend, :impl, [])
    end
  end

  defp not_available do
    {:error,
     {:flame_not_available,
      %{
        option: :flame_backend,
        reason:
          "FLAME is not on the code path (Code.ensure_loaded?(FLAME) is false); add the flame " <>
            "application (a dependency of your app, or ERL_LIBS), see guides/elixir.md"
      }}}
  end

  defp split({mod, opts}), do: {mod, opts}
  defp split(mod), do: {mod, []}

  defp flame_loaded?, do: Code.ensure_loaded?(FLAME) and Code.ensure_loaded?(FLAME.Pool)

  defp exit_reason({reason, {FLAME.Pool, _fun, _args}}), do: reason
  defp exit_reason(reason), do: reason
end

defmodule LiveLoad.Cluster.FLAME.Anchor do
  @moduledoc false
  # The process `LiveLoad.Cluster.FLAME` places on each FLAME runner: it holds the runner's one
  # slot for the run. `released?/0` (the runner's idle-shutdown check, run on the runner) is true
  # once an anchor was placed on this node and is gone, never before the first one.
  use GenServer

  @doc false
  @spec start_link(term()) :: GenServer.on_start()
  def start_link(_), do: GenServer.start_link(__MODULE__, :ok)

  @doc false
  @spec released?() :: boolean()
  def released? do
    case :persistent_term.get({__MODULE__, :placed}, nil) do
      nil -> false
      pid -> not Process.alive?(pid)
    end
  end

  @impl true
  def init(:ok) do
    :persistent_term.put({__MODULE__, :placed}, self())
    {:ok, nil}
  end
end
