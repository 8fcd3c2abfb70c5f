'use strict';
// Generates c_src/tests/protocol_fixtures.json: server diffs run through the real rendered.js of
// both phoenix_live_view versions we ship, with the HTML the JS client renders after each one.
// The C unit tests (c_src/tests/test_protocol.c) replay them through c_src/protocol/tree.c.
//   node test/js/protocol_fixtures.js   (rewrites the file; commit it)
const fs = require('fs');
const path = require('path');
const { load } = require('./protocol_rendered');

const both = ['phoenix_live_view', 'phoenix_live_view_0_20'];
const v1 = ['phoenix_live_view'];

// [name, packages, [join rendered, diff...]]
const CASES = [
  ['counter', both, [
    { 0: '0', 1: '', s: ['<main><p id="count">', '</p><button id="inc" phx-click="inc">+</button>', '</main>'], r: 1, t: 'Counter' },
    { 0: '1' }, { 0: '2', e: [['counted', { count: 2 }]] }, { 1: { s: ['<span>', '</span>'], 0: 'nested' } },
    { 1: { 0: 'changed' } }, { 1: '' }]],
  ['new_fingerprint', both, [
    { s: ['<a>', '</a>'], 0: 'x' }, { s: ['<b>', '|', '</b>'], 0: 'y', 1: 'z' }, { 1: 'w' }]],
  ['nested_objects', both, [
    { s: ['<div>', '', '</div>'], 0: { s: ['<i>', '</i>'], 0: { s: ['<u>', '</u>'], 0: 'deep' } }, 1: 'tail' },
    { 0: { 0: { 0: 'deeper' } } }, { 0: { 0: { s: ['<em>', '</em>'], 0: 'replaced' } } }]],
  ['comprehension_d', ['phoenix_live_view_0_20'], [
    { s: ['<ul>', '</ul>'], 0: { s: ['<li>', '</li>'], d: [['a'], ['b'], ['c']] } },
    { 0: { d: [['x'], ['y']] } }, { 0: { d: [] } },
    { 0: { d: [['1'], ['2']], p: { 0: ['<b>', '</b>'] } } }]],
  ['comprehension_d_templates', ['phoenix_live_view_0_20'], [
    { s: ['<ul>', '</ul>'], 0: { s: ['<li>', '</li>'], p: { 0: ['<b>', '</b>'] }, d: [[{ s: 0, 0: 'a' }], [{ s: 0, 0: 'b' }]] } },
    { 0: { d: [[{ s: 0, 0: 'c' }]], p: { 0: ['<i>', '</i>'] } } }]],
  ['keyed', v1, [
    { s: ['<ul>', '</ul>'], 0: { s: ['<li id="i', '">', '</li>'], k: { 0: { 0: '1', 1: 'one' }, 1: { 0: '2', 1: 'two' }, kc: 2 } } },
    { 0: { k: { 1: { 1: 'TWO' }, 2: { 0: '3', 1: 'three' }, kc: 3 } } },
    { 0: { k: { kc: 1 } } },
    { 0: { k: { 0: { 1: 'uno' }, kc: 1 } } }]],
  ['keyed_moves', v1, [
    { s: ['<ol>', '</ol>'], 0: { s: ['<li>', '</li>'], k: { 0: { 0: 'a' }, 1: { 0: 'b' }, 2: { 0: 'c' }, kc: 3 } } },
    { 0: { k: { 0: 2, 1: [0, { 0: 'A' }], 2: 1, kc: 3, km: 1 } } },
    { 0: { k: { 0: 1, kc: 2, km: 1 } } }]],
  ['templates_root', v1, [
    { s: 0, p: { 0: ['<div>', '', '</div>'], 1: ['<span>', '</span>'] }, 0: { s: 1, 0: 'a' }, 1: { s: 1, 0: 'b' } },
    { 0: { 0: 'A' } },
    { 1: { s: 0, 0: 'x' }, p: { 0: ['<i>', '</i>'] } }]],
  ['keyed_templates', v1, [
    { s: ['<ul>', '</ul>'], 0: { s: 0, p: { 0: ['<li>', '</li>'] }, k: { 0: { 0: 'a' }, kc: 1 } }, p: { 0: ['<li>', '</li>'] } },
    { 0: { k: { 1: { 0: 'b' }, kc: 2 } } }]],
  ['components', v1, [
    { s: ['<div>', '', '</div>'], 0: 1, 1: 2, c: { 1: { s: ['<p id="c1">', '</p>'], 0: 'one', r: 1 }, 2: { s: 1, 0: 'two', r: 1 } } },
    { c: { 1: { 0: 'ONE' } } },
    { c: { 3: { s: -1, 0: 'three' } }, 1: 3 },
    { c: { 2: { s: ['<b>', '</b>'], 0: 'new', r: 1 } } }]],
  ['title_reply_events', both, [
    { s: ['<h1>', '</h1>'], 0: 'x', t: 'T1' }, { 0: 'y', t: 'T2', r: { ok: 1 }, e: [['ev', {}]] }]],
  ['stream', v1, [
    { s: ['<ul id="s" phx-update="stream">', '</ul>'], 0: { s: ['<li id="', '">', '</li>'], k: { 0: { 0: 'items-1', 1: 'a' }, kc: 1 }, stream: ['items', [['items-1', -1, null, false]], [], false] } },
    { 0: { k: { 0: { 0: 'items-2', 1: 'b' }, kc: 1 }, stream: ['items', [['items-2', -1, null, false]], [], false] } }]],
];

const out = [];
for (const [name, pkgs, steps] of CASES) {
  for (const pkg of pkgs) {
    const R = load(pkg);
    const r = R.create('phx-F1', steps[0]);
    const rec = { name, version: R.version, steps: [{ diff: steps[0], html: R.render(r) }] };
    for (const d of steps.slice(1)) {
      R.merge(r, d);
      rec.steps.push({ diff: d, html: R.render(r) });
    }
    out.push(rec);
  }
}
const file = path.join(__dirname, '..', '..', 'c_src', 'tests', 'protocol_fixtures.json');
fs.writeFileSync(file, JSON.stringify(out, null, 1) + '\n');
console.log(`${out.length} cases, ${out.reduce((n, c) => n + c.steps.length, 0)} steps -> ${file}`);
