// Time series per bucket: throughput (iterations/s), errors, and p50/p95/p99 of a chosen metric.
// Several results are aligned on elapsed time since each run started.
import { h, section, note } from '../dom.js';
import { unitOf } from '../data.js';
import * as f from '../format.js';
import { chart, PALETTE, PCT_COLORS } from '../charts.js';
import { allMetricNames } from './metrics.js';

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function xAxisOf(results) {
  const xs = new Set();
  for (const { result } of results) for (const b of result.time_series.buckets) if (num(b.t_ms) != null) xs.add(b.t_ms / 1000);
  return [...xs].sort((a, b) => a - b);
}

function valuesAt(x, result, get) {
  const byT = new Map(result.time_series.buckets.map((b) => [b.t_ms / 1000, b]));
  return x.map((t) => (byT.has(t) ? get(byT.get(t)) : null));
}

export function bucketErrors(b) {
  let e = 0;
  for (const m of Object.values(b.metrics || {})) e += num(m && m.errors) || 0;
  return e;
}

export function bucketThroughput(b, bucketMs) {
  const it = num((b.counters || {}).iterations);
  return it == null || !bucketMs ? null : it / (bucketMs / 1000);
}

export function timeSeriesSection(results) {
  const x = xAxisOf(results);
  if (x.length === 0) return section('timeseries', 'Over time', note('This result has no time series buckets.'));
  const bucketS = results[0].result.time_series.bucket_ms / 1000;
  const multi = results.length > 1;
  const color = (i) => PALETTE[i % PALETTE.length];
  const throughput = chart({ name: 'throughput', title: 'Throughput', xLabel: 'elapsed', xKind: 'elapsed',
    yLabel: 'iterations/s', x, valueText: (v) => `${f.num(v)} iterations/s`,
    series: results.map(({ label, result }, i) => ({ label: multi ? label : 'iterations/s', color: color(i),
      values: valuesAt(x, result, (b) => bucketThroughput(b, result.time_series.bucket_ms)) })) });
  const errors = chart({ name: 'errors', title: `Errors per ${f.num(bucketS)} s bucket`, xLabel: 'elapsed (m:ss)',
    xKind: 'elapsed', yLabel: `errors (per ${f.num(bucketS)} s)`, yInteger: true, x, valueText: f.count,
    series: results.map(({ label, result }, i) => ({ label: multi ? label : 'errors', color: multi ? color(i) : '#dc2626',
      bars: !multi, stepped: multi, values: valuesAt(x, result, bucketErrors) })) });

  const names = allMetricNames(results).filter((n) =>
    results.some(({ result }) => result.time_series.buckets.some((b) => b.metrics && b.metrics[n])));
  const latencyBox = h('div');
  const drawLatency = (name) => {
    const unit = unitOf(results, name);
    const series = multi
      ? results.map(({ label, result }, i) => ({ label: `${label} p95`, color: color(i),
        values: valuesAt(x, result, (b) => num(((b.metrics || {})[name] || {}).p95)) }))
      : ['p50', 'p95', 'p99'].map((p) => ({ label: p, color: PCT_COLORS[p],
        values: valuesAt(x, results[0].result, (b) => num(((b.metrics || {})[name] || {})[p])) }));
    latencyBox.replaceChildren(chart({ name: 'latency', title: `${name} ${multi ? 'p95' : 'p50 / p95 / p99'} per bucket`,
      xLabel: 'elapsed', xKind: 'elapsed', yLabel: f.unitLabel(unit), yLog: unit === 'ms', x, series,
      valueText: (v) => f.withUnit(v, unit) }));
  };
  const parts = [h('div', { class: 'chart-grid' }, throughput, errors)];
  if (names.length) {
    const preferred = ['liveview.event', 'liveview.connect', 'iteration.duration'].find((n) => names.includes(n)) || names[0];
    const pick = h('select', { 'aria-label': 'metric over time', onchange: (e) => drawLatency(e.target.value) },
      names.map((n) => h('option', { value: n, selected: n === preferred }, n)));
    parts.push(h('p', { class: 'controls' }, h('label', null, 'Latency over time of ', pick)), latencyBox);
    drawLatency(preferred);
  }
  return section('timeseries', 'Over time', h('p', { class: 'note' }, `Buckets of ${f.num(bucketS)} s.`), ...parts);
}
