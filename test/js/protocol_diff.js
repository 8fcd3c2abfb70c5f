// Differential test, browser half: the real phoenix_live_view JS client (Chromium via
// playwright-core) runs the step list of test/live_load_protocol_diff_SUITE.erl on the demo
// target and prints the main view's innerHTML after each step. The suite runs the same steps
// through the protocol backend and compares both, normalised.
//
// Usage: BASE=http://127.0.0.1:PORT node protocol_diff.js STEPS_JSON
//   STEPS_JSON: [{"page": "/counter", "steps": [["click", "#inc"], ["fill", "#q", "abc"], ...]}, ...]
// Prints one line `STEP <json {page, i, html}>` per step (i = 0 after the page joined), and one
// `CLIENT <json {version}>`: the LiveView client the target served (liveSocket.version(), which
// 0.20 clients do not have: "0.20").
'use strict';
const { chromium } = require('playwright-core');

const BASE = process.env.BASE;
const PAGES = JSON.parse(process.argv[2]);
const TIMEOUT = 30000;
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const settled = page => page.waitForFunction(() => {
  const main = document.querySelector('[data-phx-main]');
  return main && main.classList.contains('phx-connected') &&
    document.querySelectorAll('[class*="-loading"]').length === 0;
}, null, { timeout: TIMEOUT });

async function snapshot(page, name, i) {
  await settled(page);
  await page.waitForTimeout(150); // pushes the server sends on its own (navigate, patch)
  await settled(page);
  const html = await page.evaluate(() => document.querySelector('[data-phx-main]').innerHTML);
  process.stdout.write('STEP ' + JSON.stringify({ page: name, i, html }) + '\n');
}

async function main() {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS, headless: true });
  try {
    for (const { page: path, steps } of PAGES) {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      page.setDefaultTimeout(TIMEOUT);
      await page.goto(BASE + path);
      await snapshot(page, path, 0);
      if (path === PAGES[0].page) {
        const version = await page.evaluate(() => typeof window.liveSocket.version === 'function' ? window.liveSocket.version() : '0.20');
        process.stdout.write('CLIENT ' + JSON.stringify({ version }) + '\n');
      }
      let i = 0;
      for (const [op, sel, arg] of steps) {
        i++;
        if (op === 'click') await page.click(sel);
        else if (op === 'fill') await page.fill(sel, arg);
        else if (op === 'press') await page.press(sel, arg);
        else if (op === 'select') await page.selectOption(sel, arg);
        else if (op === 'check') await page.check(sel);
        else if (op === 'uncheck') await page.uncheck(sel);
        else throw new Error('unknown op ' + op);
        await snapshot(page, path, i);
      }
      await ctx.close();
    }
  } finally {
    await browser.close();
  }
}
main().catch(e => { console.error('FAIL', e && e.stack || e); process.exit(1); });
