// Shared by the observer tests: the Chromium flags, priv/observer.js, and a page whose observer
// batches are collected the way the port does (binding `__live_load`, init script before page JS).
'use strict';
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const OBSERVER = fs.readFileSync(path.join(ROOT, 'priv/observer.js'), 'utf8');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// A fresh context + page; `waitEvent(pred, what)` polls the reported events for up to `timeoutMs`.
async function openPage(browser, timeoutMs) {
  const context = await browser.newContext();
  const batches = [];
  await context.exposeBinding('__live_load', (_src, payload) => { batches.push(JSON.parse(payload)); });
  await context.addInitScript({ content: OBSERVER });
  const page = await context.newPage();
  const events = () => batches.flatMap((b) => b.events);
  const waitEvent = async (pred, what) => {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      const e = events().find(pred);
      if (e) return e;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('no event: ' + what + ' in ' + JSON.stringify(events()));
  };
  return { context, page, batches, events, waitEvent };
}

// The observer's own wait for the push triggered on `sel` (what live_load_context uses).
function waitFor(page, sel, type, timeoutMs) {
  return page.evaluate(([s, ty, t]) => window.__liveLoadObserver.waitFor(s, ty, t), [sel, type, timeoutMs]);
}

module.exports = { ROOT, OBSERVER, ARGS, openPage, waitFor };
