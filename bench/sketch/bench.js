#!/usr/bin/env node
// Benchmark of @datadog/sketches-js (the reference DDSketch) on the same operations as
// bench_core.c and bench_nif.escript. Prints "name: value" lines.
'use strict';
const { LogCollapsingLowestDenseDDSketch } = require('@datadog/sketches-js');

const N = 1000000;
const mk = () => new LogCollapsingLowestDenseDDSketch({ relativeAccuracy: 0.01, binLimit: 2048 });
const values = new Float64Array(N);
for (let i = 0; i < N; i++) {
  const z = Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
  values[i] = Math.exp(z); // lognormal latencies in ms, median 1 ms, sigma 1
}
// CPU time in ns (user + system), as bench_core.c: the build box is shared.
const now = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };

let best = Infinity;
let s;
for (let pass = 0; pass < 10; pass++) {
  s = mk();
  const t0 = now();
  for (let i = 0; i < N; i++) s.accept(values[i]);
  best = Math.min(best, (now() - t0) / N);
}
console.log(`js_insert_ns: ${best.toFixed(2)}`);
console.log(`js_to_binary_bytes: ${s.toProto().length}`);

const qs = Array.from({ length: 101 }, (_, i) => i / 100);
let reps = 2000;
let t0 = now();
let sink = 0;
for (let r = 0; r < reps; r++) for (const q of qs) sink += s.getValueAtQuantile(q);
console.log(`js_quantiles101_us: ${((now() - t0) / reps / 1000).toFixed(2)}`);

// Two full 2048-bin sketches (positive store; sketches-js merge ignores the negative store).
const full = () => {
  const f = mk();
  const gamma = f.mapping.gamma;
  for (let k = 0; k < 2048; k++) f.accept(Math.pow(gamma, k - 1000) * 0.999, 1 + k);
  return f;
};
const a = full();
const b = full();
reps = 20000;
t0 = now();
for (let r = 0; r < reps; r++) a.merge(b);
console.log(`js_merge_us: ${((now() - t0) / reps / 1000).toFixed(2)}`);
if (sink === 42) console.log('');
