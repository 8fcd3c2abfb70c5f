// Run overview: one card grid for a single result, a side-by-side table with deltas for several.
import { h, section, value, table } from '../dom.js';
import { comparable, overview } from '../data.js';
import * as f from '../format.js';
import { deltaCell } from './delta.js';

// better: which direction is an improvement (for the green/red of deltas); null = neutral.
const FIELDS = [
  { key: 'scenario', label: 'Scenario', text: (o) => o.scenario || '–' },
  { key: 'mode', label: 'Browser mode', text: (o) => o.mode || '–' },
  { key: 'started_at', label: 'Started', text: (o) => f.date(o.started_at) },
  { key: 'duration_ms', label: 'Duration', text: (o) => f.duration(o.duration_ms), num: true },
  { key: 'users_target', label: 'Users (target)', text: (o) => f.count(o.users_target), num: true },
  { key: 'users_started', label: 'Users started', text: (o) => f.count(o.users_started), num: true },
  { key: 'users_failed', label: 'Users failed', text: (o) => f.count(o.users_failed), num: true, better: 'lower' },
  { key: 'nodes', label: 'Nodes', text: (o) => f.count(o.nodes), num: true },
  { key: 'iterations_ok', label: 'Iterations ok', text: (o) => f.count(o.iterations_ok), num: true, better: 'higher' },
  { key: 'iterations_failed', label: 'Iterations failed', text: (o) => f.count(o.iterations_failed), num: true, better: 'lower' },
  { key: 'iterations_halted', label: 'Iterations halted', text: (o) => f.count(o.iterations_halted), num: true },
  { key: 'error_rate', label: 'Error rate', text: (o) => (o.error_rate == null ? '–' : `${f.num(o.error_rate)} %`), num: true, better: 'lower' },
  { key: 'throughput', label: 'Throughput', text: (o) => (o.throughput == null ? '–' : `${f.num(o.throughput)} iterations/s`), num: true, better: 'higher' },
];

const HEADLINE = new Set(['iterations_ok', 'iterations_failed', 'error_rate', 'throughput']);

export function overviewSection(results) {
  const views = results.map(({ result }) => overview(result));
  if (results.length === 1) {
    const o = views[0];
    const bad = (k) => (k === 'iterations_failed' && o.iterations_failed > 0) || (k === 'error_rate' && o.error_rate > 0)
      || (k === 'users_failed' && o.users_failed > 0);
    return section('overview', 'Run overview', h('dl', { class: 'stats' }, FIELDS.map((fd) =>
      h('div', { class: `stat${HEADLINE.has(fd.key) ? ' headline' : ''}${bad(fd.key) ? ' bad' : ''}` },
        h('dt', null, fd.label),
        h('dd', null, value(fd.text(o), typeof o[fd.key] === 'number' ? o[fd.key] : null, `overview|0|${fd.key}`))))));
  }
  const cols = [{ key: 'field', label: '', cell: (fd) => fd.label }];
  const withDeltas = comparable(results);
  results.forEach(({ label }, i) => {
    cols.push({ key: `r${i}`, label, num: true, cell: (fd) =>
      value(fd.text(views[i]), typeof views[i][fd.key] === 'number' ? views[i][fd.key] : null, `overview|${i}|${fd.key}`) });
    if (i > 0 && withDeltas) cols.push({ key: `d${i}`, label: 'Δ %', num: true, title: `change of ${label} against ${results[0].label}`,
      cell: (fd) => (fd.num ? deltaCell(views[i][fd.key], views[0][fd.key], fd.better, `overview-delta|${i}|${fd.key}`) : '') });
  });
  return section('overview', 'Run overview', table(cols, FIELDS, { name: 'overview', class: 'compare' }));
}
