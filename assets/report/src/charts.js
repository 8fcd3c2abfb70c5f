// uPlot wrappers. Every chart has a title, a unit on each axis and tick spacing that keeps labels
// apart. Charts follow the width of their card (resize, print).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { num, clock } from './format.js';
import { h } from './dom.js';

const charts = new Set();
export const PALETTE = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#0891b2', '#ca8a04', '#db2777', '#4b5563'];
export const PCT_COLORS = { p50: '#2563eb', p95: '#ea580c', p99: '#dc2626' };
const HEIGHT = 240;
// Tick steps of the elapsed-time axis, in seconds: round clock values only (0:30, 1:00, 5:00, ...).
const COUNT_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8, 1e9];
const TIME_INCRS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
const AXIS = { stroke: '#374151', grid: { stroke: '#e5e7eb', width: 1 }, ticks: { stroke: '#d1d5db', width: 1 },
  font: '11px system-ui, sans-serif', labelFont: '600 12px system-ui, sans-serif' };

function widthOf(el) {
  return Math.max(280, Math.floor(el.getBoundingClientRect().width || 800));
}

const yValues = (_u, vals) => vals.map((v) => (v == null ? '' : num(v)));

/**
 * spec: {title, name, xLabel, yLabel, x: number[], series: [{label, values, color, bars?, stepped?}],
 *        xKind: 'percentile'|'elapsed', yLog?: boolean, yInteger?: boolean, height?: number,
 *        valueText?: v => string (hovered values, with unit)}
 */
export function chart(spec) {
  // Hovering shows the values under the cursor in the legend; a one-line chart shows its legend
  // only then (its title already names the line).
  const box = h('figure', { class: spec.series.length > 1 ? 'chart' : 'chart single', 'data-chart': spec.name });
  const cap = h('figcaption', null, spec.title);
  box.append(cap);
  const logY = !!spec.yLog;
  const ys = spec.series.map((s) => s.values.map((v) => (v == null || !Number.isFinite(v) || (logY && v <= 0) ? null : v)));
  const hasData = ys.some((vs) => vs.some((v) => v != null));
  if (!hasData) {
    box.append(h('p', { class: 'note' }, 'No data points for this chart.'));
    return box;
  }
  // Elapsed time reads as m:ss, or as seconds when the whole run is shorter than a minute.
  const span = spec.x.length ? spec.x[spec.x.length - 1] - spec.x[0] : 0;
  const seconds = spec.xKind === 'elapsed' && span < 60;
  const xLabel = spec.xKind === 'elapsed' ? (seconds ? 'elapsed (s)' : 'elapsed (m:ss)') : spec.xLabel;
  const xText = (v) => (spec.xKind !== 'elapsed' ? num(v) : seconds ? `${num(v)}` : clock(v * 1000));
  const xAxis = { ...AXIS, label: xLabel, space: spec.xKind === 'elapsed' ? 70 : 50 };
  if (spec.xKind === 'elapsed') {
    xAxis.values = (_u, vals) => vals.map(xText);
    xAxis.incrs = TIME_INCRS;
  }
  if (spec.xKind === 'percentile') xAxis.values = (_u, vals) => vals.map((v) => `${v}`);
  const opts = {
    width: 800,
    height: spec.height || HEIGHT,
    legend: { show: true, live: true },
    cursor: { drag: { x: true, y: false } },
    scales: {
      x: { time: false, range: xRange(spec) },
      y: logY ? { distr: 3, log: 10 } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] },
    },
    axes: [xAxis, { ...AXIS, label: spec.yLabel, space: 32, size: 64, values: yValues,
      ...(spec.yInteger ? { incrs: COUNT_INCRS } : {}) }],
    series: [
      { label: xLabel, value: (_u, v) => (v == null ? '–' : xText(v)) },
      ...spec.series.map((s, i) => ({
        label: s.label,
        stroke: s.color || PALETTE[i % PALETTE.length],
        fill: s.bars ? `${s.color || PALETTE[i % PALETTE.length]}99` : undefined,
        width: s.bars ? 1 : 2,
        paths: s.bars ? uPlot.paths.bars({ size: [0.8, 40] }) : s.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
        points: { show: false },
        spanGaps: !s.bars,
        value: (_u, v) => (v == null ? '–' : spec.valueText ? spec.valueText(v) : num(v)),
      })),
    ],
  };
  const plot = new uPlot(opts, [spec.x, ...ys], box);
  charts.add({ plot, box, height: opts.height });
  requestAnimationFrame(() => fit(plot, box, opts.height));
  return box;
}

// Percentiles span 0..100; bars get half a bucket of room at each end so none is cut in half.
function xRange(spec) {
  if (spec.xKind === 'percentile') return [0, 100];
  const x = spec.x;
  if (x.length === 0) return undefined;
  const step = x.length > 1 ? Math.min(...x.slice(1).map((v, i) => v - x[i])) : 1;
  const pad = spec.series.some((s) => s.bars) ? step / 2 : 0;
  return (_u, min, max) => (min === max ? [min - step, max + step] : [min - pad, max + pad]);
}

function fit(plot, box, height) {
  if (!box.isConnected) return;
  const w = widthOf(box);
  if (w !== plot.width) plot.setSize({ width: w, height });
}

export function fitAll() {
  for (const c of charts) {
    if (!c.box.isConnected) {
      c.plot.destroy();
      charts.delete(c);
    } else {
      fit(c.plot, c.box, c.height);
    }
  }
}

export function resetCharts() {
  for (const { plot } of charts) plot.destroy();
  charts.clear();
}

/** Paper is narrower than a screen: size charts for an A4/Letter page before printing. */
export function fitForPrint(width = 680) {
  for (const { plot, box, height } of charts) if (box.isConnected) plot.setSize({ width: Math.min(width, widthOf(box)), height });
}

let pending = 0;
window.addEventListener('resize', () => {
  cancelAnimationFrame(pending);
  pending = requestAnimationFrame(fitAll);
});
