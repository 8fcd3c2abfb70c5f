%% @doc The JavaScript the context runs in the page, and safe literals for embedding values in it.
%%
%% Every snippet is an expression built by {@link call/2} with literals from {@link literal/1}, which
%% escapes everything outside a small ASCII set, so a selector or text can never break out of its
%% string. An action on an element is one `Runtime.evaluate' ({@link on_selector/4}): wait until
%% the selector's element is actionable, then run an element function on it, answering
%% `{value: V}' or `{error: Code}' by value (no remote object, nothing to release). Snippets answer
%% with plain values; a string from `actionable' is an error code.
-module(live_load_browser_js).

-export([call/2]).
-export([literal/1]).
-export([actionable/0]).
-export([on_selector/4]).
-export([element_fun/1]).
-export([navigation_status/0]).
-export([wait_liveview/0]).
-export([wait_loading/0]).
-export([wait_state/0]).

%% @doc An expression applying the function source `Fun' to literal arguments.
-spec call(iodata(), [term()]) -> binary().
call(Fun, Args) ->
    iolist_to_binary(["(", Fun, ")(", lists:join(",", [literal(A) || A <- Args]), ")"]).

%% @doc A JavaScript literal for a binary (string), integer, float, boolean, `undefined'/`null', or
%% a list of those (an array).
-spec literal(binary() | number() | boolean() | null | undefined | list()) -> binary().
literal(true) -> <<"true">>;
literal(false) -> <<"false">>;
literal(null) -> <<"null">>;
literal(undefined) -> <<"undefined">>;
literal(I) when is_integer(I) -> integer_to_binary(I);
literal(F) when is_float(F) -> float_to_binary(F, [short]);
literal(L) when is_list(L) -> iolist_to_binary(["[", lists:join(",", [literal(X) || X <- L]), "]"]);
literal(B) when is_binary(B) ->
    case unicode:characters_to_list(B) of
        L when is_list(L) -> iolist_to_binary([$", [char(C) || C <- L], $"]);
        _ -> error({badarg, not_utf8})
    end.

char(C) when C >= $a, C =< $z; C >= $A, C =< $Z; C >= $0, C =< $9 -> C;
char(C) when C =:= $\s; C =:= $-; C =:= $_; C =:= $.; C =:= $#; C =:= $: -> C;
char(C) when C > 16#FFFF ->
    C1 = C - 16#10000,
    [u(16#D800 bor (C1 bsr 10)), u(16#DC00 bor (C1 band 16#3FF))];
char(C) -> u(C).

u(C) -> io_lib:format("\\u~4.16.0B", [C]).

%% @doc Waits (in the page, polling each animation frame) until `document.querySelector(sel)' is
%% attached, visible, enabled, editable or stable (same box over two frames); returns the element,
%% or one of the strings invalid_selector, selector_timeout, not_visible, not_enabled,
%% not_editable, not_stable. A hidden page (fast mode) draws no frame: there a frame is `frameMs'
%% of timer instead (50 when not given).
-spec actionable() -> binary().
actionable() ->
    <<"async (sel, need, timeout, frameMs) => {
  const t0 = performance.now();
  const frame = () => new Promise((r) => { let d = false; const f = () => { if (!d) { d = true; r(); } };
    requestAnimationFrame(f); setTimeout(f, frameMs || 50); });
  let last = null, why = 'selector_timeout';
  for (;;) {
    let el;
    try { el = document.querySelector(sel); } catch (e) { return 'invalid_selector'; }
    if (el) {
      if (need === 'attached') return el;
      const r = el.getBoundingClientRect(), st = getComputedStyle(el);
      const visible = r.width > 0 && r.height > 0 && st.visibility !== 'hidden' && st.display !== 'none';
      if (!visible) { why = 'not_visible'; last = null; }
      else if (need === 'visible') return el;
      else if (el.disabled || el.closest('fieldset:disabled') || el.getAttribute('aria-disabled') === 'true') { why = 'not_enabled'; last = null; }
      else if (need === 'editable' && (el.readOnly || !(el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)))) { why = 'not_editable'; last = null; }
      else {
        const box = [r.x, r.y, r.width, r.height].join(',');
        if (box === last) return el;
        last = box; why = 'not_stable';
      }
    } else { why = 'selector_timeout'; last = null; }
    if (performance.now() - t0 > timeout) return why;
    await frame();
  }
}">>.

%% @doc One expression: wait until `Sel' is `Need' (see {@link actionable/0}; `Timeout' ms), then
%% call `element_fun(Fun)' on the element with `Args'. Answers `{value: V}' or `{error: Code}'.
%% `FrameMs': what a frame lasts on a page that draws none (fast mode).
-spec on_selector(binary(), atom(), atom(), #{args => [term()], timeout := pos_integer(), frame_ms => pos_integer()}) -> binary().
on_selector(Sel, Need, Fun, #{timeout := Timeout} = O) ->
    call(["async (sel, need, timeout, frameMs, args) => {
  const el = await (", actionable(), ")(sel, need, timeout, frameMs);
  if (typeof el === 'string') return {error: el};
  return {value: await (", element_fun(Fun), ").apply(el, args)};
}"], [Sel, atom_to_binary(Need), Timeout, maps:get(frame_ms, O, 50), maps:get(args, O, [])]).

%% @doc Function declarations run on an element (`this'), by {@link on_selector/4}.
-spec element_fun(atom()) -> binary().
element_fun(prepare_fill) ->
    %% Text-like fields get focus + selection so Input.insertText replaces the value as typing would;
    %% the others (date, range, color...) take the value directly with input + change events.
    <<"function (value) {
  const typed = ['', 'text', 'search', 'email', 'url', 'tel', 'password', 'number'];
  if (this.tagName === 'INPUT' && !typed.includes(this.type)) {
    this.value = value;
    this.dispatchEvent(new Event('input', {bubbles: true}));
    this.dispatchEvent(new Event('change', {bubbles: true}));
    return 'set';
  }
  this.focus();
  if (this.isContentEditable) { const r = document.createRange(); r.selectNodeContents(this);
    const s = getSelection(); s.removeAllRanges(); s.addRange(r); }
  else if (this.select) this.select();
  return 'type';
}">>;
element_fun(focus) -> <<"function () { this.focus(); return document.activeElement === this; }">>;
element_fun(point) -> <<"function () {", (point())/binary, " return pointOf(this); }">>;
element_fun(submit_point) ->
    %% faithful submit: the point of the form's submit button (to click there), or submitted
    <<"function () {", (point())/binary, "
  const b = this.querySelector('[type=submit]');
  if (b) return pointOf(b);
  if (this.requestSubmit) this.requestSubmit(); else this.submit();
  return 'submitted';
}">>;
element_fun(submit_click) ->
    <<"function () {
  const b = this.querySelector('[type=submit]');
  if (b) b.click(); else if (this.requestSubmit) this.requestSubmit(); else this.submit();
  return 'submitted';
}">>;
element_fun(blur) -> <<"function () { this.blur(); return true; }">>;
element_fun(click) -> <<"function () { this.click(); return true; }">>;
element_fun(checked) -> <<"function () { return !!this.checked; }">>;
element_fun(select_options) ->
    <<"function (values, multiple) {
  if (this.tagName !== 'SELECT') return 'not_a_select';
  if (multiple && !this.multiple) return 'not_multiple';
  const opts = Array.from(this.options);
  const pick = values.map((v) => opts.find((o) => o.value === v) || opts.find((o) => o.label === v));
  if (pick.some((o) => !o)) return 'no_such_option';
  for (const o of opts) o.selected = pick.includes(o);
  this.dispatchEvent(new Event('input', {bubbles: true}));
  this.dispatchEvent(new Event('change', {bubbles: true}));
  return pick.map((o) => o.value);
}">>;
element_fun(inner_html) -> <<"function () { return this.innerHTML; }">>;
element_fun(inner_text) -> <<"function () { return this.innerText; }">>;
element_fun(text_content) -> <<"function () { return this.textContent; }">>;
element_fun(input_value) ->
    <<"function () { return ('value' in this) ? String(this.value) : 'not_an_input'; }">>;
element_fun(get_attribute) -> <<"function (name) { return this.getAttribute(name); }">>.

%% `pointOf(el)': the element scrolled into view when it is not (as DOM.scrollIntoViewIfNeeded),
%% then the centre of its first box (the first line box of an inline element) clipped to the
%% viewport, `{x, y}' in CSS pixels, or 'not_in_viewport'.
point() ->
    <<"
  const pointOf = (el) => {
    if (el.scrollIntoViewIfNeeded) el.scrollIntoViewIfNeeded(true); else el.scrollIntoView({block: 'center', inline: 'center'});
    const r = el.getClientRects()[0] || el.getBoundingClientRect();
    const x0 = Math.max(r.left, 0), x1 = Math.min(r.right, innerWidth), y0 = Math.max(r.top, 0), y1 = Math.min(r.bottom, innerHeight);
    if (x1 <= x0 || y1 <= y0) return 'not_in_viewport';
    return {x: (x0 + x1) / 2, y: (y0 + y1) / 2};
  };">>.

%% @doc HTTP status of the current document (0 when the page was not loaded over HTTP).
-spec navigation_status() -> binary().
navigation_status() ->
    <<"(() => { const n = performance.getEntriesByType('navigation')[0];
  return n && n.responseStatus ? n.responseStatus : 0; })()">>.

%% @doc Waits until every LiveView root of the page is connected: the observer's answer, or
%% class polling when the observer is absent. Roots are server-rendered, so the decision "this page
%% is not a LiveView" is taken once the document has loaded (`readyState' complete) without a
%% `[data-phx-session]' element: `{error: 'not_liveview'}' at once, not after the timeout. With
%% `check' it answers `{liveview: Boolean}' at that point without waiting for the connection.
-spec wait_liveview() -> binary().
wait_liveview() ->
    <<"async (timeout, check) => {
  const t0 = performance.now();
  const root = () => document.querySelector('[data-phx-session]');
  while (!root() && document.readyState !== 'complete') {
    if (performance.now() - t0 > timeout) return {error: 'timeout'};
    await new Promise((r) => setTimeout(r, 10));
  }
  if (check) return {liveview: !!root()};
  if (!root()) return {error: 'not_liveview'};
  const o = window.__liveLoadObserver;
  if (o) return o.whenConnected(Math.max(1, timeout - (performance.now() - t0)));
  for (;;) {
    const roots = Array.from(document.querySelectorAll('[data-phx-session]'));
    if (roots.length && roots.every((e) => e.classList.contains('phx-connected'))) return {ms: null};
    if (performance.now() - t0 > timeout) return {error: 'timeout'};
    await new Promise((r) => setTimeout(r, 20));
  }
}">>.

%% @doc Waits (polling each 20 ms) until `document.querySelector(sel)' is in `state': attached,
%% visible, hidden (absent or not visible) or detached (absent). Answers true, or the string
%% invalid_selector or selector_timeout.
-spec wait_state() -> binary().
wait_state() ->
    <<"async (sel, state, timeout) => {
  const t0 = performance.now();
  for (;;) {
    let el;
    try { el = document.querySelector(sel); } catch (e) { return 'invalid_selector'; }
    let vis = false;
    if (el) { const r = el.getBoundingClientRect(), st = getComputedStyle(el);
      vis = r.width > 0 && r.height > 0 && st.visibility !== 'hidden' && st.display !== 'none'; }
    if ((state === 'attached' && el) || (state === 'visible' && vis) || (state === 'hidden' && !vis)
        || (state === 'detached' && !el)) return true;
    if (performance.now() - t0 > timeout) return 'selector_timeout';
    await new Promise((r) => setTimeout(r, 20));
  }
}">>.

%% @doc Waits for the push of a kind triggered on the element (observer), or for the element to
%% lose its phx-KIND-loading class when the observer is absent.
-spec wait_loading() -> binary().
wait_loading() ->
    <<"async (sel, kind, timeout) => {
  const o = window.__liveLoadObserver;
  if (o) return o.waitFor(sel, kind, timeout);
  const t0 = performance.now();
  for (;;) {
    let els;
    try { els = document.querySelectorAll(sel); } catch (e) { return {error: 'invalid_selector'}; }
    if (els.length && !Array.from(els).some((e) => e.classList.contains('phx-' + kind + '-loading'))) return {ms: null, source: 'none'};
    if (performance.now() - t0 > timeout) return {error: 'timeout'};
    await new Promise((r) => setTimeout(r, 10));
  }
}">>.
