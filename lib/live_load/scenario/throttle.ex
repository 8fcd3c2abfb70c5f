defmodule LiveLoad.Scenario.Throttle do
  @moduledoc """
  Throttle specs shared by the users of a scenario (returned by `throttles/1`); users wait on one
  with `LiveLoad.Scenario.Context.throttle/2`. Builders: `Rate` (per minute by default),
  `Interarrival` (ms between passes), `Parallelism` (at most N at once). Every builder returns the
  Erlang `live_load_throttle` spec map, checked when it is made: a bad value raises
  `ArgumentError` naming the field. guides/throttles.md describes the scheduling.
  """

  @typedoc "A `live_load_throttle` spec map (`name`, `kind`, and the kind's fields)."
  @type spec :: %{
          required(:name) => atom() | String.t(),
          required(:kind) => :rate | :interarrival | :parallelism,
          optional(atom()) => term()
        }
  @typedoc "`duration:` ms (steps of 100 ms), or `steps:` + `interval:` ms."
  @type ramp_opts :: [duration: pos_integer()] | [steps: pos_integer(), interval: pos_integer()]

  @doc "Checks a spec; raises `ArgumentError` naming the bad field, returns the spec."
  @spec check!(spec()) :: spec()
  def check!(spec) do
    case :live_load_throttle.validate(spec) do
      :ok ->
        spec

      {:error, {:invalid_throttle, field, value}} ->
        raise ArgumentError, "invalid throttle #{inspect(spec[:name])}: #{field} #{inspect(value)}"
    end
  end

  @doc "Adds a ramp to `to` to a rate or interarrival spec of `kind`; see the builders' `ramp/3`."
  @spec ramp(spec(), atom(), non_neg_integer(), ramp_opts()) :: spec()
  def ramp(%{kind: kind} = spec, kind, to, opts) do
    plan =
      case Enum.sort(opts) do
        [duration: ms] ->
          %{duration: ms}

        [interval: ms, steps: steps] ->
          %{steps: steps, interval: ms}

        _ ->
          raise ArgumentError,
                "ramp of #{inspect(spec.name)}: give duration: ms, or steps: n and interval: ms; got #{inspect(opts)}"
      end

    check!(:live_load_throttle.ramp(spec, to, plan))
  end

  def ramp(spec, kind, _to, _opts),
    do: raise(ArgumentError, "ramp: expected a #{kind} throttle spec, got: #{inspect(spec)}")
end

defmodule LiveLoad.Scenario.Throttle.Rate do
  @moduledoc """
  N passes per minute (`interval/2` changes the interval), spaced evenly.

      :visitors |> Rate.new(10) |> Rate.ramp(100, duration: 60_000)
  """
  alias LiveLoad.Scenario.Throttle

  @doc "`n` passes per minute under `name`."
  @spec new(atom() | String.t(), non_neg_integer()) :: Throttle.spec()
  def new(name, n), do: Throttle.check!(:live_load_throttle.rate(name, n, %{interval: 60_000}))

  @doc "The rate's N counts per `ms` milliseconds instead of per minute."
  @spec interval(Throttle.spec(), pos_integer()) :: Throttle.spec()
  def interval(%{kind: :rate} = spec, ms), do: Throttle.check!(%{spec | interval: ms})

  @doc "Moves the rate linearly to `to` per interval: `duration: ms`, or `steps: n, interval: ms`."
  @spec ramp(Throttle.spec(), non_neg_integer(), Throttle.ramp_opts()) :: Throttle.spec()
  def ramp(spec, to, opts), do: Throttle.ramp(spec, :rate, to, opts)
end

defmodule LiveLoad.Scenario.Throttle.Interarrival do
  @moduledoc "One pass every N milliseconds: `:polls |> Interarrival.new(1000) |> Interarrival.ramp(100, steps: 10, interval: 5000)`."
  alias LiveLoad.Scenario.Throttle

  @doc "One pass every `ms` milliseconds under `name`."
  @spec new(atom() | String.t(), pos_integer()) :: Throttle.spec()
  def new(name, ms), do: Throttle.check!(:live_load_throttle.interarrival(name, ms))

  @doc "Moves the interarrival linearly to `to` ms: `duration: ms`, or `steps: n, interval: ms`."
  @spec ramp(Throttle.spec(), pos_integer(), Throttle.ramp_opts()) :: Throttle.spec()
  def ramp(spec, to, opts), do: Throttle.ramp(spec, :interarrival, to, opts)
end

defmodule LiveLoad.Scenario.Throttle.Parallelism do
  @moduledoc """
  At most N users hold it at once; a slot is given back at the end of the iteration. There is no
  `ramp/3`: the core ramps rates and interarrivals only (`live_load_throttle` refuses a ramp on a
  parallelism spec), so the limit is fixed for the run.
  """
  alias LiveLoad.Scenario.Throttle

  @doc "At most `max` concurrent holders of `name`."
  @spec new(atom() | String.t(), pos_integer()) :: Throttle.spec()
  def new(name, max), do: Throttle.check!(:live_load_throttle.parallelism(name, max))
end
