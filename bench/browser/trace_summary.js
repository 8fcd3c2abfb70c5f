// Where Chromium's CPU goes in a trace (JSON trace format, e.g. --trace-startup-format=json):
// thread CPU (tdur of the top-level tasks) per process and thread, and the self CPU time of every
// slice name per process (a slice's tdur minus its children's), divided by ITERATIONS when given.
// With START and END, only slices inside the window between the first request of a URL holding
// START and the first one holding END count (bench-profile marks its iterations that way).
// Usage: node trace_summary.js trace.json [ITERATIONS] [TOP=25] [START END]
'use strict';
const fs = require('fs');

const [file, iterArg, topArg, startMark, endMark] = process.argv.slice(2);
const ITS = Number(iterArg) || 1;
const TOP = Number(topArg) || 25;
const trace = JSON.parse(fs.readFileSync(file, 'utf8'));
const events = trace.traceEvents || trace;

const procName = new Map(), threadName = new Map();
for (const e of events) {
  if (e.ph !== 'M') continue;
  if (e.name === 'process_name') procName.set(e.pid, e.args.name);
  if (e.name === 'thread_name') threadName.set(e.pid + ':' + e.tid, e.args.name);
}
const role = (pid) => {
  const n = procName.get(pid) || '?';
  if (n === 'Browser') return 'browser';
  if (n === 'Renderer') return 'renderer';
  if (n === 'GPU Process') return 'gpu';
  if (/NetworkService/.test(n)) return 'network';
  return 'utility';
};

// The window: first request (ResourceSendRequest, navigation) of a URL holding each marker.
const urlOf = (e) => (e.args && e.args.data && (e.args.data.url || e.args.data.documentURL)) || '';
const markAt = (m) => {
  if (!m) return null;
  let at = Infinity;
  for (const e of events) if (e.ts && urlOf(e).includes(m)) at = Math.min(at, e.ts);
  return at === Infinity ? null : at;
};
const winStart = markAt(startMark), winEnd = markAt(endMark);
if (startMark && winStart === null) console.log(`start marker ${startMark} not in the trace: from its beginning`);
if (endMark && winEnd === null) console.log(`end marker ${endMark} not in the trace: to its end`);
const inWindow = (ts, end) => (winStart === null || ts >= winStart) && (winEnd === null || end <= winEnd);

// Complete slices per thread (X, and B/E pairs turned into X), with thread time when known.
const byThread = new Map();
const open = new Map();
const push = (k, s) => { if (!byThread.has(k)) byThread.set(k, []); byThread.get(k).push(s); };
for (const e of events) {
  const k = e.pid + ':' + e.tid;
  if (e.ph === 'X' && typeof e.tdur === 'number' && inWindow(e.ts, e.ts + (e.dur || 0))) {
    const a = e.args || {};
    push(k, { name: e.name, ts: e.ts, end: e.ts + (e.dur || 0), cpu: e.tdur,
              from: a.src_file ? a.src_file.split('/').slice(-2).join('/') + ':' + (a.src_func || '') : null });
  }
  else if (e.ph === 'B') { if (!open.has(k)) open.set(k, []); open.get(k).push(e); }
  else if (e.ph === 'E' && open.has(k) && open.get(k).length) {
    const b = open.get(k).pop();
    if (typeof b.tts === 'number' && typeof e.tts === 'number' && inWindow(b.ts, e.ts)) push(k, { name: b.name, ts: b.ts, end: e.ts, cpu: e.tts - b.tts });
  }
}

let t0 = Infinity, t1 = -Infinity;
const threadCpu = new Map(), selfByName = new Map(), roleCpu = new Map(), byPoster = new Map();
for (const [k, slices] of byThread) {
  slices.sort((a, b) => a.ts - b.ts || b.end - a.end);
  const stack = [];
  let top = 0;
  for (const s of slices) {
    t0 = Math.min(t0, s.ts); t1 = Math.max(t1, s.end);
    while (stack.length && stack[stack.length - 1].end <= s.ts) stack.pop();
    s.self = s.cpu;
    if (stack.length) {
      stack[stack.length - 1].self -= s.cpu;
      if (!stack[0].poster && s.from) stack[0].poster = s.from;
    } else {
      top += s.cpu;
      s.top = true;
      s.poster = s.from;
    }
    stack.push(s);
  }
  const pid = Number(k.split(':')[0]);
  const r = role(pid);
  threadCpu.set(k, top);
  roleCpu.set(r, (roleCpu.get(r) || 0) + top);
  for (const s of slices) {
    if (s.top) {
      // a top-level task: where it was posted from says what it is for
      const key = r + '\t' + (threadName.get(k) || '?') + '\t' + (s.poster || s.name);
      byPoster.set(key, (byPoster.get(key) || 0) + s.cpu);
    }
    const key = r + '\t' + s.name;
    selfByName.set(key, (selfByName.get(key) || 0) + Math.max(0, s.self));
  }
}

const ms = (us) => (us / 1000 / ITS).toFixed(1);
console.log(`trace window ${((t1 - t0) / 1e6).toFixed(1)} s; figures are CPU ms${ITS > 1 ? ' per iteration (' + ITS + ' iterations)' : ''}`);
console.log('\nby process role (top-level tasks):');
for (const [r, v] of [...roleCpu].sort((a, b) => b[1] - a[1])) console.log(`  ${r.padEnd(9)} ${ms(v)}`);
console.log('\nby thread:');
for (const [k, v] of [...threadCpu].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
  console.log(`  ${role(Number(k.split(':')[0])).padEnd(9)} ${(threadName.get(k) || k).padEnd(40)} ${ms(v)}`);
}
console.log(`\ntop-level tasks by where they were posted from (top ${TOP}):`);
for (const [k, v] of [...byPoster].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
  const [r, th, from] = k.split('\t');
  console.log(`  ${r.padEnd(9)} ${ms(v).padStart(7)}  ${th.padEnd(22).slice(0, 22)} ${from.slice(0, 90)}`);
}
console.log(`\nself time by slice (top ${TOP}):`);
for (const [k, v] of [...selfByName].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
  const [r, name] = k.split('\t');
  console.log(`  ${r.padEnd(9)} ${ms(v).padStart(7)}  ${name.slice(0, 110)}`);
}
