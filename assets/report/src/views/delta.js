// A "Δ %" cell: change of a value against the baseline, green when better, red when worse.
import { value } from '../dom.js';
import { delta, deltaText } from '../format.js';

// Changes below this many percent are shown without colour: noise, not a verdict.
const NOISE = 1;

export function deltaCell(v, base, better, check) {
  const d = delta(v, base);
  let cls = 'delta';
  if (d != null && better && Math.abs(d) >= NOISE) {
    const good = better === 'lower' ? d < 0 : d > 0;
    cls += good ? ' better' : ' worse';
  }
  return value(deltaText(d), d == null ? null : Number(d.toFixed(4)), check, cls);
}
