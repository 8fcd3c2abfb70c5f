// Breakdowns of each metric by its dimensions (LiveView event, loading kind, route, ...), sorted by
// p95, slowest first; every column header sorts.
import { h, section, value, table, note } from '../dom.js';
import * as f from '../format.js';
import { metricNames } from '../data.js';
import { statOf } from './metrics.js';

const STATS = [['count', 'Count'], ['errors', 'Errors'], ['p50', 'p50'], ['p95', 'p95'], ['p99', 'p99'], ['max', 'Max']];

export function breakdownsSection({ result }, i) {
  const blocks = [];
  for (const name of metricNames(result)) {
    const m = result.metrics[name];
    const by = m && m.by && typeof m.by === 'object' ? m.by : {};
    const unit = m.unit || 'ms';
    for (const dim of Object.keys(by).sort()) {
      const values = by[dim] && typeof by[dim] === 'object' ? by[dim] : {};
      const keys = Object.keys(values);
      if (keys.length === 0) continue;
      const cols = [{ key: 'value', label: dim, sort: (k) => k, cell: (k) => k }];
      for (const [stat, label] of STATS) {
        cols.push({ key: stat, label, num: true, sort: (k) => statOf(result, values[k], stat), cell: (k) => {
          const v = statOf(result, values[k], stat);
          const text = stat === 'count' || stat === 'errors' ? f.count(v) : f.withUnit(v, unit);
          return value(text, v, `breakdown|${i}|${name}|${dim}|${k}|${stat}`, stat === 'errors' && v > 0 ? 'bad' : null);
        } });
      }
      blocks.push(h('div', { class: 'breakdown' }, h('h3', null, `${name} `, h('span', { class: 'by' }, `by ${dim}`)),
        table(cols, keys, { name: `breakdown|${name}|${dim}`, sortKey: 'p95', sortDir: 'descending' })));
    }
  }
  return section('breakdowns', 'Breakdowns', blocks.length ? h('div', { class: 'breakdown-grid' }, blocks)
    : note('No metric has dimensions in this result.'));
}
