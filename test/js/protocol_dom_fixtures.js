'use strict';
// Generates c_src/tests/protocol_dom_fixtures.json: what the real LiveView JS client's DOM shows
// after each server message, for the parts of the DOM patch the rendered tree alone does not give
// (phx-update="stream" | "append" | "prepend" | "ignore"). Each case runs in Chromium with the
// real phoenix.js and the phoenix_live_view bundle of one of the two versions we ship; a fake
// socket transport answers the join with the case's "rendered" and then delivers each diff as a
// server push. After every message the main container's innerHTML is recorded, normalised as the
// differential test normalises it. The C unit tests replay the same messages through the tree,
// the fast parser and c_src/protocol/patch.c and must produce the same HTML.
//   node test/js/protocol_dom_fixtures.js   (rewrites the file; commit it)
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const ROOT = path.join(__dirname, '..', '..');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const V1 = 'phoenix_live_view';
const V020 = 'phoenix_live_view_0_20';

// ---- cases: [name, package, [join rendered, diff...]] in that version's wire format ----------
const li = ['<li id="', '">', '</li>'];
const ul = attrs => ['<ul id="items" ' + attrs + '>', '</ul>'];
// 1.x: keyed rows, stream [ref, [[id, at, limit, update_only]], deletes(, reset)]
const k = rows => Object.assign({ kc: rows.length }, ...rows.map((r, i) => ({ [i]: { 0: r[0], 1: r[1] } })));
const s1 = (rows, ins, dels = [], reset) => {
  const st = ['0', ins, dels];
  if (reset) st.push(true);
  return { 0: { k: k(rows), stream: st } };
};
// 0.20: row lists, stream [ref, {id: [at, limit]}, deletes(, reset)]
const s020 = (rows, ins, dels = [], reset) => {
  const st = ['0', ins, dels];
  if (reset) st.push(true);
  return { 0: { d: rows, stream: st } };
};
const join1 = (attrs, rows, ins, extra = '') => ({
  s: [ul(attrs)[0] + extra, ul(attrs)[1]], r: 1,
  0: { s: li, k: k(rows), stream: ['0', ins, []] },
});
const join020 = (attrs, rows, ins, extra = '') => ({
  s: [ul(attrs)[0] + extra, ul(attrs)[1]],
  0: { s: li, d: rows, stream: ['0', ins, []] },
});
const at1 = (id, at, limit = null, updateOnly = false) => [id, at, limit, updateOnly];

const CASES = [
  ['stream_inserts_deletes_limits', V1, [
    join1('phx-update="stream"', [['items-1', 'a'], ['items-2', 'b']], [at1('items-2', -1), at1('items-1', -1)]),
    s1([['items-3', 'c']], [at1('items-3', -1)]),
    s1([['items-0', 'zero']], [at1('items-0', 0)]),
    s1([['items-9', 'nine']], [at1('items-9', 1)]),
    s1([['items-2', 'B!']], [at1('items-2', -1)]),
    s1([], [], ['items-1']),
    s1([['items-7', 'g']], [at1('items-7', -1, -3)]),
    s1([['items-8', 'h']], [at1('items-8', 0, 3)]),
    s1([['items-5', 'e'], ['items-6', 'f']], [at1('items-6', -1), at1('items-5', -1)], [], true),
    { t: 'only a title' },
  ]],
  ['stream_update_only_and_restore', V1, [
    join1('phx-update="stream"', [['items-1', 'a'], ['items-2', 'b'], ['items-3', 'c']],
      [at1('items-3', -1), at1('items-2', -1), at1('items-1', -1)]),
    s1([['items-2', 'B'], ['items-99', 'x']], [at1('items-99', -1, null, true), at1('items-2', -1, null, true)]),
    s1([['items-3', 'C'], ['items-4', 'd']], [at1('items-4', 0), at1('items-3', 0)], [], true),
    s1([['items-1', 'A']], [at1('items-1', -1)], ['items-1']),
  ]],
  ['stream_with_a_static_child', V1, [
    join1('phx-update="stream"', [['items-1', 'a']], [at1('items-1', -1)],
      '<li id="items-empty" class="only">no items</li>'),
    s1([['items-2', 'b']], [at1('items-2', -1)]),
    s1([['items-0', 'z']], [at1('items-0', 0)]),
    s1([], [], ['items-1', 'items-2', 'items-0']),
  ]],
  ['stream_inserts_deletes_limits', V020, [
    join020('phx-update="stream"', [['items-1', 'a'], ['items-2', 'b']], { 'items-1': [-1, null], 'items-2': [-1, null] }),
    s020([['items-3', 'c']], { 'items-3': [-1, null] }),
    s020([['items-0', 'zero']], { 'items-0': [0, null] }),
    s020([['items-9', 'nine']], { 'items-9': [1, null] }),
    s020([['items-2', 'B!']], { 'items-2': [-1, null] }),
    s020([], {}, ['items-1']),
    s020([['items-7', 'g']], { 'items-7': [-1, -3] }),
    s020([['items-8', 'h']], { 'items-8': [0, 3] }),
    s020([['items-5', 'e'], ['items-6', 'f']], { 'items-5': [-1, null], 'items-6': [-1, null] }, [], true),
  ]],
  ['stream_with_a_static_child', V020, [
    join020('phx-update="stream"', [['items-1', 'a']], { 'items-1': [-1, null] },
      '<li id="items-empty" class="only">no items</li>'),
    s020([['items-2', 'b']], { 'items-2': [-1, null] }),
    s020([['items-0', 'z']], { 'items-0': [0, null] }),
  ]],
  // the first join of a page starts from the server's HTML (the dead render), not from nothing
  ['stream_join_over_a_dead_render', V1, [
    join1('phx-update="stream"', [['items-1', 'a'], ['items-2', 'b']], [at1('items-2', -1), at1('items-1', -1)],
      '<li id="items-empty" class="only">no items</li>'),
    s1([['items-3', 'c']], [at1('items-3', -1)]),
  ], '<ul id="items" phx-update="stream"><li id="items-empty" class="only">no items</li><li id="items-1">a</li>' +
     '<li id="items-0">dead only</li></ul>'],
  ['stream_join_over_a_dead_render', V020, [
    join020('phx-update="stream"', [['items-1', 'a'], ['items-2', 'b']], { 'items-1': [-1, null], 'items-2': [-1, null] },
      '<li id="items-empty" class="only">no items</li>'),
    s020([['items-3', 'c']], { 'items-3': [-1, null] }),
    s020([['items-4', 'd']], { 'items-4': [0, null] }, [], true),
  ], '<ul id="items" phx-update="stream"><li id="items-empty" class="only">no items</li><li id="items-1">a</li>' +
     '<li id="items-0">dead only</li></ul>'],
  ['append_join_over_a_dead_render', V1, [
    { s: ul('phx-update="append"'), r: 1, 0: { s: li, k: k([['m-2', 'two']]) } },
    { 0: { k: k([['m-3', 'three']]) } },
  ], '<ul id="items" phx-update="append"><li id="m-1">dead one</li><li id="m-2">dead two</li></ul>'],
  ['ignore_join_over_a_dead_render', V020, [
    { s: ['<div id="box" phx-update="ignore" data-x="', '"><p>', '</p></div>'], 0: '1', 1: 'joined' },
    { 0: '2', 1: 'diffed' },
  ], '<div id="box" phx-update="ignore" data-x="0"><p>dead</p></div>'],
  ['append', V1, [
    { s: ul('phx-update="append"'), r: 1, 0: { s: li, k: k([['m-1', 'one'], ['m-2', 'two']]) } },
    { 0: { k: k([['m-3', 'three']]) } },
    { 0: { k: k([['m-1', 'ONE'], ['m-4', 'four']]) } },
  ]],
  ['append', V020, [
    { s: ul('phx-update="append"'), 0: { s: li, d: [['m-1', 'one'], ['m-2', 'two']] } },
    { 0: { d: [['m-3', 'three']] } },
    { 0: { d: [['m-1', 'ONE'], ['m-4', 'four']] } },
  ]],
  ['prepend', V1, [
    { s: ul('phx-update="prepend"'), r: 1, 0: { s: li, k: k([['m-1', 'one'], ['m-2', 'two']]) } },
    { 0: { k: k([['m-3', 'three'], ['m-4', 'four']]) } },
    { 0: { k: k([['m-5', 'five'], ['m-2', 'TWO']]) } },
  ]],
  ['prepend', V020, [
    { s: ul('phx-update="prepend"'), 0: { s: li, d: [['m-1', 'one'], ['m-2', 'two']] } },
    { 0: { d: [['m-3', 'three'], ['m-4', 'four']] } },
  ]],
  ['ignore', V1, [
    { s: ['<div id="box" phx-update="ignore" class="a" data-x="', '"><p>', '</p></div><p id="out">', '</p>'], r: 1, 0: '1', 1: 'first', 2: 'x' },
    { 0: '2', 1: 'second', 2: 'y' },
  ]],
  ['ignore', V020, [
    { s: ['<div id="box" phx-update="ignore" class="a" data-x="', '"><p>', '</p></div><p id="out">', '</p>'], 0: '1', 1: 'first', 2: 'x' },
    { 0: '2', 1: 'second', 2: 'y' },
  ]],
];

// ---- the page: real bundles, a fake transport --------------------------------------------------
function pageHtml(pkg, dead) {
  const phoenix = fs.readFileSync(path.join(ROOT, 'node_modules/phoenix/priv/static/phoenix.js'), 'utf8');
  const lv = fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'priv/static/phoenix_live_view.js'), 'utf8');
  return `<!DOCTYPE html><html><head><meta name="csrf-token" content="tok">
<script>${phoenix}</script><script>${lv}</script></head><body>
<div id="phx-F1" data-phx-main data-phx-session="S" data-phx-static="">${dead}</div>
<script>
window.__sent = [];
class FakeTransport {
  constructor() { this.readyState = 0; window.__transport = this; setTimeout(() => { this.readyState = 1; this.onopen && this.onopen({}); }, 0); }
  send(data) {
    const [joinRef, ref, topic, event] = JSON.parse(data);
    window.__sent.push(event);
    if (event === 'phx_join') {
      window.__topic = topic; window.__joinRef = joinRef;
      setTimeout(() => this.deliver([joinRef, ref, topic, 'phx_reply',
        { status: 'ok', response: { rendered: window.__join, liveview_version: window.__version } }]), 0);
    } else if (event === 'heartbeat') {
      setTimeout(() => this.deliver([null, ref, topic, 'phx_reply', { status: 'ok', response: {} }]), 0);
    }
  }
  deliver(msg) { this.onmessage && this.onmessage({ data: JSON.stringify(msg) }); }
  close() { this.readyState = 3; }
}
window.__push = diff => window.__transport.deliver([window.__joinRef, null, window.__topic, 'diff', diff]);
window.__start = (join, version) => {
  window.__join = join; window.__version = version;
  window.liveSocket = new LiveView.LiveSocket('/live', Phoenix.Socket, { transport: FakeTransport, params: { _csrf_token: 'tok' } });
  window.liveSocket.connect();
};
</script></body></html>`;
}

// the differential test's normalisation (test/live_load_protocol_diff_SUITE.erl normalise/1)
function normalise(h) {
  h = h.replace(/ data-phx-(?!link)[a-z-]+(="[^"]*")?/g, '');
  h = h.replace(/ class="([^"]*)"/g, (m, c) => {
    const kept = c.split(/\s+/).filter(x => x && !x.startsWith('phx-'));
    return kept.length ? ` class="${kept.join(' ')}"` : '';
  });
  return h.replace(/>\s+</g, '><').trim();
}

const settle = page => page.evaluate(() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 30))));

async function run(browser, [name, pkg, steps, dead = 'dead render']) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.route('http://fixture.test/**', route => route.fulfill({ body: pageHtml(pkg, dead), contentType: 'text/html' }));
  await page.goto('http://fixture.test/');
  const version = pkg === V020 ? '0.20.1' : '1.2.12';
  await page.evaluate(([join, v]) => window.__start(join, v), [steps[0], version]);
  await page.waitForFunction(() => document.getElementById('phx-F1').classList.contains('phx-connected'), null, { timeout: 10000 });
  await settle(page);
  const html = () => page.evaluate(() => document.getElementById('phx-F1').innerHTML);
  const out = { name, version: pkg === V020 ? '0.20' : '1.x', dead, steps: [{ diff: steps[0], html: normalise(await html()) }] };
  for (const d of steps.slice(1)) {
    await page.evaluate(diff => window.__push(diff), d);
    await settle(page);
    out.steps.push({ diff: d, html: normalise(await html()) });
  }
  await ctx.close();
  return out;
}

async function main() {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS, headless: true });
  const out = [];
  try {
    for (const c of CASES) out.push(await run(browser, c));
  } finally {
    await browser.close();
  }
  const file = path.join(ROOT, 'c_src', 'tests', 'protocol_dom_fixtures.json');
  fs.writeFileSync(file, JSON.stringify(out, null, 1) + '\n');
  console.log(`${out.length} cases, ${out.reduce((n, c) => n + c.steps.length, 0)} steps -> ${file}`);
}
main().catch(e => { console.error('FAIL', e && e.stack || e); process.exit(1); });
