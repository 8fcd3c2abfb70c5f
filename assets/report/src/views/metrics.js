// Metrics: the p50/p95/p99 table of every metric and its quantile curve (101 points, log latency
// axis). Several results: one column per result for the chosen percentile, with Δ % to the baseline,
// and the curves drawn on top of each other.
import { h, section, value, table, note } from '../dom.js';
import { comparable, quantile, unitOf, compareMetricNames } from '../data.js';
import * as f from '../format.js';
import { chart, PALETTE } from '../charts.js';
import { deltaCell } from './delta.js';

const STATS = [
  ['count', 'Count'], ['errors', 'Errors'], ['mean', 'Mean'], ['p50', 'p50'], ['p95', 'p95'], ['p99', 'p99'], ['max', 'Max'],
];

export function statOf(result, m, stat) {
  if (!m) return null;
  if (stat.startsWith('p')) return quantile(result.quantile_points, m, Number(stat.slice(1)) / 100);
  const v = m[stat];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function fmt(stat, v, unit) {
  return stat === 'count' || stat === 'errors' ? f.count(v) : f.withUnit(v, unit);
}

export function allMetricNames(results) {
  return [...new Set(results.flatMap(({ result }) => Object.keys(result.metrics)))].sort(compareMetricNames);
}

export function metricsSection(results) {
  const names = allMetricNames(results);
  if (names.length === 0) return section('metrics', 'Metrics', note('No metrics were recorded in this run.'));
  const tableBox = h('div');
  const curves = h('div', { class: 'chart-grid' });
  const controls = h('p', { class: 'controls' });
  // A filter narrows the table and the curves to metrics whose name contains the text.
  let needle = '';
  const shown = (n) => n.includes(needle);
  const search = h('input', { type: 'search', placeholder: 'filter metrics by name', 'aria-label': 'filter metrics',
    oninput: (e) => {
      needle = e.target.value.trim();
      tableBox.firstChild.refresh();
      for (const fig of curves.children) fig.hidden = !shown(fig.dataset.chart.slice('quantiles|'.length));
    } });
  controls.append(search);
  if (results.length === 1) {
    tableBox.append(singleTable(results[0], names, shown));
  } else {
    let stat = 'p95';
    const pick = h('select', { 'aria-label': 'percentile compared', onchange: (e) => {
      stat = e.target.value;
      tableBox.replaceChildren(compareTable(results, names, stat, shown));
    } }, ['p50', 'p95', 'p99', 'mean', 'max', 'count'].map((s) => h('option', { value: s, selected: s === stat }, s)));
    controls.append(' ', comparable(results) ? h('label', null, 'Compare ', pick, ` against the baseline “${results[0].label}”`)
      : h('label', null, 'Show ', pick, ' for each scenario'));
    tableBox.append(compareTable(results, names, stat, shown));
  }
  for (const name of names) curves.append(quantileChart(results, name));
  return section('metrics', 'Metrics', controls, tableBox, h('h3', null, 'Quantile curves'), curves);
}

function singleTable({ result }, names, filter) {
  const r = result;
  const cols = [{ key: 'name', label: 'Metric', sort: (n) => n, cmp: compareMetricNames, cell: (n) => h('span', { title: r.metrics[n].description || null }, n) },
    { key: 'unit', label: 'Unit', cell: (n) => r.metrics[n].unit || 'ms' }];
  for (const [stat, label] of STATS) {
    cols.push({ key: stat, label, num: true, sort: (n) => statOf(r, r.metrics[n], stat),
      cell: (n) => {
        const v = statOf(r, r.metrics[n], stat);
        return value(fmt(stat, v, r.metrics[n].unit || 'ms'), v, `metric|0|${n}|${stat}`, stat === 'errors' && v > 0 ? 'bad' : null);
      } });
  }
  return table(cols, names, { name: 'metrics', sortKey: 'name', sortDir: 'ascending', filter });
}

const BETTER = { count: null, mean: 'lower', max: 'lower', p50: 'lower', p95: 'lower', p99: 'lower' };

function compareTable(results, names, stat, filter) {
  const cols = [{ key: 'name', label: 'Metric', sort: (n) => n, cmp: compareMetricNames, cell: (n) => n }];
  const withDeltas = comparable(results);
  results.forEach(({ label, result }, i) => {
    const get = (n) => statOf(result, result.metrics[n], stat);
    cols.push({ key: `r${i}`, label: `${label} ${stat}`, num: true, sort: get,
      cell: (n) => value(fmt(stat, get(n), unitOf(results, n)), get(n), `metric|${i}|${n}|${stat}`) });
    if (i > 0 && withDeltas) {
      const base = results[0].result;
      const d = (n) => f.delta(get(n), statOf(base, base.metrics[n], stat));
      cols.push({ key: `d${i}`, label: 'Δ %', num: true, sort: d, title: `change of ${label} against ${results[0].label}`,
        cell: (n) => deltaCell(get(n), statOf(base, base.metrics[n], stat), BETTER[stat], `metric-delta|${i}|${n}|${stat}`) });
    }
  });
  return table(cols, names, { name: 'metrics', sortKey: 'name', sortDir: 'ascending', filter });
}

function quantileChart(results, name) {
  const unit = unitOf(results, name);
  const pts = results[0].result.quantile_points.length ? results[0].result.quantile_points
    : Array.from({ length: 101 }, (_, i) => i / 100);
  const x = pts.map((q) => Math.round(q * 1000) / 10);
  const series = results.map(({ label, result }, i) => {
    const m = result.metrics[name];
    const qs = m && Array.isArray(m.quantiles) ? m.quantiles : [];
    return { label: results.length === 1 ? name : label, color: PALETTE[i % PALETTE.length], values: x.map((_, j) => qs[j] ?? null) };
  });
  return chart({ name: `quantiles|${name}`, title: name, xLabel: 'percentile (%)', xKind: 'percentile',
    yLabel: f.unitLabel(unit), yLog: unit === 'ms' || unit === 'bytes', x, series, height: 200,
    valueText: (v) => f.withUnit(v, unit) });
}
