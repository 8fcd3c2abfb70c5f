#!/usr/bin/env node
// Opens a live_load HTML report from a file:// URL in headless Chromium (playwright-core, the
// system's /usr/bin/chromium) and prints one JSON object on stdout for
// live_load_report_html_SUITE to assert on:
//   {ready, title, console_errors, page_errors, requests, sections, checks: {key: {text, value}},
//    charts: [{name, width, height, kind}], messages, tables: {name: [[cell texts]]},
//    screenshot: {path, width, height, colors, non_background}, print: {...same for print media}}
// usage: node report_check.js REPORT.html SCREENSHOT.png [PRINT.png]
'use strict';
const path = require('path');
const fs = require('fs');
const zlib = require('zlib');
// The suite runs this file from a copy under _build/; it passes the project root in LIVE_LOAD_ROOT.
const root = process.env.LIVE_LOAD_ROOT || path.join(__dirname, '../..');
const { chromium } = require(require.resolve('playwright-core', { paths: [root] }));
const PRINT_WIDTH = 700; // ~ A4/Letter width minus margins at 96 dpi

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

async function main() {
  const [html, png, printPng] = process.argv.slice(2);
  if (!html || !png) throw new Error('usage: report_check.js REPORT.html SCREENSHOT.png [PRINT.png]');
  const url = 'file://' + path.resolve(html);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: FLAGS,
    headless: true, timeout: 120000 });
  try {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 }, deviceScaleFactor: 1 });
    const out = { console_errors: [], page_errors: [], requests: [] };
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') out.console_errors.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => out.page_errors.push(String(e && e.stack || e)));
    page.on('request', (r) => { if (r.url() !== url) out.requests.push(r.url()); });
    const t0 = Date.now();
    await page.goto(url, { waitUntil: 'load', timeout: 120000 });
    await page.waitForSelector('html[data-ready="true"]', { timeout: 120000 });
    out.ready_ms = Date.now() - t0;
    // charts size themselves in the next animation frame
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    Object.assign(out, await page.evaluate(collect));
    await page.screenshot({ path: png, fullPage: true });
    out.screenshot = { path: png, ...pngStats(fs.readFileSync(png)) };
    out.interactions = await interact(page);
    if (printPng) {
      await page.emulateMedia({ media: 'print' });
      await page.setViewportSize({ width: PRINT_WIDTH, height: 1000 });
      await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      await page.screenshot({ path: printPng, fullPage: true });
      out.print = { path: printPng, ...pngStats(fs.readFileSync(printPng)), ...(await page.evaluate(() => ({
        hidden_nav: getComputedStyle(document.querySelector('nav') || document.body).display === 'none',
        widest_chart: Math.max(0, ...[...document.querySelectorAll('figure.chart canvas')].map((c) => c.getBoundingClientRect().right)),
        scroll_width: document.documentElement.scrollWidth }))) };
    }
    process.stdout.write(JSON.stringify(out) + '\n');
  } finally {
    await browser.close();
  }
}

// What a person does with the metrics section: filter by name, sort by p95. Reports what the page
// then shows, and puts it back as it was.
async function interact(page) {
  const search = await page.$('#metrics input[type="search"]');
  if (!search) return null;
  const visible = () => page.evaluate(() => ({
    rows: [...document.querySelectorAll('#metrics table[data-table="metrics"] tbody tr')].map((tr) => tr.firstChild.textContent),
    charts: [...document.querySelectorAll('#metrics figure.chart')].filter((f) => !f.hidden).map((f) => f.dataset.chart),
  }));
  await search.fill('liveview.');
  const filtered = await visible();
  await search.fill('');
  const unfiltered = await visible();
  const p95 = await page.$('#metrics table[data-table="metrics"] thead th:nth-child(7) button');
  let sortedByP95 = null;
  if (p95 && (await p95.textContent()) === 'p95') {
    await p95.click();
    sortedByP95 = (await visible()).rows;
    const name = await page.$('#metrics table[data-table="metrics"] thead th:first-child button');
    await name.click();
  }
  return { filter: 'liveview.', filtered, unfiltered_rows: unfiltered.rows.length,
    unfiltered_charts: unfiltered.charts.length, sorted_by_p95: sortedByP95 };
}

function collect() {
  const checks = {};
  for (const el of document.querySelectorAll('[data-check]')) {
    checks[el.dataset.check] = { text: el.textContent, value: el.dataset.value === undefined ? null : Number(el.dataset.value),
      class: el.className || null };
  }
  const charts = [...document.querySelectorAll('figure.chart')].map((f) => {
    const c = f.querySelector('canvas, svg');
    const r = c ? c.getBoundingClientRect() : { width: 0, height: 0 };
    let drawn = false;
    if (c && c.tagName === 'CANVAS' && c.width && c.height) {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4 * 7) if (d[i] !== 0) { drawn = true; break; }
    }
    return { name: f.dataset.chart, kind: c ? c.tagName.toLowerCase() : null, width: r.width, height: r.height, drawn,
      note: (f.querySelector('.note') || {}).textContent || null };
  });
  const tables = {};
  for (const t of document.querySelectorAll('table[data-table]')) {
    tables[t.dataset.table] = [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent));
  }
  return {
    ready: document.documentElement.dataset.ready === 'true',
    title: document.title,
    sections: [...document.querySelectorAll('[data-section]')].map((s) => s.id),
    checks,
    charts,
    tables,
    messages: [...document.querySelectorAll('[role="alert"]')].map((m) => m.textContent),
    subtitle: (document.querySelector('.subtitle') || {}).textContent || null,
    selects: [...document.querySelectorAll('select')].map((s) => s.value),
    body_text_length: document.body.innerText.length,
  };
}

// Minimal PNG reader (8-bit RGB/RGBA, non-interlaced, as Chromium writes them): how many distinct
// colours and which share of pixels differ from the top-left (background) pixel.
function pngStats(buf) {
  let pos = 8; let width = 0; let height = 0; let type = 0; const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos); const kind = buf.toString('ascii', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (kind === 'IHDR') { width = data.readUInt32BE(0); height = data.readUInt32BE(4); type = data[9]; if (data[8] !== 8 || data[12] !== 0) throw new Error('unsupported PNG'); }
    if (kind === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const bpp = type === 6 ? 4 : type === 2 ? 3 : (() => { throw new Error(`PNG colour type ${type}`); })();
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * bpp; const prev = Buffer.alloc(stride); const cur = Buffer.alloc(stride);
  const colors = new Set(); let bg = null; let differ = 0;
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]; const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp] : 0; const b = prev[i]; const c = i >= bpp ? prev[i - bpp] : 0;
      let p;
      switch (f) {
        case 0: p = 0; break; case 1: p = a; break; case 2: p = b; break; case 3: p = (a + b) >> 1; break;
        case 4: { const pa = Math.abs(b - c); const pb = Math.abs(a - c); const pc = Math.abs(a + b - 2 * c); p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c; break; }
        default: throw new Error(`PNG filter ${f}`);
      }
      cur[i] = (line[i] + p) & 255;
    }
    for (let x = 0; x < width; x++) {
      const o = x * bpp; const rgb = (cur[o] << 16) | (cur[o + 1] << 8) | cur[o + 2];
      if (bg === null) bg = rgb;
      if (rgb !== bg) differ++;
      if (colors.size < 100000) colors.add(rgb);
    }
    cur.copy(prev);
  }
  return { width, height, colors: colors.size, non_background: differ / (width * height) };
}

main().catch((e) => { process.stderr.write(`report_check: ${e && e.stack || e}\n`); process.exit(1); });
