defmodule LiveLoad.Scenario.Context do
  @moduledoc """
  The scenario context with Elixir names: a value threaded through a pipeline of steps, Plug.Conn
  style, over the Erlang `live_load_context` (guides/context.md has every step's behaviour).

      ctx
      |> navigate("http://127.0.0.1:4000/counter")
      |> wait_for_liveview()
      |> click("#inc")
      |> wait_for_phx_loading_completion(:click, "#inc")
      |> inner_text("#count", as: :count)

  Once a step failed or the context was halted, later steps are skipped and the error stays on the
  context (`error/1`); exceptions inside a step become its error. Selectors, URLs and values may be
  1-arity functions of the context (`&"#add-\#{&1.assigns.id}"`). Extraction functions return the
  value (or `{:error, reason}`), or with `as: key` the context with the value assigned (`as: fun`
  merges the map `fun.(value)` into the assigns).

  The struct exposes `assigns` (a map, readable as `ctx.assigns`), `data` (this iteration's row
  of the run's `data:` option, a map with string keys, or `nil`; read-only) and `erlang`, the
  Erlang `live_load_context` value it wraps (for calling Erlang code). Assigns changed in the
  struct directly (`%{ctx | assigns: ...}`) are carried into the next step.
  """

  @enforce_keys [:assigns, :erlang]
  defstruct [:assigns, :erlang, data: nil]

  @typedoc """
  The context: `assigns` is readable, `data` is this iteration's data row (or `nil`), `erlang` is
  the wrapped `live_load_context` value.
  """
  @type t :: %__MODULE__{assigns: map(), data: %{String.t() => term()} | nil, erlang: term()}
  @typedoc "A value, or a 1-arity function of the context returning it."
  @type value(v) :: v | (t() -> v)
  @type selector :: value(String.t())
  @typedoc "The push kinds `wait_for_phx_loading_completion/3` waits for (atoms, or the same names as strings)."
  @type kind :: :click | :change | :submit | :keydown | :keyup | :focus | :blur | :hook | String.t()
  @typedoc "`as: key` assigns the value; `as: fun` merges the map `fun.(value)` into the assigns."
  @type extract_opts :: [as: term() | (term() -> map())]
  @typedoc "An extraction's value, `{:error, reason}`, or (with `as:`) the context."
  @type extracted(v) :: v | {:error, term()} | t()
  @typedoc "A failed step: `%{step: n, op: atom, selector: binary | nil, reason: term}`."
  @type error_info :: %{step: non_neg_integer(), op: atom(), selector: String.t() | nil, reason: term()}

  @ctx :live_load_context

  # ---------------------------------------------------------------- lifecycle

  @doc """
  Opens a context for interactive use (iex, Livebook, tests): starts the `:live_load` application
  and takes a user from the node's browser pool (Chromium starts on first use). Options (keyword):
  `timeout:` (ms per step, default 30000), `mode:` (`:faithful` | `:fast`), `network:` (boolean),
  `assigns:` (map), `user_id:`, `browser:` (a `live_load_browser` pid, or `:undefined` for a
  context without a browser). The calling process owns the user; `close/1` releases it.
  """
  @spec new(keyword()) :: {:ok, t()} | {:error, term()}
  def new(opts \\ []) do
    case keyword_map(opts) do
      {:ok, map} ->
        case @ctx.new(map) do
          {:ok, erl} -> {:ok, wrap(erl)}
          {:error, _} = error -> error
        end

      :error ->
        {:error, {:invalid_option, :options, opts}}
    end
  end

  @doc "Like `new/1`, but returns the context or raises `ArgumentError` with the reason."
  @spec new!(keyword()) :: t()
  def new!(opts \\ []) do
    case new(opts) do
      {:ok, ctx} -> ctx
      {:error, reason} -> raise ArgumentError, "cannot open a context: #{inspect(reason)}"
    end
  end

  @doc "Releases the context's browser user (its browser context is disposed)."
  @spec close(t()) :: :ok
  def close(ctx), do: @ctx.close(unwrap(ctx))

  @doc "The context for the next iteration: error, halt and step counter cleared, assigns kept."
  @spec reset(t()) :: t()
  def reset(ctx), do: wrap(@ctx.reset(unwrap(ctx)))

  @doc "Sets the step timeout in milliseconds."
  @spec set_timeout(t(), pos_integer()) :: t()
  def set_timeout(ctx, ms) when is_integer(ms) and ms > 0, do: wrap(@ctx.set_timeout(unwrap(ctx), ms))

  def set_timeout(_ctx, ms),
    do: raise(ArgumentError, "invalid timeout: #{inspect(ms)} (a positive integer of ms)")

  # ---------------------------------------------------------------- navigation

  @doc "Opens a URL and waits for its `load` event; `{:navigation_error, url, text}` on refusal, DNS failure or HTTP >= 400."
  @spec navigate(t(), value(String.t())) :: t()
  def navigate(ctx, url), do: call(ctx, :navigate, [url])

  @doc "Reloads the page and waits for its `load` event."
  @spec reload(t()) :: t()
  def reload(ctx), do: call(ctx, :reload, [])

  # ---------------------------------------------------------------- interaction

  @doc "Clicks the element as a person: waits until it is visible, enabled and stable, scrolls it into view, real mouse events."
  @spec click(t(), selector()) :: t()
  def click(ctx, selector), do: call(ctx, :click, [selector])

  @doc "Replaces the field's value as typing would."
  @spec fill(t(), selector(), value(String.t() | number())) :: t()
  def fill(ctx, selector, value), do: call(ctx, :fill, [selector, value])

  @doc "Empties the field."
  @spec clear(t(), selector()) :: t()
  def clear(ctx, selector), do: call(ctx, :clear, [selector])

  @doc "Focuses the element and presses a key (`\"Enter\"`, `\"Tab\"`, `\"a\"`, `\"Shift+Tab\"`...)."
  @spec press(t(), selector(), value(String.t())) :: t()
  def press(ctx, selector, key), do: call(ctx, :press, [selector, key])

  @doc "Checks a checkbox or radio button (clicks only when it is not checked), then verifies it."
  @spec check(t(), selector()) :: t()
  def check(ctx, selector), do: call(ctx, :check, [selector])

  @doc "Unchecks a checkbox (clicks only when it is checked), then verifies it."
  @spec uncheck(t(), selector()) :: t()
  def uncheck(ctx, selector), do: call(ctx, :uncheck, [selector])

  @doc "Selects the option of a `<select>` with this value or label (input + change events)."
  @spec select_option(t(), selector(), value(String.t())) :: t()
  def select_option(ctx, selector, value), do: call(ctx, :select_option, [selector, value])

  @doc "Selects exactly these options (values or labels) of a `<select multiple>`."
  @spec select_multiple_options(t(), selector(), value([String.t()])) :: t()
  def select_multiple_options(ctx, selector, values),
    do: call(ctx, :select_multiple_options, [selector, values])

  @doc "Focuses the element."
  @spec focus(t(), selector()) :: t()
  def focus(ctx, selector), do: call(ctx, :focus, [selector])

  @doc "Removes focus from the element."
  @spec blur(t(), selector()) :: t()
  def blur(ctx, selector), do: call(ctx, :blur, [selector])

  @doc "Moves the mouse over the element's centre."
  @spec hover(t(), selector()) :: t()
  def hover(ctx, selector), do: call(ctx, :hover, [selector])

  @doc "Presses the mouse on the source, moves it in steps to the target and releases it."
  @spec drag_and_drop(t(), selector(), selector()) :: t()
  def drag_and_drop(ctx, source, target), do: call(ctx, :drag_and_drop, [source, target])

  @doc "Waits until the selector matches a visible element."
  @spec wait_for_selector(t(), selector()) :: t()
  def wait_for_selector(ctx, selector), do: call(ctx, :wait_for_selector, [selector])

  # ---------------------------------------------------------------- LiveView

  @doc "Fails with `:not_liveview` unless the page has a LiveView root, then waits until it is connected."
  @spec ensure_liveview(t()) :: t()
  def ensure_liveview(ctx), do: call(ctx, :ensure_liveview, [])

  @doc "Waits until every LiveView root of the page is connected."
  @spec wait_for_liveview(t()) :: t()
  def wait_for_liveview(ctx), do: call(ctx, :wait_for_liveview, [])

  @doc """
  Waits until the push of `kind` triggered on the element was answered and its patch applied; the
  round trip measured in the page is recorded as `liveview.event`.
  """
  @spec wait_for_phx_loading_completion(t(), kind(), selector()) :: t()
  def wait_for_phx_loading_completion(ctx, kind, selector),
    do: call(ctx, :wait_for_phx_loading_completion, [kind, selector])

  @doc "Clicks the form's submit button (or submits it) and waits for the submit push to complete."
  @spec submit_form(t(), selector()) :: t()
  def submit_form(ctx, selector), do: call(ctx, :submit_form, [selector])

  # ---------------------------------------------------------------- extraction

  @doc "The page's HTML."
  @spec page_content(t(), extract_opts()) :: extracted(String.t())
  def page_content(ctx, opts \\ []), do: extract(ctx, :page_content, [], opts)

  @doc "The element's `innerHTML`."
  @spec inner_html(t(), selector(), extract_opts()) :: extracted(String.t())
  def inner_html(ctx, selector, opts \\ []), do: extract(ctx, :inner_html, [selector], opts)

  @doc "The element's `innerText` (the rendered text)."
  @spec inner_text(t(), selector(), extract_opts()) :: extracted(String.t())
  def inner_text(ctx, selector, opts \\ []), do: extract(ctx, :inner_text, [selector], opts)

  @doc "The element's `textContent`."
  @spec text_content(t(), selector(), extract_opts()) :: extracted(String.t())
  def text_content(ctx, selector, opts \\ []), do: extract(ctx, :text_content, [selector], opts)

  @doc "The value of an input, textarea or select."
  @spec input_value(t(), selector(), extract_opts()) :: extracted(String.t())
  def input_value(ctx, selector, opts \\ []), do: extract(ctx, :input_value, [selector], opts)

  @doc "An attribute of the element, `nil` when it has none."
  @spec get_attribute(t(), selector(), value(String.t()), extract_opts()) :: extracted(String.t() | nil)
  def get_attribute(ctx, selector, name, opts \\ []), do: extract(ctx, :get_attribute, [selector, name], opts)

  @doc "Whether the selector matches a visible element now (no waiting)."
  @spec visible?(t(), selector(), extract_opts()) :: extracted(boolean())
  def visible?(ctx, selector, opts \\ []), do: extract(ctx, :visible, [selector], opts)

  @doc "Whether the checkbox or radio button is checked."
  @spec checked?(t(), selector(), extract_opts()) :: extracted(boolean())
  def checked?(ctx, selector, opts \\ []), do: extract(ctx, :checked, [selector], opts)

  # ---------------------------------------------------------------- assigns (never skipped)

  @doc "Stores a value under a key."
  @spec assign(t(), term(), term()) :: t()
  def assign(ctx, key, value), do: wrap(@ctx.assign(unwrap(ctx), key, value))

  @doc "Stores every pair of a keyword list or map."
  @spec assign(t(), keyword() | map()) :: t()
  def assign(ctx, pairs) when is_list(pairs) or is_map(pairs),
    do: Enum.reduce(pairs, ctx, fn {k, v}, acc -> assign(acc, k, v) end)

  @doc "Removes every assign."
  @spec reset_assigns(t()) :: t()
  def reset_assigns(ctx), do: wrap(@ctx.reset_assigns(unwrap(ctx)))

  @doc "Removes one assign."
  @spec clear_assign(t(), term()) :: t()
  def clear_assign(ctx, key), do: wrap(@ctx.clear_assign(unwrap(ctx), key))

  @doc "Replaces an assign with `fun.(old)`; raises `KeyError` when there is no such assign (like `Map.update!/3`)."
  @spec update_assign!(t(), term(), (term() -> term())) :: t()
  def update_assign!(ctx, key, fun) when is_function(fun, 1) do
    erl = unwrap(ctx)
    assigns = @ctx.assigns(erl)
    unless Map.has_key?(assigns, key), do: raise(KeyError, key: key, term: assigns)
    wrap(@ctx.update_assign(erl, key, fun))
  end

  # ---------------------------------------------------------------- data

  @doc """
  This iteration's row of the run's `data:` option (a map with string keys, e.g.
  `%{"username" => "user3", "password" => "..."}`), or `nil` when the run has no data; the same
  as `ctx.data`. guides/ci.md describes the strategies (`per_user`, `per_iteration`, `random`).
  """
  @spec data(t()) :: %{String.t() => term()} | nil
  def data(ctx) do
    case @ctx.data(unwrap(ctx)) do
      :undefined -> nil
      row -> row
    end
  end

  # ---------------------------------------------------------------- flow

  @doc "Ends the user's run cleanly (later steps skipped; the iteration counts as halted). No effect on a failed context."
  @spec halt(t()) :: t()
  def halt(ctx), do: wrap(@ctx.halt(unwrap(ctx)))

  @doc "Marks the context failed with `reason` (the first failure is kept)."
  @spec fail(t(), term()) :: t()
  def fail(ctx, reason), do: wrap(@ctx.fail(unwrap(ctx), reason))

  @doc "Whether the context was halted."
  @spec halted?(t()) :: boolean()
  def halted?(ctx), do: @ctx.halted(unwrap(ctx))

  @doc "Whether a step failed (or `fail/2` was called)."
  @spec failed?(t()) :: boolean()
  def failed?(ctx), do: @ctx.failed(unwrap(ctx))

  @doc "The failure `%{step, op, selector, reason}`, or `nil`."
  @spec error(t()) :: error_info() | nil
  def error(ctx) do
    case @ctx.error(unwrap(ctx)) do
      :undefined -> nil
      %{selector: :undefined} = e -> %{e | selector: nil}
      e -> e
    end
  end

  @doc ~S'The failure as text: "Step 3: click(#inc) failed: {selector_timeout,<<\"#inc\">>}"; `nil` when none.'
  @spec format_error(t()) :: String.t() | nil
  def format_error(ctx) do
    case @ctx.error(unwrap(ctx)) do
      :undefined -> nil
      e -> @ctx.format_error(e)
    end
  end

  @doc "Waits for a pass of the named throttle (declared by the scenario's `throttles/1`); an unknown name fails the context."
  @spec throttle(t(), atom() | String.t()) :: t()
  def throttle(ctx, name), do: wrap(@ctx.throttle(unwrap(ctx), name))

  # ---------------------------------------------------------------- storage

  @doc "Cookies and the current origin's localStorage, in Playwright's storageState shape (string keys)."
  @spec context_storage_snapshot(t(), extract_opts()) :: extracted(map())
  def context_storage_snapshot(ctx, opts \\ []), do: extract(ctx, :context_storage_snapshot, [], opts)

  @doc "Restores a snapshot: cookies now, localStorage now or when a page of that origin loads."
  @spec restore_context_storage(t(), value(map())) :: t()
  def restore_context_storage(ctx, snapshot), do: call(ctx, :restore_context_storage, [snapshot])

  @doc "Clears cookies, the current origin's localStorage and sessionStorage, and drops pending restores."
  @spec reset_context_storage(t()) :: t()
  def reset_context_storage(ctx), do: call(ctx, :reset_context_storage, [])

  # ---------------------------------------------------------------- the Erlang value

  @doc """
  The context wrapping an Erlang `live_load_context` value (a context is returned as it is).
  Used where Erlang code hands a context to Elixir code.
  """
  @spec wrap(term()) :: t()
  def wrap(%__MODULE__{} = ctx), do: ctx

  def wrap(erl) do
    data = with :undefined <- @ctx.data(erl), do: nil
    %__MODULE__{assigns: @ctx.assigns(erl), data: data, erlang: erl}
  end

  @doc """
  The Erlang `live_load_context` value of a context, with assigns changed in the struct carried
  over (an Erlang value is returned as it is). Raises `ArgumentError` for anything else.
  """
  @spec unwrap(t() | term()) :: term()
  def unwrap(%__MODULE__{assigns: assigns, erlang: erl}) do
    if assigns === @ctx.assigns(erl) do
      erl
    else
      Enum.reduce(assigns, @ctx.reset_assigns(erl), fn {k, v}, acc -> @ctx.assign(acc, k, v) end)
    end
  end

  # the Erlang value is opaque (a record private to src/context/)
  def unwrap(erl) when is_tuple(erl), do: erl

  def unwrap(other),
    do: raise(ArgumentError, "expected a LiveLoad.Scenario.Context, got: #{inspect(other, limit: 5)}")

  @doc false
  # `use LiveLoad.Scenario`'s run/3: the Elixir scenario gets a context struct; the caller gets back
  # the kind of value it gave (the Erlang runner an Erlang context).
  @spec __run__(term(), (t() -> t())) :: term()
  def __run__(%__MODULE__{} = ctx, fun), do: wrap(fun.(ctx))
  def __run__(erl, fun), do: unwrap(fun.(wrap(erl)))

  # ---------------------------------------------------------------- internals

  defp call(ctx, fun, args), do: wrap(apply(@ctx, fun, [unwrap(ctx) | Enum.map(args, &resolvable/1)]))

  defp extract(ctx, fun, args, opts) do
    unless Keyword.keyword?(opts),
      do: raise(ArgumentError, "#{fun}: options must be a keyword list, got: #{inspect(opts)}")

    opts = Keyword.validate!(opts, [:as])
    erl_args = [unwrap(ctx) | Enum.map(args, &resolvable/1)]

    case Keyword.fetch(opts, :as) do
      :error ->
        apply(@ctx, fun, erl_args ++ [%{}]) |> value()

      {:ok, f} when is_function(f, 1) ->
        merge = fn v -> f.(value(v)) end
        wrap(apply(@ctx, fun, erl_args ++ [%{as: merge}]))

      {:ok, key} ->
        merge = fn v -> %{key => value(v)} end
        wrap(apply(@ctx, fun, erl_args ++ [%{as: merge}]))
    end
  end

  defp value(:undefined), do: nil
  defp value({:error, reason}), do: {:error, reason}
  defp value(v), do: v

  defp resolvable(f) when is_function(f, 1), do: fn erl -> f.(wrap(erl)) end
  defp resolvable(v), do: v

  defp keyword_map(opts) when is_map(opts), do: {:ok, opts}

  defp keyword_map(opts) do
    if Keyword.keyword?(opts), do: {:ok, Map.new(opts)}, else: :error
  end

  defimpl Inspect do
    import Inspect.Algebra

    def inspect(ctx, opts) do
      status =
        cond do
          msg = LiveLoad.Scenario.Context.format_error(ctx) -> [failed: msg]
          LiveLoad.Scenario.Context.halted?(ctx) -> [halted: true]
          true -> []
        end

      fields = [assigns: ctx.assigns] ++ status

      container_doc(
        "#LiveLoad.Scenario.Context<",
        fields,
        ">",
        opts,
        fn {k, v}, o ->
          concat([Atom.to_string(k), ": ", to_doc(v, o)])
        end,
        separator: ",",
        break: :maybe
      )
    end
  end
end
