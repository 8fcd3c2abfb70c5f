'use strict';
// Loads the real Rendered class (rendered.js) out of a phoenix_live_view npm bundle, so tests can
// run server diffs through the JS client's own merge and render code.
//   const { load } = require('./protocol_rendered'); const R = load('phoenix_live_view');
//   R.render(R.create(viewId, rendered)), R.merge(r, diff)
const fs = require('fs');
const path = require('path');

function load(pkg) {
  const root = path.join(__dirname, '..', '..', 'node_modules', pkg, 'priv', 'static', 'phoenix_live_view.cjs.js');
  const src = fs.readFileSync(root, 'utf8') + '\n;module.exports.__Rendered = Rendered;\n';
  const m = { exports: {} };
  const fakeWindow = { location: { protocol: 'http:', host: 'x' }, addEventListener() {}, sessionStorage: {}, localStorage: {} };
  const g = { window: fakeWindow, document: undefined, navigator: { userAgent: 'node' } };
  // eslint-disable-next-line no-new-func
  const f = new Function('module', 'exports', 'require', 'window', 'navigator', src);
  f(m, m.exports, require, g.window, g.navigator);
  const Rendered = m.exports.__Rendered;
  const v020 = pkg.endsWith('0_20');
  return {
    version: v020 ? '0.20' : '1.x',
    create(viewId, rendered) { return new Rendered(viewId, JSON.parse(JSON.stringify(rendered))); },
    merge(r, diff) { r.mergeDiff(Rendered.extract(JSON.parse(JSON.stringify(diff))).diff); },
    // the full HTML of the tree, without the client's DOM-patching shortcuts (no skipped subtrees)
    render(r) {
      if (v020) return r.toString()[0];
      const out = r.recursiveToString(r.rendered, r.rendered.c, null, false, {}, null);
      return out.buffer;
    },
  };
}
module.exports = { load };
if (require.main === module) {
  for (const pkg of ['phoenix_live_view', 'phoenix_live_view_0_20']) {
    const R = load(pkg);
    const r = R.create('phx-1', { s: ['<div id="count">', '</div>'], 0: '0', r: 1 });
    R.merge(r, { 0: '5' });
    console.log(R.version, R.render(r));
  }
}
