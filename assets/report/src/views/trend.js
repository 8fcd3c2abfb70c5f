// Trend over runs: p95 of the main metrics per run of one scenario, oldest first, with run ids.
import { h, section, value, note } from '../dom.js';
import { comparable, quantile, unitOf, metricNames } from '../data.js';
import * as f from '../format.js';
import { chart, PALETTE } from '../charts.js';

const MAIN = ['liveview.event', 'liveview.connect', 'liveview.navigation', 'iteration.duration', 'http.duration'];

/** null unless there are three or more runs of the same scenario (two are a comparison: the other sections show their deltas). */
export function trendSection(results) {
  if (results.length < 3 || !comparable(results)) return null;
  const present = new Set(results.flatMap(({ result }) => metricNames(result)));
  const names = MAIN.filter((n) => present.has(n));
  if (names.length === 0) return section('trend', 'Trend over runs', note('None of the main metrics was recorded in these runs.'));
  const p95 = (result, name) => quantile(result.quantile_points, result.metrics[name], 0.95);
  const x = results.map((_, i) => i + 1);
  const ms = names.filter((n) => unitOf(results, n) === 'ms');
  const trend = chart({ name: 'trend', title: 'p95 per run', xLabel: 'run (oldest first)', xKind: 'run',
    yLabel: 'p95 (ms)', yLog: true, x, valueText: (v) => f.withUnit(v, 'ms'),
    series: ms.map((n, k) => ({ label: n, color: PALETTE[k % PALETTE.length], values: results.map(({ result }) => p95(result, n)) })) });
  const rows = results.map(({ label, result }, i) => h('tr', null,
    h('td', { class: 'num' }, String(i + 1)),
    h('th', { scope: 'row' }, h('span', { 'data-check': `trend|${i}|id` }, label)),
    names.map((n) => {
      const v = p95(result, n);
      return h('td', { class: 'num' }, value(v == null ? '–' : f.withUnit(v, unitOf(results, n)), v, `trend|${i}|${n}`));
    })));
  const tableEl = h('div', { class: 'table-wrap' }, h('table', { 'data-table': 'trend' },
    h('thead', null, h('tr', null, h('th', { scope: 'col', class: 'num' }, '#'), h('th', { scope: 'col' }, 'Run'),
      names.map((n) => h('th', { scope: 'col', class: 'num' }, `${n} p95`)))),
    h('tbody', null, rows)));
  return section('trend', 'Trend over runs', h('p', { class: 'note' }, `${results.length} runs of ${results[0].result.run.scenario}, oldest first.`),
    trend, tableEl);
}
