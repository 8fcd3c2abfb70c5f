// live_load observer: times Phoenix LiveView in the page and reports through the binding `__live_load`.
//
// Installed by the port with Page.addScriptToEvaluateOnNewDocument while the page is paused, so it
// runs in the main world before any page script. Every report is one binding call per microtask with
// a JSON object {time_origin, path, dropped, events: [...]}; each event has `kind` and `t` (ms since the
// document's navigation start, performance.now()), so wall-clock ms = time_origin + t.
// The event list is documented in guides/events.md. The context calls the helpers on
// window.__liveLoadObserver (waitFor, whenConnected, state) through Runtime.evaluate.
//
// LiveView >= 1.0 announces each push with a bubbling `phx:push` event whose loadingComplete promise
// resolves after the reply's patch: pushes are keyed on (data-phx-ref-src, ref). LiveView 0.20 has no
// phx:push, so a MutationObserver walks every class-attribute record (attributeOldValue) and times
// phx-*-loading classes per element; a class added and removed inside one batch is still seen.
(() => {
  'use strict';
  if (window.top !== window || window.__liveLoadObserver) return;
  const binding = window.__live_load;
  if (typeof binding !== 'function') return;

  const MAX_BATCH = 500;      // events per binding call; more in one microtask are counted as dropped
  const MAX_PENDING = 256;    // pushes awaiting their patch; the oldest is reported lost beyond that
  const MAX_STR = 120;        // cap on every string taken from the page
  const TYPES = ['click', 'change', 'submit', 'keydown', 'keyup', 'focus', 'blur', 'hook'];
  const now = () => performance.now();
  const cap = (s) => (s == null ? null : String(s).slice(0, MAX_STR));

  // Debug mode logs every LiveView message to the console on localhost: switch it off unless chosen.
  try {
    if (sessionStorage.getItem('phx:live-socket:debug') === null) sessionStorage.setItem('phx:live-socket:debug', 'false');
  } catch (_) { /* storage may be disabled (opaque origin) */ }

  // ---------------------------------------------------------------- batching
  let queue = [];
  let dropped = 0;
  let flushWaiters = [];
  const flush = () => {
    const events = queue, d = dropped, waiters = flushWaiters;
    queue = []; dropped = 0; flushWaiters = [];
    if (events.length || d) {
      try { binding(JSON.stringify({ time_origin: performance.timeOrigin, path: cap(location.pathname), dropped: d, events })); } catch (_) { }
    }
    for (const w of waiters) w();
  };
  const emit = (ev) => {
    if (queue.length === 0 && flushWaiters.length === 0) queueMicrotask(flush);
    if (queue.length >= MAX_BATCH) { dropped++; return; }
    if (ev.t === undefined) ev.t = now();
    queue.push(ev);
  };
  // Resolves after the batch holding the events emitted so far has been handed to the binding, so a
  // Runtime.evaluate reply that awaited it reaches the driver after those events.
  const flushed = () => new Promise((resolve) => {
    if (queue.length === 0 && flushWaiters.length === 0) queueMicrotask(flush);
    flushWaiters.push(resolve);
  });

  // ---------------------------------------------------------------- element descriptors, event names
  const describe = (el) => {
    if (!el || !el.tagName) return null;
    let d = el.tagName.toLowerCase();
    if (el.id) d += '#' + el.id;
    else if (el.getAttribute('name')) d += '[name="' + el.getAttribute('name') + '"]';
    else if (typeof el.className === 'string' && el.className.trim()) d += '.' + el.className.trim().split(/\s+/)[0];
    return cap(d);
  };
  // A phx-* binding value is an event name or a JS command list; take the first pushed event.
  const eventName = (v) => {
    if (v == null) return null;
    const s = String(v);
    if (s[0] !== '[') return cap(s);
    try {
      for (const [op, args] of JSON.parse(s)) if (op === 'push' && args && args.event) return cap(args.event);
    } catch (_) { }
    return 'js';
  };
  const boundEvent = (el, type) => {
    let v = el.getAttribute && el.getAttribute('phx-' + type);
    if (v == null && (type === 'change' || type === 'submit') && el.form) v = el.form.getAttribute('phx-' + type);
    return eventName(v);
  };

  // ---------------------------------------------------------------- trusted input
  // The trusted input event being dispatched in this task: a push made while it is current was
  // triggered by it, so input_ms = patch time - input time.
  let input = null;
  const onInput = (e) => {
    if (!e.isTrusted || (input && input.task)) return;
    input = { t: now(), type: e.type, task: true };
    setTimeout(() => { if (input) input.task = false; }, 0);
  };
  for (const type of ['mousedown', 'mouseup', 'click', 'keydown', 'keyup', 'beforeinput', 'input', 'change', 'submit', 'focusin', 'focusout']) {
    addEventListener(type, onInput, true);
  }
  const inputStart = () => (input && input.task ? input.t : null);

  // ---------------------------------------------------------------- pushes
  let hasPush = false;
  const pending = new Map();        // "view|ref" (push) or element record (class fallback) -> rec
  const lastByEl = new WeakMap();   // element -> {type -> rec}: what waitFor looks at
  const waiters = new Set();        // waitFor calls not yet answered
  const remember = (el, rec) => {
    let m = lastByEl.get(el);
    if (!m) lastByEl.set(el, (m = {}));
    m[rec.type] = rec;
  };
  const complete = (rec, lost) => {
    if (rec.done) return;
    rec.done = true;
    rec.end = now();
    pending.delete(rec.key);
    if (lost) {
      rec.lost = lost;
      emit({ kind: 'event_lost', t: rec.end, reason: lost, source: rec.source, event: rec.event, type: rec.type, view: rec.view, ref: rec.ref, el: rec.el });
    } else {
      rec.ms = rec.end - rec.start;
      emit({ kind: 'event', t: rec.end, source: rec.source, event: rec.event, type: rec.type, view: rec.view, ref: rec.ref,
             el: rec.el, ms: rec.ms, input_ms: rec.input == null ? null : rec.end - rec.input });
    }
    for (const w of waiters) w.check();
  };
  const track = (rec) => {
    pending.set(rec.key, rec);
    if (pending.size > MAX_PENDING) complete(pending.values().next().value, 'overflow');
  };
  const loseAll = (reason, view) => {
    for (const rec of Array.from(pending.values())) if (!view || rec.view === view) complete(rec, reason);
  };

  addEventListener('phx:push', (e) => {
    const d = e.detail, el = e.target;
    if (!d || !el || !el.getAttribute) return;
    hasPush = true;
    const view = cap(el.getAttribute('data-phx-ref-src') || '');
    const key = view + '|' + d.ref;
    let rec = pending.get(key);
    if (!rec) {
      rec = { key, source: 'push', view, ref: d.ref, event: cap(d.event) || boundEvent(el, d.eventType), type: cap(d.eventType),
              el: describe(el), start: now(), input: inputStart(), done: false };
      track(rec);
      if (d.loadingComplete && d.loadingComplete.then) d.loadingComplete.then(() => complete(rec, null));
    }
    remember(el, rec);
    for (const w of waiters) w.check();
  }, true);

  // LiveView 0.20: time phx-TYPE-loading classes on elements carrying data-phx-ref (no phx:push).
  const classStart = (el, type, t) => {
    if (hasPush || el.hasAttribute('data-phx-ref-loading') || !el.hasAttribute('data-phx-ref')) return;
    const view = cap(el.getAttribute('data-phx-ref-src') || ''), ref = Number(el.getAttribute('data-phx-ref'));
    // One push marks several elements (phx-change: the input and its form): one record per ref.
    const key = view + '|' + ref + '|' + type;
    const same = pending.get(key);
    if (same) { remember(el, same); return; }
    const rec = { key, source: 'class', view, ref, event: boundEvent(el, type), type, el: describe(el), start: t, input: inputStart(), done: false };
    const old = lastByEl.get(el);
    if (old && old[type] && !old[type].done) complete(old[type], 'replaced');
    track(rec);
    remember(el, rec);
    for (const w of waiters) w.check();
  };
  const classStop = (el, type) => {
    const m = lastByEl.get(el);
    const rec = m && m[type];
    if (rec && rec.source === 'class' && !rec.done) complete(rec, null);
  };

  // ---------------------------------------------------------------- connection of the root views
  const conn = { connected: false, ever: false, downAt: null, transport: null };
  const transport = () => {
    try {
      const ls = window.liveSocket;
      const sock = ls && (ls.socket || (ls.getSocket && ls.getSocket()));
      const c = sock && sock.conn;
      if (c) return (typeof WebSocket === 'function' && c instanceof WebSocket) ? 'websocket' : 'longpoll';
      if (sessionStorage.getItem('phx:fallback:LongPoll') === 'true') return 'longpoll';
    } catch (_) { }
    return 'unknown';
  };
  const isMain = (el) => el.hasAttribute('data-phx-main') || !document.querySelector('[data-phx-main]');
  const rootChange = (el, before, after, t) => {
    const view = cap(el.id);
    if (!before.has('phx-error') && after.has('phx-error')) {
      const kind = after.has('phx-server-error') ? 'server' : after.has('phx-client-error') ? 'client' : 'unknown';
      emit({ kind: 'lv_error', t, error: kind, view, main: isMain(el) });
      loseAll('view_error', view);
      if (isMain(el) && conn.connected) {
        conn.connected = false; conn.downAt = t;
        emit({ kind: 'disconnect', t, view, error: kind });
      }
    }
    if (!before.has('phx-connected') && after.has('phx-connected') && isMain(el)) {
      conn.connected = true;
      const tr = transport();
      if (tr !== conn.transport) { conn.transport = tr; emit({ kind: 'transport', t, transport: tr }); }
      if (!conn.ever) {
        conn.ever = true;
        emit({ kind: 'connect', t, ms: t, view, url: cap(location.href), transport: tr });
      } else if (conn.downAt !== null) {
        emit({ kind: 'reconnect', t, ms: t - conn.downAt, view, transport: tr });
        conn.downAt = null;
      }
      for (const w of waiters) w.check();
    }
  };

  // ---------------------------------------------------------------- class mutations
  const LOADING = new Map(TYPES.map((ty) => ['phx-' + ty + '-loading', ty]));
  const classSet = (s) => new Set(s ? s.split(/\s+/).filter(Boolean) : []);
  const classChange = (el, beforeStr, afterStr, t) => {
    const before = classSet(beforeStr), after = classSet(afterStr);
    for (const [cls, type] of LOADING) {
      const b = before.has(cls), a = after.has(cls);
      if (!b && a) classStart(el, type, t);
      else if (b && !a) classStop(el, type);
    }
    if (el.hasAttribute('data-phx-session')) rootChange(el, before, after, t);
  };
  const observer = new MutationObserver((records) => {
    const t = now();
    // Walk every record: the value after record i is the oldValue of the next record on that element.
    const prev = new Map();
    for (const r of records) {
      const el = r.target;
      if (prev.has(el)) classChange(el, prev.get(el), r.oldValue, t);
      prev.set(el, r.oldValue);
    }
    for (const [el, old] of prev) classChange(el, old, el.getAttribute('class'), t);
  });
  observer.observe(document, { subtree: true, attributes: true, attributeFilter: ['class'], attributeOldValue: true });

  // ---------------------------------------------------------------- page events
  const loadingStarts = new Map();
  addEventListener('phx:page-loading-start', (e) => {
    const d = e.detail || {};
    const kind = cap(d.kind) || 'unknown';
    if (!loadingStarts.has(kind)) loadingStarts.set(kind, now());
  });
  addEventListener('phx:page-loading-stop', (e) => {
    const d = e.detail || {};
    const kind = cap(d.kind) || 'unknown';
    const t = now();
    if (loadingStarts.has(kind)) {
      emit({ kind: 'navigation', t, nav: kind, ms: t - loadingStarts.get(kind), to: cap(d.to) });
      loadingStarts.delete(kind);
    }
  });
  addEventListener('phx:navigate', (e) => {
    const d = e.detail || {};
    emit({ kind: 'navigate', href: cap(d.href), patch: !!d.patch, pop: !!d.pop });
  });
  addEventListener('phx:live-view:diagnostic', (e) => {
    const d = e.detail || {};
    emit({ kind: 'diagnostic', level: cap(d.level), code: cap(d.code), view: cap(d.viewId) });
  });
  addEventListener('error', (e) => {
    if (!(e instanceof ErrorEvent)) return;
    emit({ kind: 'js_error', message: cap(e.message), source: cap(e.filename), line: e.lineno || null });
  });
  addEventListener('unhandledrejection', (e) => {
    const r = e.reason;
    emit({ kind: 'js_error', message: cap(r && r.message ? r.message : r), source: null, line: null, unhandled: true });
  });
  addEventListener('DOMContentLoaded', () => emit({ kind: 'dom_ready' }));
  addEventListener('pagehide', () => { loseAll('pagehide', null); flush(); });

  // LiveView >= 1.0 (which has LiveSocket#version) dispatches phx:push; 0.20 does not.
  const pushCapable = () => {
    if (hasPush) return true;
    try { const ls = window.liveSocket; return !!(ls && ls.version && parseInt(ls.version(), 10) >= 1); } catch (_) { return false; }
  };

  // ---------------------------------------------------------------- helpers for the driver
  const roots = () => Array.from(document.querySelectorAll('[data-phx-session]'));
  const allConnected = () => { const r = roots(); return r.length > 0 && r.every((el) => el.classList.contains('phx-connected')); };

  // Resolve when something holds, re-checked on every push, completion and connection change.
  const waitUntil = (test, timeoutMs) => new Promise((resolve) => {
    const w = {
      check() {
        let v;
        try { v = test(); } catch (err) { v = { error: 'exception', message: cap(err && err.message) }; }
        if (v === undefined) return;
        waiters.delete(w); clearTimeout(w.timer); clearInterval(w.poll);
        flushed().then(() => resolve(v));
      },
    };
    w.timer = setTimeout(() => { waiters.delete(w); clearInterval(w.poll); resolve({ error: 'timeout' }); }, timeoutMs);
    // Conditions that no observed event announces (nested roots, the class fallback) are polled.
    w.poll = setInterval(() => w.check(), 50);
    waiters.add(w);
    w.check();
  });

  window.__liveLoadObserver = Object.freeze({
    version: 1,
    // The newest push of `type` on an element matching `sel` (or inside the form it names) not yet
    // handed to an earlier waitFor: wait for its patch, return its in-page timing.
    waitFor(sel, type, timeoutMs) {
      try { document.querySelector(sel); } catch (_) { return Promise.resolve({ error: 'invalid_selector' }); }
      const t0 = now();
      return waitUntil(() => {
        const els = document.querySelectorAll(sel);
        if (els.length === 0) return undefined;
        for (const el of els) {
          const m = lastByEl.get(el);
          const rec = m && m[type];
          if (rec && !rec.consumed) {
            if (!rec.done) return undefined;
            rec.consumed = true;
            return rec.ms == null ? { error: 'lost', reason: rec.lost || null } : { ms: rec.ms, input_ms: rec.input == null ? null : rec.end - rec.input, event: rec.event, ref: rec.ref, source: rec.source };
          }
        }
        // No push seen on this element and the page cannot announce one (LiveView < 1.0): the class.
        if (!pushCapable() && els.length && !Array.from(els).some((el) => el.classList.contains('phx-' + type + '-loading')) && now() - t0 > 50) {
          return { ms: null, source: 'none' };
        }
        return undefined;
      }, timeoutMs);
    },
    whenConnected(timeoutMs) {
      return waitUntil(() => (allConnected() ? { ms: now(), transport: conn.transport || transport() } : undefined), timeoutMs);
    },
    state() {
      return { connected: allConnected(), roots: roots().length, ever: conn.ever, transport: conn.transport, push: hasPush, pending: pending.size };
    },
    flushed,
  });

  emit({ kind: 'init', url: cap(location.href) });
})();
