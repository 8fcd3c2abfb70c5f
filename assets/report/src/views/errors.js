// Errors grouped by kind: total count and first/last seen per kind, then each message of the kind.
import { h, section, value, note } from '../dom.js';
import * as f from '../format.js';

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export function groupErrors(errors) {
  const groups = new Map();
  for (const e of errors) {
    const kind = String(e.kind ?? 'unknown');
    const g = groups.get(kind) || { kind, count: 0, first_at: null, last_at: null, items: [] };
    g.count += num(e.count);
    if (e.first_at && (!g.first_at || e.first_at < g.first_at)) g.first_at = e.first_at;
    if (e.last_at && (!g.last_at || e.last_at > g.last_at)) g.last_at = e.last_at;
    g.items.push(e);
    groups.set(kind, g);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind));
}

export function errorsSection({ result }, i) {
  const groups = groupErrors(result.errors);
  if (groups.length === 0) return section('errors', 'Errors', note('No errors were recorded.'));
  const rows = [];
  for (const g of groups) {
    rows.push(h('tr', { class: 'group' },
      h('th', { scope: 'rowgroup' }, value(g.kind, null, `error-kind|${i}|${g.kind}`)),
      h('td', { class: 'num' }, value(f.count(g.count), g.count, `error|${i}|${g.kind}|count`, 'bad')),
      h('td', null, value(f.date(g.first_at), null, `error|${i}|${g.kind}|first_at`)),
      h('td', null, value(f.date(g.last_at), null, `error|${i}|${g.kind}|last_at`)),
      h('td', null, `${g.items.length} message${g.items.length === 1 ? '' : 's'}`)));
    for (const e of [...g.items].sort((a, b) => num(b.count) - num(a.count)).slice(0, 20)) {
      rows.push(h('tr', { class: 'item' }, h('td', null, e.metric ? h('code', null, String(e.metric)) : ''),
        h('td', { class: 'num' }, f.count(num(e.count))), h('td', null, f.date(e.first_at)), h('td', null, f.date(e.last_at)),
        h('td', { class: 'message-text' }, String(e.message ?? ''))));
    }
  }
  return section('errors', 'Errors', h('div', { class: 'table-wrap' }, h('table', { 'data-table': 'errors' },
    h('thead', null, h('tr', null, ['Kind / metric', 'Count', 'First seen', 'Last seen', 'Message']
      .map((t, j) => h('th', { scope: 'col', class: j === 1 ? 'num' : null }, t)))), h('tbody', null, rows))));
}
