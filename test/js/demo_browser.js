// Browser checks of the demo LiveView target, run by test/live_load_demo_target_SUITE.erl.
// Real Chromium (/usr/bin/chromium, driven by playwright-core) running the real phoenix and
// phoenix_live_view JS clients served by the target.
//
// Usage: BASE=http://127.0.0.1:PORT node demo_browser.js CHECK [key=value ...]
// Prints progress on stderr and one line `RESULT <json>` on stdout; exits 0 when the check
// passed, 1 with `FAIL <message>` otherwise.
'use strict';
const { chromium } = require('playwright-core');

const BASE = process.env.BASE;
const [CHECK, ...rest] = process.argv.slice(2);
const ARGS = Object.fromEntries(rest.map(a => a.split('=')));
const TIMEOUT = 30000; // generous: other engineers' Chromium tests share the 2 cores
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Installed before any page script: records every class change of elements with an id (old and
// new class lists, in-page time) with attributeOldValue, so an add+remove inside one observer
// batch is still seen; and the LiveView page-loading events.
const RECORDER = () => {
  window.__classLog = [];
  window.__pageLoading = [];
  window.__clickAt = {};
  window.__marker = Math.random();
  document.addEventListener('click', e => {
    const el = e.target && e.target.closest && e.target.closest('[id]');
    if (el) window.__clickAt[el.id] = performance.now();
  }, true);
  new MutationObserver(muts => {
    for (const m of muts) {
      if (m.type === 'attributes' && m.target.id) {
        window.__classLog.push({ t: performance.now(), id: m.target.id, old: m.oldValue || '', now: m.target.className });
      }
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['class'], attributeOldValue: true });
  for (const ev of ['phx:page-loading-start', 'phx:page-loading-stop']) {
    window.addEventListener(ev, e => window.__pageLoading.push({ ev, kind: e.detail && e.detail.kind, to: e.detail && e.detail.to }));
  }
};

function assert(cond, msg) { if (!cond) throw new Error(msg); }
const log = (...a) => console.error(`[${CHECK}]`, ...a);

async function openPage(browser, path) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('pageerror', e => log('pageerror', e.message));
  await page.addInitScript(RECORDER);
  await page.goto(BASE + path);
  await connected(page);
  return page;
}
const connected = page => page.waitForSelector('[data-phx-main].phx-connected');
const transport = page => page.evaluate(() => window.liveSocket.socket.transportName(window.liveSocket.socket.transport));
const classLog = (page, id) => page.evaluate(id => window.__classLog.filter(e => e.id === id), id);
const has = (cls, c) => cls.split(/\s+/).includes(c);

// Each click on #inc must add phx-click-loading and then remove it.
async function clickLoading(page, id) {
  const before = (await classLog(page, id)).length;
  await page.click('#' + id);
  await page.waitForFunction(([id, n]) => {
    const log = window.__classLog.filter(e => e.id === id).slice(n);
    const added = log.findIndex(e => e.now.split(/\s+/).includes('phx-click-loading'));
    return added >= 0 && log.slice(added + 1).some(e => !e.now.split(/\s+/).includes('phx-click-loading'));
  }, [id, before]);
  return (await classLog(page, id)).slice(before);
}

const CHECKS = {
  async connect(browser) {
    const page = await openPage(browser, '/counter');
    const main = await page.$eval('[data-phx-main]', el => ({ id: el.id, cls: el.className, session: el.dataset.phxSession }));
    assert(main.id.startsWith('phx-'), `main id ${main.id}`);
    const t = await transport(page);
    assert(t === (ARGS.transport || 'WebSocket'), `transport ${t}`);
    const csrf = await page.$eval('meta[name="csrf-token"]', m => m.content);
    assert(csrf.length > 10, 'csrf-token meta');
    return { main, transport: t };
  },

  async counter(browser) {
    const page = await openPage(browser, '/counter');
    const clicks = [];
    for (let i = 1; i <= 3; i++) {
      const entries = await clickLoading(page, 'inc');
      await page.waitForSelector(`#count:text-is("${i}")`);
      clicks.push(entries.map(e => e.now));
    }
    assert(await page.textContent('#count') === '3', 'count 3');
    await page.fill('#keys', '');
    await page.type('#keys', 'xy');
    await page.waitForSelector('#last-key:text-is("y")');
    return { transport: await transport(page), clicks };
  },

  async slow(browser) {
    const page = await openPage(browser, '/counter');
    const entries = await clickLoading(page, 'slow');
    const clickAt = await page.evaluate(() => window.__clickAt.slow);
    const removed = entries.find((e, i) => i > 0 && has(e.old, 'phx-click-loading') && !has(e.now, 'phx-click-loading'));
    await page.waitForSelector('#slow-count:text-is("1")');
    return { slow_round_trip_ms: removed.t - clickAt };
  },

  async form(browser) {
    const page = await openPage(browser, '/form');
    assert(await page.$$eval('#results > li', l => l.length) === 0, 'no rows before a query');
    await page.fill('#q', 'abc');
    await page.waitForSelector('#results[data-q="abc"] > li:nth-child(20)');
    assert(await page.$$eval('#results > li', l => l.length) === 20, '20 rows after change');
    await page.selectOption('#kind', 'books');
    await page.check('#exact');
    await page.waitForSelector('#results > li:first-child:text-is("abc books exact #1")');
    assert(await page.$eval('#results', e => e.dataset.submitted) === '', 'not submitted yet');
    await page.fill('#q', 'zeta');
    await page.press('#q', 'Enter');
    await page.waitForSelector('#results[data-submitted="zeta"] > li:nth-child(20)');
    const rows = await page.$$eval('#results > li', l => l.map(x => x.textContent));
    assert(rows.length === 20 && rows[19] === 'zeta books exact #20', `rows ${rows[19]}`);
    assert(await page.$eval('#kind', e => e.value) === 'books', 'select kept');
    return { transport: await transport(page), rows: rows.length };
  },

  async list(browser) {
    const page = await openPage(browser, '/list');
    assert(await page.$$eval('#items > li', l => l.length) === 200, '200 rows');
    await page.click('#more');
    await page.waitForSelector('#items > li:nth-child(250)');
    await page.click('#more');
    await page.waitForSelector('#item-300');
    const ids = await page.$$eval('#items > li', l => l.map(x => x.id));
    assert(ids.length === 300 && ids[0] === 'item-1' && ids[299] === 'item-300', `ids ${ids.length}`);
    assert(await page.textContent('#item-count') === '300', 'count 300');
    assert((await page.title()) === 'List (300)', 'title from diff');
    return { rows: ids.length };
  },

  async nav(browser) {
    const page = await openPage(browser, '/nav');
    const marker = await page.evaluate(() => window.__marker);
    const mainId = await page.$eval('[data-phx-main]', e => e.id);
    await page.click('#patch-next');
    await page.waitForSelector('#nav-page:text-is("2")');
    assert(page.url() === BASE + '/nav?page=2', `patched url ${page.url()}`);
    assert(await page.textContent('#nav-params') === 'page=2', 'params');
    await page.click('#server-patch');
    await page.waitForSelector('#nav-page:text-is("3")');
    assert(page.url() === BASE + '/nav?page=3&by=server', `server patch url ${page.url()}`);
    await page.click('#redirect-counter');
    await page.waitForSelector('#count');
    await connected(page);
    assert(page.url() === BASE + '/counter', `redirect url ${page.url()}`);
    await clickLoading(page, 'inc');
    await page.waitForSelector('#count:text-is("1")');
    await page.goBack();
    await page.waitForSelector('#nav-page:text-is("3")');
    await connected(page);
    await page.click('#server-navigate');
    await page.waitForSelector('#counter-page');
    assert(page.url() === BASE + '/counter', `server navigate url ${page.url()}`);
    const same = await page.evaluate(m => window.__marker === m, marker);
    assert(same, 'a live navigation reloaded the page');
    const kinds = await page.evaluate(() => window.__pageLoading.map(e => e.ev.slice(17) + ':' + e.kind));
    assert(kinds.includes('start:patch') && kinds.includes('start:redirect'), `page loading kinds ${kinds}`);
    assert(await page.$eval('[data-phx-main]', e => e.id) === mainId, 'main container kept');
    return { kinds };
  },

  async crash(browser) {
    const page = await openPage(browser, '/counter');
    await clickLoading(page, 'inc');
    await page.waitForSelector('#count:text-is("1")');
    await page.click('#crash');
    await page.waitForSelector('[data-phx-main].phx-error.phx-server-error');
    await page.waitForSelector('[data-phx-main].phx-connected:not(.phx-error)');
    await page.waitForSelector('#count:text-is("0")'); // a new LiveView process mounted
    await clickLoading(page, 'inc');
    await page.waitForSelector('#count:text-is("1")');
    const mainLog = await page.evaluate(() => window.__classLog.filter(e => e.id.startsWith('phx-')).map(e => e.now));
    return { main_classes: mainLog };
  },
};

(async () => {
  assert(BASE, 'BASE is not set');
  assert(CHECKS[CHECK], `unknown check ${CHECK}`);
  const watchdog = setTimeout(() => { console.log('FAIL watchdog: check took over 120 s'); process.exit(1); }, 120000);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });
  let code = 0;
  try {
    const result = await CHECKS[CHECK](browser);
    console.log('RESULT ' + JSON.stringify(result));
  } catch (e) {
    console.log('FAIL ' + String(e.message).split('\n')[0]);
    code = 1;
  } finally {
    await browser.close().catch(() => {});
    clearTimeout(watchdog);
  }
  process.exit(code);
})().catch(e => { console.log('FAIL ' + e.message); process.exit(1); });
