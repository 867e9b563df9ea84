#!/usr/bin/env node
// Splits a .cpuprofile's samples into who spent the CPU: the local host (dist/src/dev), the app (dist/src),
// each npm package, Node internals, GC and idle. `node test/bench/profile-split.mjs app-123.cpuprofile [--from ms]`
// (--from: only samples this many ms after the profile started, e.g. after start-up).
import { readFileSync } from 'node:fs';

const [file, ...rest] = process.argv.slice(2);
const from = rest[0] === '--from' ? Number(rest[1]) : 0;
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node);

function category(node) {
  const { url, functionName } = node.callFrame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.includes('/dist/src/dev/')) return 'local host (dist/src/dev)';
  if (url.includes('/dist/src/')) return 'app (dist/src)';
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

// A socket write wakes its reader (Azurite, the model, the client), which on a busy 2-core machine often runs
// before the writer gets its core back: samples in these syscalls are mostly waiting, not the app's CPU
// (/proc puts a chat turn's system time at ≈ 0.3 ms), so they are reported apart.
const WRITES = new Set(['writev', 'writeLatin1String', 'writeUtf8String', 'writeBuffer']);

/** Node-internal work no package frame is above (socket callbacks, timers, microtasks): which HTTP stack it serves. */
function ownerOfInternals(leaf) {
  for (let node = leaf; node != null; node = parentOf.get(node.id)) {
    const url = node.callFrame.url;
    if (url.includes('undici')) return 'undici (fetch, used by openai)';
    if (url === 'node:_http_client' || url === 'node:_http_agent') return 'node:http client (storage SDK requests)';
    if (url === 'node:_http_server') return 'node:http server (local host)';
  }
  return undefined;
}

const totals = new Map();
let time = profile.startTime;
let all = 0;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  time += delta;
  if ((time - profile.startTime) / 1000 < from) return;
  // Node internals and native frames (module compilation, fs, sockets) count for the code that called them.
  let node = byId.get(id);
  const leaf = node;
  let name = category(node);
  while ((name === 'node internals' || name === '(native)' || name.includes('/test/bench/')) && parentOf.has(node.id)) {
    node = parentOf.get(node.id);
    const outer = category(node);
    if (outer === '(root)') break;
    name = outer;
  }
  if (name === 'node internals' || name === '(native)') name = ownerOfInternals(leaf) ?? name;
  if (WRITES.has(leaf.callFrame.functionName) && leaf.callFrame.url === '') name = `socket write syscalls (under ${name})`;
  totals.set(name, (totals.get(name) ?? 0) + delta);
  all += delta;
});
const busy = [...totals].filter(([name]) => name !== '(idle)').reduce((sum, [, us]) => sum + us, 0);
console.log(`total ${(all / 1000).toFixed(0)} ms, busy ${(busy / 1000).toFixed(0)} ms`);
for (const [name, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
  console.log(`${(us / 1000).toFixed(1).padStart(9)} ms  ${name === '(idle)' ? '' : `${((us / busy) * 100).toFixed(1).padStart(5)} %  `}${name}`);
}
