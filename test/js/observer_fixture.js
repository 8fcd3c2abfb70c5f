// A tiny LiveView-protocol server for the observer tests: serves one page running the real npm
// phoenix + phoenix_live_view clients (or another LiveView build given by LV_JS) and answers join and
// events over the Phoenix V2 socket. Events: inc (immediate), slow (reply after SLOW_MS), crash
// (phx_error: the client rejoins), boom (a JS error in the page). Not a Phoenix replacement: just
// enough for the observer tests to run before and beside the demo target.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const { WebSocketServer } = require('ws');

const ROOT = path.resolve(__dirname, '../..');
const SLOW_MS = 200;

function page() {
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="csrf-token" content="tok">
<title>fixture</title></head><body>
<div id="phx-main" data-phx-main data-phx-session="sess" data-phx-static="">${body(0)}</div>
<a id="other" href="/other">other</a>
<script src="/phoenix.js"></script><script src="/lv.js"></script>
<script>
  window.liveSocket = new LiveView.LiveSocket("/live", Phoenix.Socket, {params: {_csrf_token: "tok"}});
  liveSocket.connect();
</script></body></html>`;
}
function body(n) {
  return statics().map((s, i) => (i === 0 ? s : String(n) + s)).join('');
}
function statics() {
  return ['<button id="inc" phx-click="inc">+</button><span id="count">',
    '</span><button id="slow" phx-click="slow">slow</button><button id="crash" phx-click="crash">crash</button>' +
    '<form id="f" phx-change="changed" phx-submit="save"><input id="q" name="q" type="text"><button id="go" type="submit">go</button></form>'];
}

function start(opts = {}) {
  const lvJs = opts.lvJs || path.join(ROOT, 'node_modules/phoenix_live_view/priv/static/phoenix_live_view.js');
  const files = {
    '/phoenix.js': path.join(ROOT, 'node_modules/phoenix/priv/static/phoenix.js'),
    '/lv.js': lvJs,
  };
  const server = http.createServer((req, res) => {
    const url = req.url.split('?')[0];
    if (files[url]) { res.writeHead(200, { 'content-type': 'text/javascript' }); fs.createReadStream(files[url]).pipe(res); return; }
    if (url === '/' || url === '/counter') { res.writeHead(200, { 'content-type': 'text/html' }); res.end(page()); return; }
    if (url === '/plain') { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<!doctype html><p id="p">plain</p>'); return; }
    res.writeHead(404); res.end('not found');
  });
  const wss = new WebSocketServer({ server, path: '/live/websocket' });
  wss.on('connection', (ws) => {
    let count = 0;
    const send = (m) => ws.send(JSON.stringify(m));
    ws.on('message', (data) => {
      const [joinRef, ref, topic, event, payload] = JSON.parse(data.toString());
      if (topic === 'phoenix') return send([null, ref, topic, 'phx_reply', { status: 'ok', response: {} }]);
      if (event === 'phx_join') {
        return send([joinRef, ref, topic, 'phx_reply', { status: 'ok', response: { rendered: { 0: String(count), s: statics() } } }]);
      }
      if (event === 'phx_leave') return send([joinRef, ref, topic, 'phx_reply', { status: 'ok', response: {} }]);
      if (event !== 'event') return;
      const reply = () => send([joinRef, ref, topic, 'phx_reply', { status: 'ok', response: { diff: { 0: String(count) } } }]);
      switch (payload.event) {
        case 'inc': count++; reply(); break;
        case 'slow': count++; setTimeout(reply, SLOW_MS); break;
        case 'crash': send([joinRef, joinRef, topic, 'phx_error', {}]); break;
        default: reply();
      }
    });
  });
  return new Promise((resolve) => server.listen(opts.port || 0, '127.0.0.1', () => {
    resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => { wss.close(); server.close(); } });
  }));
}

module.exports = { start, SLOW_MS };
if (require.main === module) start({ port: Number(process.argv[2] || 4010) }).then((s) => console.log(s.url));
