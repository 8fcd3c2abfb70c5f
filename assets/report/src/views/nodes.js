// Per-node comparison: node status, then one row per metric with a column per node for the chosen
// percentile; the slowest node of each row is marked.
import { h, section, value, table, note } from '../dom.js';
import * as f from '../format.js';
import { compareMetricNames } from '../data.js';

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function nodesSection({ result }, i) {
  const nodes = result.nodes;
  if (nodes.length === 0) return section('nodes', 'Nodes', note('This result has no per-node data.'));
  const name = (n) => String(n.node ?? '?');
  const status = table([
    { key: 'node', label: 'Node', sort: name, cell: name },
    { key: 'status', label: 'Status', sort: (n) => String(n.status), cell: (n) =>
      value(String(n.status ?? 'unknown'), null, `node-status|${i}|${name(n)}`, n.status === 'ok' ? 'ok' : 'bad') },
    { key: 'reason', label: 'Reason', cell: (n) => (n.reason == null ? '' : typeof n.reason === 'string' ? n.reason : JSON.stringify(n.reason)) },
    { key: 'down_at', label: 'Lost at', sort: (n) => String(n.down_at ?? ''),
      cell: (n) => (n.down_at == null ? '' : value(String(n.down_at), null, `node-down-at|${i}|${name(n)}`, 'bad')) },
    { key: 'iterations', label: 'Iterations', num: true, sort: iterations,
      cell: (n) => value(f.count(iterations(n)), iterations(n), `node-iterations|${i}|${name(n)}`) },
    { key: 'samples', label: 'Samples', num: true, sort: (n) => samples(n), cell: (n) => f.count(samples(n)) },
  ], nodes, { name: 'node-status', sortKey: 'node', sortDir: 'ascending' });

  // Nodes without figures are listed above with their reason, not compared below; a node lost
  // mid-run (`down` with `down_at`) keeps its figures up to its last pull and is compared.
  const withData = nodes.filter((n) => n.metrics && typeof n.metrics === 'object' && Object.keys(n.metrics).length > 0);
  const metrics = [...new Set(withData.flatMap((n) => Object.keys(n.metrics)))].sort(compareMetricNames);
  const matrixBox = h('div');
  const draw = (stat) => {
    const get = (n, m) => num(((n.metrics || {})[m] || {})[stat]);
    const cols = [{ key: 'metric', label: 'Metric', sort: (m) => m, cmp: compareMetricNames, cell: (m) => m }];
    for (const n of withData) {
      cols.push({ key: name(n), label: `${name(n)} ${stat}`, num: true, sort: (m) => get(n, m), cell: (m) => {
        const v = get(n, m);
        const unit = (result.metrics[m] || {}).unit || 'ms';
        const all = withData.map((o) => get(o, m)).filter((x) => x != null);
        const slowest = stat !== 'count' && withData.length > 1 && v != null && v === Math.max(...all) && all.length > 1 && Math.min(...all) !== v;
        return value(stat === 'count' ? f.count(v) : f.withUnit(v, unit), v, `node|${i}|${name(n)}|${m}|${stat}`, slowest ? 'slowest' : null);
      } });
    }
    matrixBox.replaceChildren(table(cols, metrics, { name: 'node-metrics', sortKey: 'metric', sortDir: 'ascending' }));
  };
  const pick = h('select', { 'aria-label': 'percentile per node', onchange: (e) => draw(e.target.value) },
    ['p50', 'p95', 'p99', 'max', 'count'].map((s) => h('option', { value: s, selected: s === 'p95' }, s)));
  draw('p95');
  return section('nodes', 'Nodes', status,
    metrics.length ? [h('p', { class: 'controls' }, h('label', null, 'Compare nodes by ', pick),
      h('span', { class: 'legend-note' }, ' the slowest node of each metric is marked')), matrixBox] : null);
}

function iterations(n) {
  return num((n.counters || {}).iterations);
}

function samples(n) {
  return Object.values(n.metrics || {}).reduce((s, m) => s + (num(m && m.count) || 0), 0);
}
