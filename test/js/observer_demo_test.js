// priv/observer.js against the demo LiveView target (src/demo/) in real Chromium via playwright-core.
// Starts the target itself (erl, built ebin), once normally and once refusing WebSocket upgrades.
// Run: node --test test/js/observer_demo_test.js   (after rebar3 compile)
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { spawn } = require('child_process');
const { chromium } = require('playwright-core');

const { ROOT, ARGS, openPage: open, waitFor: waitForIn } = require('./observer_harness');
const T = 30000;
const SLOW_MS = 150;

function startDemo(env) {
  return new Promise((resolve, reject) => {
    const p = spawn('erl', ['-noshell', '-noinput', '-pa', path.join(ROOT, '_build/default/lib/live_load/ebin'),
      '-eval', 'live_load_demo_target:main()'], { env: { ...process.env, PORT: '0', DEMO_SLOW_MS: String(SLOW_MS), ...env } });
    // `erl -noinput` never notices its parent going away: kill it when this test process exits,
    // however it exits, or a failed or timed-out run leaves the target's VM behind.
    const reap = () => { try { p.kill('SIGKILL'); } catch (_) { /* already gone */ } };
    process.on('exit', reap);
    p.on('exit', () => process.removeListener('exit', reap));
    let out = '';
    const timer = setTimeout(() => { reap(); reject(new Error('demo did not start: ' + out)); }, T);
    p.stdout.on('data', (d) => {
      out += d;
      const m = /ready at (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ url: m[1], stop: () => p.kill('SIGTERM') }); }
    });
    p.stderr.on('data', (d) => { out += d; });
  });
}

let browser;
test.before(async () => { browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS }); });
test.after(async () => { await browser.close(); });

const openPage = () => open(browser, T);
const connected = (page) => page.evaluate((t) => window.__liveLoadObserver.whenConnected(t), T);
const waitFor = (page, sel, type) => waitForIn(page, sel, type, T);

test('demo /counter: connect, #inc small, #slow at least its delay, #crash reported', async () => {
  const demo = await startDemo({});
  try {
    const { context, page, waitEvent } = await openPage();
    await page.goto(demo.url + '/counter');
    assert.ok((await connected(page)).ms > 0);
    const c = await waitEvent((e) => e.kind === 'connect', 'connect');
    assert.equal(c.transport, 'websocket');
    await page.click('#inc');
    const inc = await waitFor(page, '#inc', 'click');
    assert.equal(inc.event, 'inc');
    assert.ok(inc.ms < SLOW_MS, 'inc ' + inc.ms);
    await page.click('#slow');
    const slow = await waitFor(page, '#slow', 'click');
    assert.ok(slow.ms >= SLOW_MS, 'slow ' + slow.ms);
    await page.click('#crash');
    const err = await waitEvent((e) => e.kind === 'lv_error', 'lv_error');
    assert.equal(err.error, 'server');
    await waitEvent((e) => e.kind === 'reconnect', 'reconnect after the crash');
    await context.close();
  } finally { demo.stop(); }
});

test('demo /form: change and submit timed on the form', async () => {
  const demo = await startDemo({});
  try {
    const { context, page } = await openPage();
    await page.goto(demo.url + '/form');
    await connected(page);
    await page.fill('#q', 'abc');
    assert.equal((await waitFor(page, '#q', 'change')).event, 'validate');
    await page.press('#q', 'Enter');
    const s = await waitFor(page, '#search-form', 'submit');
    assert.equal(s.event, 'search');
    assert.ok(s.ms >= 0);
    await context.close();
  } finally { demo.stop(); }
});

test('demo with WebSocket refused: the long-poll fallback is reported', async () => {
  const demo = await startDemo({ DEMO_REFUSE_WEBSOCKET: 'true' });
  try {
    const { context, page, waitEvent } = await openPage();
    await page.goto(demo.url + '/counter');
    await connected(page);
    const c = await waitEvent((e) => e.kind === 'connect', 'connect');
    assert.equal(c.transport, 'longpoll');
    await page.click('#inc');
    assert.equal((await waitFor(page, '#inc', 'click')).event, 'inc');
    await context.close();
  } finally { demo.stop(); }
});
