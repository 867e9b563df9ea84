// P4: requests/s of `ask` under load versus a bare node:http pass-through to the same fake model.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHAT_MODEL } from './env.js';
import type { Row } from './row.js';
import { cpuMsOf } from './stats.js';

interface LoadResult {
  requests: { average: number; total: number };
  latency: { p50: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface LoadOptions {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  connections: number;
  duration: number;
}
type Autocannon = (options: LoadOptions) => Promise<LoadResult>;

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

const CONNECTIONS = 10;
const SECONDS = 5;

async function startPassThrough(modelUrl: string): Promise<{ url: string; pid: number | undefined; stop(): void }> {
  const child = spawn(process.execPath, [path.join(here, 'pass-through.mjs'), modelUrl], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /listening (\d+)/.exec(chunk.toString());
      if (match?.[1] != null) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`pass-through exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}/`, pid: child.pid, stop: () => child.kill('SIGTERM') };
}

export const p4: Row = {
  id: 'P4',
  what: `ask requests/s vs bare node:http pass-through (autocannon, ${CONNECTIONS} connections, ${SECONDS} s each, twice)`,
  target: '≥ 0.8×',
  needs: ['POST ask'],
  async measure(env) {
    const autocannon = require('autocannon') as Autocannon;
    const proxy = await startPassThrough(env.model.url);
    const headers = { 'content-type': 'application/json' };
    const cpu = { bare: 0, app: 0 };
    const load = async (url: string, body: unknown, pid: number | undefined, duration = SECONDS) => {
      const cpuBefore = cpuMsOf(pid);
      const result = await autocannon({ url, method: 'POST', headers, body: JSON.stringify(body), connections: CONNECTIONS, duration });
      const cpuAfter = cpuMsOf(pid);
      const failed = result.errors + result.timeouts + result.non2xx;
      if (failed > 0) throw new Error(`${failed} of ${result.requests.total} requests to ${url} failed`);
      return { ...result, cpuMsPerRequest: cpuBefore == null || cpuAfter == null ? Number.NaN : (cpuAfter - cpuBefore) / result.requests.total };
    };
    const bare = () => load(proxy.url, { model: CHAT_MODEL, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 1024 }, proxy.pid);
    const app = () => load(env.api('ask'), { prompt: 'Say hello.' }, env.app.process.pid);
    try {
      await load(proxy.url, { model: CHAT_MODEL, messages: [{ role: 'user', content: 'warm' }] }, proxy.pid, 1);
      await load(env.api('ask'), { prompt: 'warm' }, env.app.process.pid, 1);
      const runs = { bare: [] as (LoadResult & { cpuMsPerRequest: number })[], app: [] as (LoadResult & { cpuMsPerRequest: number })[] };
      for (let round = 0; round < 2; round++) {
        runs.bare.push(await bare());
        runs.app.push(await app());
      }
      const mean = (results: LoadResult[]) => results.reduce((sum, r) => sum + r.requests.average, 0) / results.length;
      const bareRps = mean(runs.bare);
      const appRps = mean(runs.app);
      const ratio = appRps / bareRps;
      const cpuOf = (results: { cpuMsPerRequest: number }[]) => results.reduce((sum, r) => sum + r.cpuMsPerRequest, 0) / results.length;
      const appCpu = cpuOf(runs.app);
      const bareCpu = cpuOf(runs.bare);
      return {
        figure:
          `${ratio.toFixed(2)}× (${appRps.toFixed(0)} vs ${bareRps.toFixed(0)} req/s; p50 ${runs.app[1]!.latency.p50} vs ${runs.bare[1]!.latency.p50} ms); ` +
          `CPU/request ${appCpu.toFixed(2)} vs ${bareCpu.toFixed(2)} ms`,
        met: ratio >= 0.8,
        details: { ratio, appRps, bareRps, appCpuMsPerRequest: appCpu, bareCpuMsPerRequest: bareCpu, app: runs.app.map((r) => r.requests.average), bare: runs.bare.map((r) => r.requests.average) },
      };
    } finally {
      proxy.stop();
    }
  },
};
