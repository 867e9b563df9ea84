// `P1b A/B`: the same chat turns against this build and a baseline copy of the app, alternating turn by turn
// in one run, so a change's effect on a turn's CPU is measured under the same machine noise (a 2-core shared
// machine moves absolute figures by 2× between runs; the ratio moves far less). Runs only when
// BENCH_BASELINE_ROOT names a copy of the app (its `dist/` and `host.json`, with `node_modules` reachable):
//   mkdir -p /tmp/base && cp -r dist host.json package.json /tmp/base && ln -s $PWD/node_modules /tmp/base/
import { startApp, type RunningApp } from '../support/app.js';
import { echoResponder } from '../support/fake-model.js';
import { toolDriver } from '../support/tool-driver.js';
import { appSettings, type BenchEnv } from './env.js';
import { ok } from './http-client.js';
import type { Row } from './row.js';
import { cpuSplitOf, median, ms, repeat } from './stats.js';
import { startCountingProxy, type CountingProxy } from './counting-proxy.js';

const PROMPT = 'Say hello in five words.';
// BENCH_AB_TOOLS=1: turns where the model calls todo_add and then answers (P11's tool turn) instead.
const withTools = process.env.BENCH_AB_TOOLS === '1';
const message = (n: number) => (withTools ? `Add a new todo item: Buy milk ${n}` : PROMPT);

interface Side {
  app: RunningApp;
  urls: string[];
  turns: number;
  times: number[];
  cpu: { user: number; system: number };
}

async function side(app: RunningApp, label: string, chats: number): Promise<Side> {
  const urls: string[] = [];
  for (let i = 0; i < chats; i++) {
    const url = `${app.baseUrl}/chats/bench-ab-${label}-${Date.now()}-${i}`;
    await ok(url, { method: 'PUT', body: withTools ? { skills: ['todo_add'] } : {} });
    urls.push(url);
  }
  return { app, urls, turns: 0, times: [], cpu: { user: 0, system: 0 } };
}

async function turn(s: Side, record: boolean): Promise<void> {
  // A fresh chat every 5 turns, as in P1b: short history, so this is the app's cost, not the history's.
  const response = await ok(s.urls[Math.floor(s.turns / 5)]!, { body: { message: message(s.turns++) } });
  if (record) s.times.push(response.end - response.start);
}

/** CPU over the whole measured phase (each process is idle while the other serves), GC and compiler threads included. */
function cpuDelta(s: Side, before: { user: number; system: number } | undefined): void {
  const after = cpuSplitOf(s.app.process.pid);
  if (before == null || after == null) return;
  s.cpu = { user: after.user - before.user, system: after.system - before.system };
}

export const p1bAb: Row = {
  id: 'P1b A/B',
  what: 'chat turn, this build vs BENCH_BASELINE_ROOT, alternating (p50 and CPU per turn)',
  target: 'ratio < 1 = this build is cheaper',
  needs: ['PUT chats/{chatId}', 'POST chats/{chatId}'],
  async measure(env: BenchEnv) {
    const root = process.env.BENCH_BASELINE_ROOT;
    if (root == null) throw new Error('set BENCH_BASELINE_ROOT to a copy of the app');
    const warmUp = 40;
    const samples = Number(process.env.BENCH_AB_TURNS ?? 400);
    const chats = Math.ceil((warmUp + samples) / 5) + 1;
    if (withTools) env.model.responder = toolDriver(echoResponder);
    // BENCH_AB_STORAGE_DELAY_MS: both apps reach storage through a proxy that holds each answer this long, as a
    // storage account across a network would (Azurite on loopback answers in about a millisecond).
    const delayMs = Number(process.env.BENCH_AB_STORAGE_DELAY_MS ?? 0);
    let proxy: CountingProxy | undefined;
    let storage = env.azurite.connectionString;
    if (delayMs > 0) {
      proxy = await startCountingProxy(env.azurite.tablePort, delayMs);
      storage = storage.replace(`:${env.azurite.tablePort}/`, `:${proxy.port}/`);
    }
    const currentApp = delayMs > 0 ? await startApp(appSettings(env.model, storage)) : env.app;
    const baseApp = await startApp(appSettings(env.model, storage), { appRoot: root });
    try {
      const current = await side(currentApp, 'new', chats);
      const base = await side(baseApp, 'base', chats);
      await repeat(warmUp, async () => {
        await turn(current, false);
        await turn(base, false);
      });
      const cpuCurrent = cpuSplitOf(current.app.process.pid);
      const cpuBase = cpuSplitOf(base.app.process.pid);
      await repeat(samples, async (i) => {
        const [first, second] = i % 2 === 0 ? [current, base] : [base, current];
        await turn(first, true);
        await turn(second, true);
      });
      cpuDelta(current, cpuCurrent);
      cpuDelta(base, cpuBase);
      const per = (s: Side) => ({ p50: median(s.times), user: s.cpu.user / s.times.length, system: s.cpu.system / s.times.length });
      const a = per(base);
      const b = per(current);
      const cpuRatio = (b.user + b.system) / (a.user + a.system);
      return {
        figure:
          `CPU/turn ${ms(b.user + b.system)} (user ${ms(b.user)}, sys ${ms(b.system)}) vs baseline ${ms(a.user + a.system)} ` +
          `(user ${ms(a.user)}, sys ${ms(a.system)}) = ${cpuRatio.toFixed(2)}×; p50 ${ms(b.p50)} vs ${ms(a.p50)} = ${(b.p50 / a.p50).toFixed(2)}×; n=${samples} each` +
          (delayMs > 0 ? `; storage answers delayed ${delayMs} ms` : ''),
        met: null,
        details: { current: b, baseline: a, cpuRatio, p50Ratio: b.p50 / a.p50, samples, storageDelayMs: delayMs },
      };
    } finally {
      env.model.reset();
      await baseApp.stop();
      if (currentApp !== env.app) await currentApp.stop();
      await proxy?.stop();
    }
  },
};
