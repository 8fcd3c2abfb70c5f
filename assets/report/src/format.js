// Number formatting shared by every view: 3 significant digits below 1000, whole numbers above,
// always with the unit. The test suite parses these strings back, keep them regular.
const sig3 = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });
const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function num(v) {
  if (v == null || !Number.isFinite(v)) return '–';
  return Math.abs(v) >= 1000 ? whole.format(v) : sig3.format(v);
}

export function count(v) {
  return v == null || !Number.isFinite(v) ? '–' : whole.format(v);
}

export function bytes(v) {
  if (v == null || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a < 1e3) return `${num(v)} B`;
  if (a < 1e6) return `${num(v / 1e3)} kB`;
  if (a < 1e9) return `${num(v / 1e6)} MB`;
  return `${num(v / 1e9)} GB`;
}

export function withUnit(v, unit) {
  if (v == null || !Number.isFinite(v)) return '–';
  switch (unit) {
    case 'ms': return `${num(v)} ms`;
    case 'bytes': return bytes(v);
    case 'percent': return `${num(v)} %`;
    default: return num(v);
  }
}

export function unitLabel(unit) {
  return { ms: 'latency (ms)', bytes: 'size (bytes)', percent: 'percent (%)', count: 'count' }[unit] || unit;
}

export function duration(ms) {
  if (ms == null || !Number.isFinite(ms)) return '–';
  const s = ms / 1000;
  return ms < 60000 ? `${num(s)} s` : `${num(s)} s (${clock(ms)})`;
}

/** mm:ss (or h:mm:ss) of a millisecond offset. */
export function clock(ms) {
  const t = Math.round(ms / 1000);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

export function date(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC');
}

/** Relative change of `v` against `base` in percent, or null when undefined. */
export function delta(v, base) {
  if (v == null || base == null || !Number.isFinite(v) || !Number.isFinite(base)) return null;
  if (base === 0) return v === 0 ? 0 : null;
  return ((v - base) / Math.abs(base)) * 100;
}

export function deltaText(d) {
  if (d == null) return '–';
  return `${d > 0 ? '+' : d < 0 ? '−' : '±'}${num(Math.abs(d))} %`;
}
