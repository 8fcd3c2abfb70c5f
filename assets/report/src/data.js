// Reads the results embedded in the page: one <script type="application/x-live-load-result"
// data-label="..."> element per result, its text = base64(gzip(result JSON)). Decoding happens here
// in the browser (DecompressionStream), nothing is fetched.
export const FORMAT = 'live_load.result/1';

export async function loadEmbedded(root = document) {
  const els = [...root.querySelectorAll('script[type="application/x-live-load-result"]')];
  const decoded = await Promise.all(els.map((el, i) => decodeOne(el.dataset.label || `run ${i + 1}`, el.textContent)));
  return decoded.flat();
}

// A JSON array of results (the CLI's result file for several scenarios) becomes one entry each,
// labelled with its scenario.
function expandArray(label, list) {
  if (list.length === 0) return [{ label, error: 'The embedded result is an empty list.' }];
  return list.map((r, i) => {
    const name = `${label} #${i + 1}${r && r.run && r.run.scenario ? ` ${r.run.scenario}` : ''}`;
    const problem = validate(r);
    return problem ? { label: name, error: problem } : { label: name, result: normalise(r) };
  });
}

async function decodeOne(label, text) {
  try {
    const b64 = (text || '').trim();
    if (!b64) return { label, error: 'The embedded result is empty.' };
    let bytes;
    try {
      bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    } catch (_) {
      return { label, error: 'The embedded result is not valid base64.' };
    }
    let json;
    try {
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
      json = await new Response(stream).text();
    } catch (_) {
      return { label, error: 'The embedded result is not valid gzip data.' };
    }
    if (!json.trim()) return { label, error: 'The embedded result is empty.' };
    let result;
    try {
      result = JSON.parse(json);
    } catch (e) {
      return { label, error: `The embedded result is not valid JSON (${e.message}).` };
    }
    if (Array.isArray(result) && result.length > 0 && result.every(isObj)) return expandArray(label, result);
    const problem = validate(result);
    return problem ? { label, error: problem } : { label, result: normalise(result) };
  } catch (e) {
    return { label, error: `The embedded result could not be read (${e.message}).` };
  }
}

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Returns a sentence saying why `r` is not a result this page can show, or null. */
export function validate(r) {
  if (!isObj(r)) return 'The result is not a JSON object.';
  if (Object.keys(r).length === 0) return 'The result is empty: it has no run, no metrics and no format.';
  if (r.format === undefined) return `The result has no "format" field; expected "${FORMAT}".`;
  if (r.format !== FORMAT) return `Unsupported result format "${String(r.format)}"; this report reads "${FORMAT}".`;
  if (!isObj(r.run)) return 'The result has no "run" object.';
  if (r.metrics !== undefined && !isObj(r.metrics)) return 'The result\'s "metrics" is not an object.';
  if (r.quantile_points !== undefined && !Array.isArray(r.quantile_points))
    return 'The result\'s "quantile_points" is not a list.';
  return null;
}

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Fills optional parts with empty values so views need no guards. */
function normalise(r) {
  const run = r.run;
  const ts = isObj(r.time_series) ? r.time_series : {};
  return {
    ...r,
    run: {
      ...run,
      users: isObj(run.users) ? run.users : {},
      iterations: isObj(run.iterations) ? run.iterations : {},
      nodes: Array.isArray(run.nodes) ? run.nodes : [],
      options: isObj(run.options) ? run.options : {},
    },
    quantile_points: Array.isArray(r.quantile_points) ? r.quantile_points : [],
    metrics: isObj(r.metrics) ? r.metrics : {},
    counters: isObj(r.counters) ? r.counters : {},
    time_series: {
      bucket_ms: num(ts.bucket_ms) || 0,
      buckets: Array.isArray(ts.buckets) ? ts.buckets.filter(isObj) : [],
    },
    nodes: Array.isArray(r.nodes) ? r.nodes.filter(isObj) : [],
    errors: Array.isArray(r.errors) ? r.errors.filter(isObj) : [],
  };
}

/** Quantile `q` (0..1) of a metric summary, read from its 101-point curve (or p50/p95/p99 fields). */
export function quantile(points, summary, q) {
  if (!summary) return null;
  const key = `p${Math.round(q * 100)}`;
  if (num(summary[key]) !== null) return summary[key];
  const qs = summary.quantiles;
  if (!Array.isArray(qs)) return null;
  const i = points.findIndex((p) => Math.abs(p - q) < 1e-9);
  return i >= 0 ? num(qs[i]) : null;
}

/** Run-level figures shown in the overview (and compared between results). */
// Deltas (and their better/worse colours) are a verdict only between runs of one scenario, e.g. a
// baseline and a current run; different scenarios of one run are shown side by side without them.
export function comparable(results) {
  const s = results.map((x) => overview(x.result).scenario);
  return s.length > 1 && s[0] !== '' && s.every((x) => x === s[0]);
}

export function overview(r) {
  const run = r.run;
  const it = run.iterations;
  const ok = num(it.ok) || 0;
  const failed = num(it.failed) || 0;
  const halted = num(it.halted) || 0;
  const total = ok + failed + halted;
  const durationMs = num(run.duration_ms);
  return {
    scenario: run.scenario == null ? '' : String(run.scenario),
    mode: run.mode == null ? '' : String(run.mode),
    started_at: run.started_at == null ? '' : String(run.started_at),
    duration_ms: durationMs,
    users_target: num(run.users.target),
    users_started: num(run.users.started),
    users_failed: num(run.users.failed),
    nodes: run.nodes.length,
    iterations_ok: ok,
    iterations_failed: failed,
    iterations_halted: halted,
    error_rate: total > 0 ? (failed / total) * 100 : null,
    throughput: durationMs ? total / (durationMs / 1000) : null,
  };
}

// LiveView timings first, then HTTP, WebSocket, iterations and steps, then everything else by name.
const GROUPS = ['liveview.', 'http.', 'ws.', 'iteration.', 'step.'];

export function compareMetricNames(a, b) {
  const rank = (n) => {
    const i = GROUPS.findIndex((g) => n.startsWith(g));
    return i < 0 ? GROUPS.length : i;
  };
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

export function metricNames(r) {
  return Object.keys(r.metrics).sort(compareMetricNames);
}

export function unitOf(results, name) {
  for (const { result } of results) {
    const m = result.metrics[name];
    if (m && m.unit) return String(m.unit);
  }
  return 'ms';
}
