// The Playwright half of `make bench-browser`: node playwright_bench.js N DURATION_S URL
// Same scenario as live_load_bench.erl, same Chromium and flags (those the port uses). Prints one
// JSON line: iterations, its, p50/p95 of the click round trip as Playwright sees it (click +
// waitForSelector(:not(.phx-click-loading)), measured in node), true_p50/true_p95 (the same clicks
// timed in the page by priv/observer.js), cpu_ms_per_it (node + every Chromium process), pss_mb.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const [N, DURATION, URL] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const ROOT = path.resolve(__dirname, '../..');
const OBSERVER = fs.readFileSync(path.join(ROOT, 'priv/observer.js'), 'utf8');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows',
  '--disable-renderer-backgrounding', '--disable-ipc-flooding-protection', '--disable-back-forward-cache',
  '--disable-dev-shm-usage', '--disable-extensions', '--mute-audio', '--hide-scrollbars',
  '--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,SpareRendererForSitePerProcess,' +
  'Translate,OptimizationHints,MediaRouter,PaintHolding'];
const CLICKS = 5;

function procs() {
  const out = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      out.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch (_) { /* gone */ }
  }
  return out;
}
function tree(root) {
  const ps = procs(); const all = [root]; 
  for (let i = 0; i < all.length; i++) for (const [p, v] of ps) if (v.ppid === all[i]) all.push(p);
  return { pids: all, ps };
}
const cpuMs = () => { const { pids, ps } = tree(process.pid); return pids.reduce((a, p) => a + (ps.get(p) ? ps.get(p).ticks : 0), 0) * 10; };
const pssKb = () => tree(process.pid).pids.reduce((a, p) => {
  try { const m = /\nPss:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf8')); return a + (m ? Number(m[1]) : 0); } catch (_) { return a; }
}, 0);
const q = (xs, p) => { if (!xs.length) return null; const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS, ignoreDefaultArgs: false });
  const rt = [], inPage = [];
  const users = [];
  for (let i = 0; i < N; i++) {
    const context = await browser.newContext();
    await context.exposeBinding('__live_load', (_s, payload) => {
      for (const e of JSON.parse(payload).events) if (e.kind === 'event' && e.event === 'inc') inPage.push(e.ms);
    });
    await context.addInitScript({ content: OBSERVER });
    users.push(await context.newPage());
  }
  const cpu0 = cpuMs();
  const t0 = Date.now(), deadline = t0 + DURATION * 1000;
  let iterations = 0, peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, pssKb()); }, 1000);
  await Promise.all(users.map(async (page) => {
    while (Date.now() < deadline) {
      try {
        await page.goto(URL + '/counter');
        await page.waitForSelector('[data-phx-main].phx-connected');
        for (let c = 0; c < CLICKS; c++) {
          const s = performance.now();
          await page.click('#inc');
          await page.waitForSelector('#inc:not(.phx-click-loading)');
          rt.push(performance.now() - s);
        }
        await page.goto(URL + '/form');
        await page.waitForSelector('[data-phx-main].phx-connected');
        await page.fill('#q', 'abc');
        await page.click('#search');
        await page.waitForSelector('#search-form:not(.phx-submit-loading)');
        iterations++;
      } catch (e) { console.error('playwright user error:', e.message); }
    }
  }));
  clearInterval(sampler);
  const elapsed = (Date.now() - t0) / 1000;
  const cpu = cpuMs() - cpu0;
  await browser.close();
  console.log(JSON.stringify({ iterations, its: iterations / elapsed, p50: q(rt, 0.5), p95: q(rt, 0.95),
    true_p50: q(inPage, 0.5), true_p95: q(inPage, 0.95), cpu_ms_per_it: iterations ? cpu / iterations : null,
    pss_mb: peak / 1024 }));
})();
