// Thresholds first: the pass/fail verdict of each rule the run was given (result "thresholds").
import { h, section, value } from '../dom.js';
import * as f from '../format.js';

const UNIT = { ms: 'ms', bytes: 'bytes', percent: 'percent', per_second: 'per_second', count: 'count' };

function shown(v, unit) {
  if (v == null) return '–';
  if (unit === 'percent') return `${f.num(v)} %`;
  if (unit === 'per_second') return `${f.num(v)} /s`;
  if (unit === 'count') return f.count(v);
  return f.withUnit(v, UNIT[unit] || unit);
}

function verdictTable(list, i) {
  return h('div', { class: 'table-wrap' }, h('table', { 'data-table': `thresholds-${i}` },
    h('thead', null, h('tr', null, ['Result', 'Threshold', 'Observed', 'Limit'].map((t, k) =>
      h('th', { scope: 'col', class: k >= 2 ? 'num' : null }, t)))),
    h('tbody', null, list.map((t, j) => h('tr', { class: t.pass ? 'pass' : 'fail' },
      h('td', null, value(t.pass ? 'pass' : 'FAIL', t.pass ? 1 : 0, `thresholds|${i}|${j}|pass`, t.pass ? 'better' : 'worse')),
      h('th', { scope: 'row' }, h('code', { 'data-check': `thresholds|${i}|${j}|expression` }, String(t.expression))),
      h('td', { class: 'num' }, t.observed == null ? h('span', { 'data-check': `thresholds|${i}|${j}|reason` }, String(t.reason || 'no value'))
        : value(shown(t.observed, t.unit), t.observed, `thresholds|${i}|${j}|observed`)),
      h('td', { class: 'num' }, value(shown(t.limit, t.unit), t.limit, `thresholds|${i}|${j}|limit`)))))));
}

/** null when no result has thresholds. */
export function thresholdsSection(results) {
  const withThresholds = results.map((r, i) => ({ ...r, i })).filter(({ result }) => Array.isArray(result.thresholds) && result.thresholds.length);
  if (withThresholds.length === 0) return null;
  const failed = withThresholds.reduce((n, { result }) => n + result.thresholds.filter((t) => !t.pass).length, 0);
  const total = withThresholds.reduce((n, { result }) => n + result.thresholds.length, 0);
  const title = failed ? `Thresholds: ${failed} of ${total} failed` : `Thresholds: ${total} passed`;
  return section('thresholds', title, withThresholds.map(({ label, result, i }) => [
    results.length > 1 ? h('h3', null, label) : null, verdictTable(result.thresholds, i)]));
}
