// The Playwright side of `make bench-browser` and the reference live_load is measured against:
// the team's baseline (../shared/bench/playwright-baseline/baseline.js + common.js), vendored here so
// the benchmark runs on a user's machine. Same launch (system Chromium, the same flags, Playwright's
// own defaults on top), same journey, same waits: one browser, N contexts with one page each;
// each user loops: goto /counter, wait `[data-phx-main].phx-connected`, 5 x (click #inc, wait until
// #inc loses phx-click-loading), check #count, goto /form, wait connected, fill #q, press Enter, wait
// for `#results[data-submitted="<query>"] > li:nth-child(20)`.
//
// Driven by live_load_bench_run.erl over stdin/stdout (one JSON line per phase), which measures CPU
// and memory of this process tree from /proc itself (nothing is sampled in here):
//   node playwright_baseline.js N DURATION_S BASE_URL
//   -> {"phase":"ready"}                      browser launched, N contexts + pages made
//   <- warm1      -> {"phase":"idle","users":1}   user 0 ran one iteration and now idles
//   <- warmrest   -> {"phase":"idle","users":N}   the others did too
//   <- go         -> {"phase":"result", ...}      every user looped until DURATION_S after go
//   <- exit       (browser closed, process exits)
'use strict';
const readline = require('readline');
const { chromium } = require('playwright-core');

const N = +(process.argv[2] || 1);
const DURATION = +(process.argv[3] || 60) * 1000;
const BASE = process.argv[4] || 'http://127.0.0.1:4000';
const CLICKS = 5;
// common.js: Playwright refuses an explicit --user-data-dir for launch(); it makes a fresh profile.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function pct(arr, p) {
  if (!arr.length) return null;
  const a = [...arr].sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.ceil(p / 100 * a.length) - 1)];
}
const r1 = x => x == null ? null : Math.round(x * 10) / 10;
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');

// In-page probe: time from the DOM click event on #inc to LiveView removing phx-click-loading.
const PROBE = () => {
  window.__lat = [];
  let t0 = null;
  document.addEventListener('click', e => { if (e.target && e.target.id === 'inc') t0 = performance.now(); }, true);
  new MutationObserver(muts => {
    for (const m of muts) {
      const el = m.target;
      if (el.id === 'inc' && t0 !== null && m.oldValue && m.oldValue.includes('phx-click-loading') && !el.classList.contains('phx-click-loading')) {
        window.__lat.push(performance.now() - t0); t0 = null;
      }
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['class'], attributeOldValue: true });
};

async function setupUser(id, browser) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.addInitScript(PROBE);
  return { id, ctx, page, k: 0, iterations: 0, errors: 0, clickMs: [], inPageMs: [], iterationMs: [], errorMsgs: [] };
}

// One iteration of baseline.js's runUser loop, timed; errors are counted as there.
async function iteration(u) {
  const { id, page } = u;
  const k = ++u.k;
  const t0 = Date.now();
  try {
    let t = Date.now();
    await page.goto(BASE + '/counter');
    await page.waitForSelector('[data-phx-main].phx-connected');
    for (let i = 0; i < CLICKS; i++) {
      t = Date.now();
      await page.click('#inc');
      await page.waitForSelector('#inc:not(.phx-click-loading)');
      u.clickMs.push(Date.now() - t);
    }
    const count = await page.textContent('#count');
    if (count !== String(CLICKS)) throw new Error(`count=${count}`);
    u.inPageMs.push(...await page.evaluate(() => window.__lat.splice(0)));

    await page.goto(BASE + '/form');
    await page.waitForSelector('[data-phx-main].phx-connected');
    const q = `u${id}-i${k}`;
    await page.fill('#q', q);
    await page.press('#q', 'Enter');
    await page.waitForSelector(`#results[data-submitted="${q}"] > li:nth-child(20)`);
    u.iterations++;
    u.iterationMs.push(Date.now() - t0);
  } catch (e) {
    u.errors++; if (u.errorMsgs.length < 3) u.errorMsgs.push(String(e.message).split('\n')[0]);
    if (!u.ctx.browser() || !u.ctx.browser().isConnected()) { u.dead = true; return; }   // browser gone: stop, don't spin
    await new Promise(r => setTimeout(r, 200));
  }
}

async function runUser(u, deadline) {
  while (Date.now() < deadline && !u.dead) await iteration(u);
}

// Warm-up iterations are not counted.
async function warm(us) {
  await Promise.all(us.map(async (u) => {
    await iteration(u);
    Object.assign(u, { iterations: 0, errors: 0, clickMs: [], inPageMs: [], iterationMs: [] });
  }));
}

(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
  const users = [];
  for (let i = 0; i < N; i++) users.push(await setupUser(i, browser));
  say({ phase: 'ready' });
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line === 'warm1') {
      await warm(users.slice(0, 1));
      say({ phase: 'idle', users: 1 });
    } else if (line === 'warmrest') {
      await warm(users.slice(1));
      say({ phase: 'idle', users: N });
    } else if (line === 'go') {
      const tStart = Date.now();
      await Promise.all(users.map(u => runUser(u, tStart + DURATION)));
      const clicks = users.flatMap(u => u.clickMs), inpage = users.flatMap(u => u.inPageMs);
      say({ phase: 'result', iterations: users.reduce((a, u) => a + u.iterations, 0),
        errors: users.reduce((a, u) => a + u.errors, 0), elapsedS: (Date.now() - tStart) / 1000,
        iterationMs: users.flatMap(u => u.iterationMs),
        click: { p50: pct(clicks, 50), p95: pct(clicks, 95) },
        clickInPage: { p50: r1(pct(inpage, 50)), p95: r1(pct(inpage, 95)) },
        errorSamples: users.flatMap(u => u.errorMsgs).slice(0, 5) });
    } else if (line === 'exit') {
      break;
    }
  }
  await Promise.all(users.map(u => u.ctx.close().catch(() => {})));
  await browser.close();
  process.exit(0);
})().catch(e => { console.error('FATAL', e); process.exit(1); });
