// Counters (totals and their breakdowns) and the run options as given.
import { h, section, value, table, note } from '../dom.js';
import * as f from '../format.js';

export function countersSection({ result }, i) {
  const names = Object.keys(result.counters).sort();
  if (names.length === 0) return section('counters', 'Counters', note('No counters were recorded.'));
  const total = (n) => (typeof result.counters[n]?.total === 'number' ? result.counters[n].total : null);
  const by = (n) => {
    const b = result.counters[n]?.by || {};
    return Object.entries(b).map(([dim, vals]) => `${dim}: ${Object.entries(vals || {})
      .map(([k, v]) => `${k} ${f.count(v)}`).join(', ')}`).join('; ');
  };
  return section('counters', 'Counters', table([
    { key: 'name', label: 'Counter', sort: (n) => n, cell: (n) => n },
    { key: 'total', label: 'Total', num: true, sort: total, cell: (n) => value(f.count(total(n)), total(n), `counter|${i}|${n}`) },
    { key: 'by', label: 'Breakdown', cell: by },
  ], names, { name: 'counters', sortKey: 'name', sortDir: 'ascending' }));
}

export function optionsSection({ result }, i) {
  const opts = result.run.options;
  const keys = Object.keys(opts).sort();
  if (keys.length === 0) return section('options', 'Run options', note('No options were recorded.'));
  const text = (v) => (typeof v === 'string' ? v : JSON.stringify(v));
  return section('options', 'Run options', h('div', { class: 'table-wrap' }, h('table', { 'data-table': 'options' },
    h('tbody', null, keys.map((k) => h('tr', null, h('th', { scope: 'row' }, k),
      h('td', null, h('code', null, value(text(opts[k]), null, `option|${i}|${k}`)))))))));
}
