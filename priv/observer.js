// Placeholder observer (the context area replaces it with the real LiveView observer).
// Runs in the main world of every page before any page script (installed while the page is paused),
// and reports through the Runtime binding `__live_load` with one JSON array per microtask.
(() => {
  if (window.top !== window || window.__liveLoadObserver) return;
  const emit = window.__live_load;
  if (typeof emit !== 'function') return;
  let queue = [];
  const push = (ev) => {
    if (queue.length === 0) queue.push = queue.push, queueMicrotask(() => { const q = queue; queue = []; emit(JSON.stringify(q)); });
    queue.push(ev);
  };
  window.__liveLoadObserver = { push };
  push({ kind: 'init', t: performance.now(), time_origin: performance.timeOrigin, url: location.href,
         scripts: document.scripts.length });
  addEventListener('DOMContentLoaded', () => push({ kind: 'dom_content_loaded', t: performance.now() }));
})();
