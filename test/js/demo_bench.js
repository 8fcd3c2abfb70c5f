// Benchmark of the demo target itself (not of a browser): N raw Phoenix V2 WebSocket clients join
// /counter and push click events back to back; prints round-trip figures and the server's CPU,
// so load tests can tell whether the target could be their bottleneck.
//
// Usage: BASE=http://127.0.0.1:PORT [SERVER_PID=pid] node demo_bench.js [clients=50] [events=200]
'use strict';
const http = require('http');
const fs = require('fs');
const WebSocket = require('ws');

const BASE = process.env.BASE || 'http://127.0.0.1:4000';
const CLIENTS = +(process.argv[2] || 50);
const EVENTS = +(process.argv[3] || 200);
const SERVER_PID = +(process.env.SERVER_PID || 0);

const get = url => new Promise((resolve, reject) => {
  http.get(url, res => { let b = ''; res.on('data', d => b += d); res.on('end', () => resolve(b)); }).on('error', reject);
});
const cpuS = pid => {
  if (!pid) return null;
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (+f[11] + +f[12]) / 100;
};
const pct = (a, p) => a.length ? a[Math.min(a.length - 1, Math.ceil(p / 100 * a.length) - 1)] : null;
const ms = ns => Math.round(Number(ns) / 1e4) / 100;

async function client(i, html) {
  const session = html.match(/data-phx-session="([^"]+)"/)[1];
  const ws = new WebSocket(BASE.replace('http', 'ws') + '/live/websocket?vsn=2.0.0');
  const pending = new Map();
  let bytes = 0;
  ws.on('message', data => {
    bytes += data.length;
    const [, ref] = JSON.parse(data);
    const p = pending.get(ref); if (p) { pending.delete(ref); p(); }
  });
  await new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
  let ref = 0;
  const push = (event, payload) => new Promise(res => {
    const r = String(++ref); pending.set(r, res);
    ws.send(JSON.stringify(['1', r, `lv:phx-bench${i}`, event, payload]));
  });
  const t0 = process.hrtime.bigint();
  await push('phx_join', { url: BASE + '/counter', session, static: null, params: { _mounts: 0 } });
  const join = process.hrtime.bigint() - t0;
  const rtts = [];
  for (let k = 0; k < EVENTS; k++) {
    const t = process.hrtime.bigint();
    await push('event', { type: 'click', event: 'inc', value: {} });
    rtts.push(process.hrtime.bigint() - t);
  }
  ws.close();
  return { join, rtts, bytes };
}

(async () => {
  const html = await get(BASE + '/counter');
  const cpu0 = cpuS(SERVER_PID);
  const t0 = process.hrtime.bigint();
  const results = await Promise.all([...Array(CLIENTS).keys()].map(i => client(i, html)));
  const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = cpuS(SERVER_PID);
  const rtts = results.flatMap(r => r.rtts).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const joins = results.map(r => r.join).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const events = rtts.length;
  console.log(JSON.stringify({
    clients: CLIENTS, eventsPerClient: EVENTS, events, elapsedS: Math.round(elapsedS * 100) / 100,
    eventsPerS: Math.round(events / elapsedS),
    rttMs: { p50: ms(pct(rtts, 50)), p95: ms(pct(rtts, 95)), p99: ms(pct(rtts, 99)), max: ms(rtts[rtts.length - 1]) },
    joinMs: { p50: ms(pct(joins, 50)), p99: ms(pct(joins, 99)) },
    bytesReceivedPerEvent: Math.round(results.reduce((a, r) => a + r.bytes, 0) / (events + CLIENTS)),
    serverCpuS: cpu0 === null ? null : Math.round((cpu1 - cpu0) * 100) / 100,
    serverCpuUsPerEvent: cpu0 === null ? null : Math.round((cpu1 - cpu0) * 1e6 / events),
  }));
})().catch(e => { console.error('FATAL', e); process.exit(1); });
