defmodule LiveLoad.Scenario.ObjectCode do
  @moduledoc false
  # A scenario compiled in memory (a `.exs` file given to `mix live_load.run` or
  # `Code.require_file/1`, an iex or Livebook cell) has no beam file, so `code:get_object_code/1`
  # finds nothing and neither live_load's distributed engine nor amoc (`amoc_code_server`) can
  # send it to worker nodes. `use LiveLoad.Scenario` calls `keep/2` right after such a module is
  # compiled: its bytecode is written to a directory of this VM, at the end of the code path, so
  # `code:get_object_code/1` finds exactly the loaded code. Modules compiled by the parallel
  # compiler (mix, elixirc, ExUnit's test files) are left alone: mix and elixirc write beam files
  # themselves. The directory is removed when the VM stops through `System.stop/1` (elixir, mix,
  # iex); it is tiny and lives under System.tmp_dir!() otherwise.

  @dir {__MODULE__, :dir}

  @doc false
  @spec keep(module(), binary()) :: :ok
  def keep(module, bytecode) do
    if Code.can_await_module_compilation?() do
      :ok
    else
      File.write!(Path.join(dir(), Atom.to_string(module) <> ".beam"), bytecode)
    end
  end

  @doc false
  @spec dir() :: Path.t()
  def dir do
    case :persistent_term.get(@dir, nil) do
      nil ->
        name = "live_load_beams_#{System.pid()}_#{System.system_time(:microsecond)}"
        dir = Path.join(System.tmp_dir!(), name)
        File.mkdir_p!(dir)
        true = :code.add_pathz(String.to_charlist(dir))
        System.at_exit(fn _ -> File.rm_rf(dir) end)
        :persistent_term.put(@dir, dir)
        dir

      dir ->
        dir
    end
  end
end
