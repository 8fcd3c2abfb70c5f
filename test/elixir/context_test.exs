defmodule LiveLoad.Scenario.ContextTest do
  # Every LiveLoad.Scenario.Context function against real Chromium and the demo target's pages.
  # What a demo page shows nothing of (focus, hover, a mouse drag) is read from the page with CDP
  # (LiveLoad.Test.Page); the demo has no <select multiple> and no disabled button, so the tests
  # add them to a demo page first. Browser users are per test: async is off to keep the shared
  # 2-core machine from timing out.
  use ExUnit.Case, async: false

  import LiveLoad.Scenario.Context
  alias LiveLoad.Scenario.Context
  alias LiveLoad.Test.Page
  alias LiveLoad.TestTarget, as: T

  setup do
    {:ok, ctx} = Context.new(timeout: 20_000)
    on_exit(fn -> Context.close(ctx) end)
    %{ctx: ctx}
  end

  defp ok!(ctx) do
    assert error(ctx) == nil
    refute failed?(ctx)
    ctx
  end

  test "navigate, wait_for_liveview, click, wait_for_phx_loading_completion, reload", %{ctx: ctx} do
    c =
      ctx
      |> navigate(T.url("/counter"))
      |> wait_for_liveview()
      |> click("#inc")
      |> wait_for_phx_loading_completion(:click, "#inc")
      |> click("#inc")
      |> wait_for_phx_loading_completion("click", "#inc")
      |> ok!()

    assert inner_text(c, "#count") == "2"
    c = c |> reload() |> wait_for_liveview() |> ok!()
    # the demo keeps the count per LiveView process: a reload joins a fresh one
    assert inner_text(c, "#count") == "0"
  end

  test "ensure_liveview fails on a plain page and passes on a LiveView page", %{ctx: ctx} do
    # the demo's / is a dead page: no LiveView root
    plain = ctx |> navigate(T.url("/")) |> ok!()
    assert %{op: :ensure_liveview, reason: :not_liveview} = error(ensure_liveview(plain))
    plain |> navigate(T.url("/counter")) |> ensure_liveview() |> ok!()
  end

  test "form: fill, clear, select_option, check, uncheck, submit_form, input_value, get_attribute, checked?",
       %{ctx: ctx} do
    c =
      ctx
      |> navigate(T.url("/form"))
      |> wait_for_liveview()
      |> fill("#q", "abc")
      |> wait_for_phx_loading_completion(:change, "#q")
      |> ok!()

    assert input_value(c, "#q") == "abc"
    assert get_attribute(c, "#results", "data-q") == "abc"
    c = c |> clear("#q") |> ok!()
    assert input_value(c, "#q") == ""
    c = c |> fill("#q", "rock") |> select_option("#kind", "music") |> ok!()
    assert input_value(c, "#kind") == "music"
    c = c |> check("#exact") |> ok!()
    assert checked?(c, "#exact") == true
    assert checked?(c, "#exact", as: :exact).assigns.exact == true
    c = c |> uncheck("#exact") |> ok!()
    assert checked?(c, "#exact") == false
    c = c |> submit_form("#search-form") |> ok!()
    assert get_attribute(c, "#results", "data-submitted") == "rock"
    assert get_attribute(c, "#results", "no-such-attribute") == nil
    assert %{reason: {:no_such_option, "#kind", ["nope"]}} = error(select_option(c, "#kind", "nope"))
  end

  test "press sends key events; focus and blur move the page's focus", %{ctx: ctx} do
    c =
      ctx
      |> navigate(T.url("/counter"))
      |> wait_for_liveview()
      |> press("#keys", "x")
      |> wait_for_phx_loading_completion(:keyup, "#keys")
      |> ok!()

    assert inner_text(c, "#last-key") == "x"
    assert %{reason: {:invalid_option, :key, "Hyper+x"}} = error(press(c, "#keys", "Hyper+x"))

    f = c |> focus("#keys") |> ok!()
    assert Page.eval(f, "document.activeElement.id") == "keys"
    f = f |> blur("#keys") |> ok!()
    assert Page.eval(f, "document.activeElement.tagName") == "BODY"
    assert %{op: :focus, reason: {:selector_timeout, "#nope"}} = error(focus(set_timeout(f, 500), "#nope"))
  end

  test "hover and drag_and_drop move the real mouse over the demo counter", %{ctx: ctx} do
    c = ctx |> navigate(T.url("/counter")) |> wait_for_liveview() |> hover("#inc") |> ok!()
    assert Page.eval(c, "document.querySelector('#inc').matches(':hover')") == true
    c = c |> hover("#slow") |> ok!()

    assert Page.eval(
             c,
             "[document.querySelector('#inc').matches(':hover'), document.querySelector('#slow').matches(':hover')]"
           ) ==
             [false, true]

    # where the trusted mouse went down and came up (the demo has no drop zone)
    Page.eval(c, """
    window.__drag = [];
    for (const t of ['mousedown', 'mouseup'])
      document.addEventListener(t, (e) => __drag.push(t + ':' + e.target.id + ':' + e.isTrusted), true);
    """)

    c = c |> drag_and_drop("#count", "#crash") |> ok!()
    assert Page.eval(c, "__drag") == ["mousedown:count:true", "mouseup:crash:true"]

    assert %{op: :drag_and_drop, reason: {:selector_timeout, "#nope"}} =
             error(drag_and_drop(set_timeout(c, 500), "#count", "#nope"))
  end

  test "select_multiple_options in the demo form: LiveView gets the change", %{ctx: ctx} do
    c = ctx |> navigate(T.url("/form")) |> wait_for_liveview() |> ok!()
    # the demo form has one single <select>: selecting several options of it is refused
    assert %{op: :select_multiple_options} = error(select_multiple_options(c, "#kind", ["books", "music"]))

    Page.eval(c, """
    const s = document.createElement('select');
    s.id = 'tags'; s.name = 'tags[]'; s.multiple = true;
    s.innerHTML = '<option value="a">Alpha</option><option value="b">Beta</option><option value="c">Gamma</option>';
    s.addEventListener('change', () => { window.__tags = Array.from(s.selectedOptions).map((o) => o.value).join(','); });
    document.querySelector('#search-form').appendChild(s);
    """)

    c =
      c
      |> select_multiple_options("#tags", ["a", "Gamma"])
      |> wait_for_phx_loading_completion(:change, "#tags")
      |> ok!()

    assert Page.eval(c, "window.__tags") == "a,c"

    assert %{reason: {:no_such_option, "#tags", ["a", "nope"]}} =
             error(select_multiple_options(c, "#tags", ["a", "nope"]))
  end

  test "wait_for_selector waits for rows a LiveView diff adds; a disabled button is not clicked", %{ctx: ctx} do
    c = ctx |> navigate(T.url("/list")) |> wait_for_liveview() |> ok!()
    assert visible?(c, "#item-230") == false
    c = c |> click("#more") |> wait_for_selector("#item-230") |> ok!()
    assert inner_text(c, "#item-count") == "250"
    short = set_timeout(c, 600)

    assert %{op: :wait_for_selector, reason: {:selector_timeout, "#nope"}} =
             error(wait_for_selector(short, "#nope"))

    Page.eval(c, "document.querySelector('#more').disabled = true")
    assert %{reason: {:not_actionable, "#more", "not_enabled"}} = error(click(short, "#more"))
  end

  test "extraction returns the value without as:, assigns it with as:", %{ctx: ctx} do
    c = ctx |> navigate(T.url("/counter")) |> wait_for_liveview() |> ok!()
    assert page_content(c) =~ ~s(id="inc")
    assert inner_text(c, "#inc") == "+1"
    assert text_content(c, "#inc") == "+1"
    assert inner_html(c, "#count") == "0"
    assert get_attribute(c, "#inc", "phx-click") == "inc"
    assert visible?(c, "#inc") == true
    assert visible?(c, "#missing") == false
    assert input_value(c, "#count") == {:error, {:not_an_input, "#count"}}

    c =
      c
      |> page_content(as: :html)
      |> inner_html("#count", as: :count_html)
      |> text_content("#inc", as: :label)
      |> get_attribute("#inc", "phx-click", as: :event)
      |> get_attribute("#inc", "nope", as: :absent)
      |> visible?("#inc", as: :visible)
      |> inner_text("h1", as: &%{title: &1, title_length: String.length(&1)})
      |> ok!()

    assert %{
             count_html: "0",
             label: "+1",
             event: "inc",
             absent: nil,
             visible: true,
             title: "Counter",
             title_length: 7
           } = c.assigns

    assert c.assigns.html =~ "counter-page"
    assert_raise ArgumentError, ~r/unknown keys \[:bogus\]/, fn -> inner_text(c, "#inc", bogus: 1) end
  end

  test "resolvable selectors, URLs and values receive the Elixir context", %{ctx: ctx} do
    c =
      ctx
      |> assign(base: T.url(), field: "q")
      |> navigate(&(&1.assigns.base <> "/form"))
      |> wait_for_liveview()
      |> fill(&"##{&1.assigns.field}", fn %Context{} = c -> "from-#{c.assigns.field}" end)
      |> input_value("#q", as: :q)
      |> ok!()

    assert c.assigns.q == "from-q"
  end

  test "a failed step keeps its error; later steps are skipped; exceptions become the error", %{ctx: ctx} do
    c = ctx |> navigate(T.url("/counter")) |> set_timeout(800) |> click("#nope")
    assert %{step: 2, op: :click, selector: "#nope", reason: {:selector_timeout, "#nope"}} = error(c)
    assert failed?(c)
    assert format_error(c) =~ "Step 2: click(#nope) failed"
    skipped = c |> click("#inc") |> navigate("http://127.0.0.1:1/")
    assert error(skipped) == error(c)
    assert inner_text(c, "#count") == {:error, :skipped}
    # an extraction with as: on a failed context leaves it failed and assigns nothing
    refute Map.has_key?(inner_text(c, "#count", as: :x).assigns, :x)

    crashed = ctx |> navigate(fn _ -> raise "boom" end)
    assert %{op: :navigate, reason: {:exception, :error, %RuntimeError{message: "boom"}}} = error(crashed)
    assert error(reset(crashed)) == nil
  end

  test "assigns: assign, ctx.assigns, clear_assign, update_assign!, reset_assigns; struct updates carry over",
       %{ctx: ctx} do
    c = ctx |> assign(:n, 1) |> assign(%{a: "x"}) |> update_assign!(:n, &(&1 + 1))
    assert c.assigns == %{n: 2, a: "x"}
    assert_raise KeyError, fn -> update_assign!(c, :missing, & &1) end
    c = clear_assign(c, :a)
    assert c.assigns == %{n: 2}
    c = %{c | assigns: Map.put(c.assigns, :direct, true)}
    c = assign(c, :after, 3)
    assert c.assigns == %{n: 2, direct: true, after: 3}
    assert :live_load_context.assigns(Context.unwrap(c)) == c.assigns
    assert reset_assigns(c).assigns == %{}
  end

  test "flow: halt, fail, halted?, failed?", %{ctx: ctx} do
    h = halt(ctx)
    assert halted?(h)
    refute failed?(h)
    assert inner_text(h, "h1") == {:error, :skipped}
    f = fail(ctx, :out_of_stock)
    assert failed?(f)
    refute halted?(f)
    assert %{op: :fail, reason: :out_of_stock} = error(f)
    # the first failure is kept; halt has no effect on a failed context
    assert %{reason: :out_of_stock} = error(fail(f, :other))
    refute halted?(halt(f))
  end

  test "storage: restore_context_storage, context_storage_snapshot, reset_context_storage on the demo origin",
       %{ctx: ctx} do
    origin = T.url()
    c = ctx |> navigate(T.url("/counter")) |> wait_for_liveview() |> ok!()
    # what the page itself stores is in the snapshot
    Page.eval(c, "document.cookie = 'theme=dark; path=/'; localStorage.setItem('seen', '1'); 1")

    assert %{"cookies" => [%{"name" => "theme", "value" => "dark"}], "origins" => [%{"origin" => ^origin}]} =
             context_storage_snapshot(c)

    snapshot = %{
      "cookies" => [%{"name" => "sid", "value" => "abc", "domain" => "127.0.0.1", "path" => "/"}],
      "origins" => [%{"origin" => origin, "localStorage" => [%{"name" => "k", "value" => "v1"}]}]
    }

    c = c |> reset_context_storage() |> restore_context_storage(snapshot) |> reload() |> ok!()

    assert Page.eval(c, "[document.cookie, localStorage.getItem('k'), localStorage.getItem('seen')]") ==
             ["sid=abc", "v1", nil]

    snap = context_storage_snapshot(c)
    assert [%{"name" => "sid", "value" => "abc"}] = snap["cookies"]
    assert [%{"origin" => ^origin, "localStorage" => [%{"name" => "k", "value" => "v1"}]}] = snap["origins"]
    assert context_storage_snapshot(c, as: :snap).assigns.snap == snap

    c = c |> reset_context_storage() |> reload() |> ok!()
    assert %{"cookies" => [], "origins" => [%{"localStorage" => []}]} = context_storage_snapshot(c)
    assert Page.eval(c, "document.cookie") == ""
    c = c |> restore_context_storage(fn _ -> snap end) |> reload() |> ok!()
    assert context_storage_snapshot(c) == snap
    assert %{reason: {:invalid_option, :snapshot, %{}}} = error(restore_context_storage(c, %{}))
  end

  test "data: ctx.data and data/1 give the iteration's row (nil without data)", %{ctx: ctx} do
    assert data(ctx) == nil
    assert ctx.data == nil
    row = %{"username" => "user1", "password" => "pw"}
    c = Context.wrap(:live_load_context.set_data(Context.unwrap(ctx), row))
    assert c.data == row
    assert data(c) == row
    # the row stays with the context through steps
    c = c |> assign(:x, 1) |> navigate(T.url("/login")) |> ok!()
    assert c.data == row
    refute inspect(c) =~ "pw"
  end

  test "throttle: a started throttle passes, an unknown one fails the context", %{ctx: ctx} do
    {:ok, _} = :live_load_throttle.start(LiveLoad.Scenario.Throttle.Rate.new(:ctx_test_rate, 6000))
    on_exit(fn -> :live_load_throttle.stop(:ctx_test_rate) end)
    ok!(throttle(ctx, :ctx_test_rate))

    assert %{op: :throttle, reason: {:unknown_throttle, :no_such_throttle}} =
             error(throttle(ctx, :no_such_throttle))
  end

  test "inspect shows assigns and status, not the Erlang value", %{ctx: ctx} do
    c = assign(ctx, :id, 7)
    assert inspect(c) == "#LiveLoad.Scenario.Context<assigns: %{id: 7}>"
    assert inspect(halt(c)) == "#LiveLoad.Scenario.Context<assigns: %{id: 7}, halted: true>"
    assert inspect(fail(c, :why)) =~ ~s|failed: "Step 0: fail() failed: why"|
    refute inspect(c) =~ "llctx"
  end

  test "new/1 with a bad option gives the Erlang error; unwrap rejects other values" do
    assert {:error, {:invalid_option, :timeout, -1}} = Context.new(timeout: -1)
    assert {:error, {:invalid_option, :options, [1]}} = Context.new([1])

    assert_raise ArgumentError, ~r/cannot open a context: \{:invalid_option, :timeout, -1\}/, fn ->
      Context.new!(timeout: -1)
    end

    assert_raise ArgumentError, ~r/expected a LiveLoad.Scenario.Context/, fn -> click(%{}, "#x") end
  end
end
