// live_load report: decodes the embedded result(s) and draws every view. The page is complete in
// itself: it loads nothing, and says clearly what is wrong when a result is missing or malformed.
import './style.css';
import { comparable, loadEmbedded, overview } from './data.js';
import { h } from './dom.js';
import * as f from './format.js';
import { fitAll, fitForPrint, resetCharts } from './charts.js';
import { overviewSection } from './views/overview.js';
import { metricsSection } from './views/metrics.js';
import { timeSeriesSection } from './views/timeseries.js';
import { breakdownsSection } from './views/breakdowns.js';
import { nodesSection } from './views/nodes.js';
import { errorsSection } from './views/errors.js';
import { countersSection, optionsSection } from './views/counters.js';
import { thresholdsSection } from './views/thresholds.js';
import { trendSection } from './views/trend.js';

const SECTIONS = [['overview', 'Overview'], ['metrics', 'Metrics'], ['timeseries', 'Over time'],
  ['breakdowns', 'Breakdowns'], ['nodes', 'Nodes'], ['errors', 'Errors'], ['counters', 'Counters'], ['options', 'Options']];

function message(text, check = 'message') {
  return h('div', { class: 'message error', role: 'alert', 'data-check': check }, text);
}

function header(results, first = []) {
  const o = overview(results[0].result);
  const sub = results.length === 1
    ? [o.scenario, o.started_at ? f.date(o.started_at) : null, o.duration_ms == null ? null : f.duration(o.duration_ms)]
      .filter(Boolean).join(' · ')
    : comparable(results)
      ? `Comparing ${results.length} runs against the baseline “${results[0].label}”: ${results.map((r) => r.label).join(', ')}`
      : `${results.length} scenarios side by side (different scenarios: no deltas): ${results.map((r) => r.label).join(', ')}`;
  return h('header', { class: 'top' }, h('h1', null, 'live_load report'), h('p', { class: 'subtitle' }, sub),
    h('nav', { 'aria-label': 'sections' }, [...first, ...SECTIONS].map(([id, label]) => h('a', { href: `#${id}` }, label))));
}

function details(results, i) {
  const r = results[i];
  return [breakdownsSection(r, i), nodesSection(r, i), errorsSection(r, i), countersSection(r, i), optionsSection(r, i)];
}

function render(app, results, problems) {
  document.title = results.length === 1 ? `live_load report · ${overview(results[0].result).scenario || 'run'}`
    : `live_load report · ${results.map((r) => r.label).join(' vs ')}`;
  const detailBox = h('div', { id: 'details' });
  let current = results.length - 1;
  const drawDetails = () => {
    detailBox.replaceChildren(...details(results, current));
    fitAll();
  };
  // thresholds (the verdict) and the trend over runs come first, when there are any
  const thresholds = thresholdsSection(results);
  const trend = trendSection(results);
  const first = [thresholds && ['thresholds', 'Thresholds'], trend && ['trend', 'Trend']].filter(Boolean);
  const parts = [header(results, first), ...problems.map((p) => message(`Result “${p.label}” could not be shown: ${p.error}`)),
    thresholds, trend, overviewSection(results), metricsSection(results), timeSeriesSection(results)].filter(Boolean);
  if (results.length > 1) {
    const pick = h('select', { 'aria-label': 'run shown in detail', onchange: (e) => { current = Number(e.target.value); drawDetails(); } },
      results.map((r, i) => h('option', { value: i, selected: i === current }, r.label)));
    parts.push(h('p', { class: 'controls details-pick' }, h('label', null, 'Details below for the run ', pick)));
  }
  parts.push(detailBox);
  app.replaceChildren(...parts);
  drawDetails();
}

async function main() {
  const app = document.getElementById('app');
  try {
    const loaded = await loadEmbedded();
    const good = loaded.filter((x) => x.result);
    const bad = loaded.filter((x) => !x.result);
    if (loaded.length === 0) {
      app.replaceChildren(h('header', { class: 'top' }, h('h1', null, 'live_load report')),
        message('This report contains no result. Render it from a live_load result with live_load_report_html:render/1.'));
    } else if (good.length === 0) {
      app.replaceChildren(h('header', { class: 'top' }, h('h1', null, 'live_load report')),
        ...bad.map((p) => message(loaded.length === 1 ? `This result could not be shown: ${p.error}`
          : `Result “${p.label}” could not be shown: ${p.error}`)));
    } else {
      resetCharts();
      render(app, good, bad);
    }
  } catch (e) {
    app.replaceChildren(message(`The report failed to draw: ${e && e.message ? e.message : e}`));
    throw e;
  } finally {
    document.documentElement.dataset.ready = 'true';
  }
}

window.addEventListener('beforeprint', () => fitForPrint());
window.addEventListener('afterprint', () => fitAll());
main();
