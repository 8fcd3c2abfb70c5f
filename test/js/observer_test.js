// Tests of priv/observer.js in real Chromium (playwright-core, /usr/bin/chromium) against the real
// LiveView JS client talking to test/js/observer_fixture.js. Run: node --test test/js/observer_test.js
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const fixture = require('./observer_fixture');

const { ARGS, OBSERVER, openPage: open, waitFor: waitForIn } = require('./observer_harness');
// LV_JS=node_modules/phoenix_live_view_0_20/priv/static/phoenix_live_view.js runs the same tests
// against LiveView 0.20 (no phx:push): timings then come from the class fallback.
const SOURCE = process.env.LV_JS && /0_20/.test(process.env.LV_JS) ? 'class' : 'push';
const T = 20000; // generous: other engineers share the 2 cores

let browser, server;
test.before(async () => {
  server = await fixture.start({ lvJs: process.env.LV_JS });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS, headless: true });
});
test.after(async () => { await browser.close(); server.close(); });

const openPage = () => open(browser, T);
const waitFor = (page, sel, type) => waitForIn(page, sel, type, T);

test('connect: main view connected, timed from navigation start, websocket transport', async () => {
  const { context, page, batches, waitEvent } = await openPage();
  await page.goto(server.url + '/counter');
  const c = await waitEvent((e) => e.kind === 'connect', 'connect');
  assert.ok(c.ms > 0 && c.ms < T, 'connect ms ' + c.ms);
  assert.equal(c.transport, 'websocket');
  assert.equal(c.view, 'phx-main');
  const nav = await waitEvent((e) => e.kind === 'navigation' && e.nav === 'initial', 'initial page loading');
  assert.ok(nav.ms >= 0);
  assert.ok(batches.every((b) => b.time_origin > 1.6e12 && Array.isArray(b.events)), 'time origin on every batch');
  const st = await page.evaluate(() => window.__liveLoadObserver.state());
  assert.equal(st.connected, true);
  await context.close();
});

test('pushes: #inc is timed push to patch, #slow is at least its delay, waitFor hands out each push once', async () => {
  const { context, page, events, waitEvent } = await openPage();
  await page.goto(server.url + '/counter');
  await page.evaluate((t) => window.__liveLoadObserver.whenConnected(t), T);
  await page.click('#inc');
  const r1 = await waitFor(page, '#inc', 'click');
  assert.equal(r1.event, 'inc');
  assert.equal(r1.source, SOURCE);
  assert.ok(r1.ms >= 0 && r1.ms < 1000, 'inc ms ' + r1.ms);
  assert.ok(r1.input_ms >= r1.ms, 'trusted click to patch covers the push');
  assert.equal(await page.textContent('#count'), '1');
  // the event reached the binding before waitFor answered
  assert.ok(events().some((e) => e.kind === 'event' && e.event === 'inc' && e.ref === r1.ref));
  await page.click('#slow');
  const r2 = await waitFor(page, '#slow', 'click');
  assert.ok(r2.ms >= fixture.SLOW_MS, 'slow ms ' + r2.ms);
  const ev = await waitEvent((e) => e.kind === 'event' && e.event === 'slow', 'slow event');
  assert.equal(ev.type, 'click');
  assert.equal(ev.el, 'button#slow');
  // consumed: a second waitFor without a new push times out
  // (0.20 pages announce no push: with no loading class left the wait ends with no timing)
  const r3 = await page.evaluate(() => window.__liveLoadObserver.waitFor('#slow', 'click', 300));
  assert.deepEqual(r3, SOURCE === 'push' ? { error: 'timeout' } : { ms: null, source: 'none' });
  const r4 = await page.evaluate(() => window.__liveLoadObserver.waitFor('##bad', 'click', 300));
  assert.deepEqual(r4, { error: 'invalid_selector' });
  await context.close();
});

test('a click dispatched by page script is timed but has no trusted input time', async () => {
  const { context, page, waitEvent } = await openPage();
  await page.goto(server.url + '/counter');
  await page.evaluate((t) => window.__liveLoadObserver.whenConnected(t), T);
  await page.evaluate(() => document.querySelector('#inc').click());
  const e = await waitEvent((x) => x.kind === 'event' && x.event === 'inc', 'inc');
  assert.equal(e.input_ms, null);
  await context.close();
});

test('form: change and submit pushes are each reported once per ref', async () => {
  const { context, page, events, waitEvent } = await openPage();
  await page.goto(server.url + '/counter');
  await page.evaluate((t) => window.__liveLoadObserver.whenConnected(t), T);
  await page.fill('#q', 'hello');
  const ch = await waitFor(page, '#q', 'change');
  assert.equal(ch.event, 'changed');
  await page.press('#q', 'Enter');
  const sb = await waitFor(page, '#f', 'submit');
  assert.equal(sb.event, 'save');
  await waitEvent((e) => e.kind === 'event' && e.event === 'save', 'save');
  const changes = events().filter((e) => e.kind === 'event' && e.event === 'changed');
  assert.equal(new Set(changes.map((e) => e.ref)).size, changes.length, 'one event per ref');
  await context.close();
});

test('crash: server error reported, view disconnects and reconnects', async () => {
  const { context, page, waitEvent } = await openPage();
  await page.goto(server.url + '/counter');
  await page.evaluate((t) => window.__liveLoadObserver.whenConnected(t), T);
  await page.click('#crash');
  const err = await waitEvent((e) => e.kind === 'lv_error', 'lv_error');
  assert.equal(err.error, 'server');
  await waitEvent((e) => e.kind === 'disconnect', 'disconnect');
  const rc = await waitEvent((e) => e.kind === 'reconnect', 'reconnect');
  assert.ok(rc.ms >= 0);
  await context.close();
});

test('JS errors and unhandled rejections are reported', async () => {
  const { context, page, waitEvent } = await openPage();
  await page.goto(server.url + '/plain');
  await page.evaluate(() => { setTimeout(() => { throw new Error('kaboom'); }, 0); Promise.reject(new Error('nope')); });
  const e = await waitEvent((x) => x.kind === 'js_error' && /kaboom/.test(x.message), 'js_error');
  assert.equal(e.unhandled, undefined);
  await waitEvent((x) => x.kind === 'js_error' && x.unhandled && /nope/.test(x.message), 'rejection');
  await context.close();
});

test('the observer stays out of frames and of pages without the binding', async () => {
  const context = await browser.newContext();
  await context.addInitScript({ content: OBSERVER });
  const page = await context.newPage();
  await page.goto(server.url + '/plain');
  assert.equal(await page.evaluate(() => typeof window.__liveLoadObserver), 'undefined');
  await context.close();
});

test('the LiveView debug log is switched off unless the page chose it', async () => {
  const { context, page } = await openPage();
  await page.goto(server.url + '/counter');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('phx:live-socket:debug')), 'false');
  await context.close();
});

