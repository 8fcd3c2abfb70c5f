#!/usr/bin/env node
// Differential helper: the reference DDSketch (@datadog/sketches-js) over the same inputs, with
// the same mapping (CubicallyInterpolatedMapping) and store (collapsing lowest, same bin cap).
//
//   node test/js/sketch_diff.js FILE
//
// FILE: first line "relative_accuracy max_bins", then one value per line, then a line "--",
// then one quantile per line. Prints one estimate per quantile, in order ("null" when empty),
// with 17 significant digits.
'use strict';
const fs = require('fs');
const { LogCollapsingLowestDenseDDSketch } = require('@datadog/sketches-js');
const { CubicallyInterpolatedMapping } = require('@datadog/sketches-js/dist/ddsketch/mapping');

const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n');
const [alpha, maxBins] = lines[0].split(' ').map(Number);
const sketch = new LogCollapsingLowestDenseDDSketch({ relativeAccuracy: alpha, binLimit: maxBins });
// live_load uses the cubically interpolated mapping (the reference's fast mapping): same bins.
sketch.mapping = new CubicallyInterpolatedMapping(alpha);
let i = 1;
for (; i < lines.length && lines[i] !== '--'; i++) sketch.accept(Number(lines[i]));
const out = [];
for (i++; i < lines.length; i++) {
  if (lines[i] === '') continue;
  const v = sketch.getValueAtQuantile(Number(lines[i]));
  out.push(Number.isNaN(v) ? 'null' : v.toPrecision(17));
}
process.stdout.write(out.join('\n') + '\n');
