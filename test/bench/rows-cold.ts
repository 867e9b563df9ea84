// P10: what a user waits for after a cold start. Per route family, a fresh app process (the local host,
// `node dist/src/dev/main.js`) is spawned and timed from spawn to its first response; a preload
// (module-log.cjs) records which packages load during that first request and how long each took.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApp, type RunningApp } from '../support/app.js';
import { appSettings, type BenchEnv } from './env.js';
import { ok, type TimedResponse } from './http-client.js';
import { makePdf } from './rows-data.js';
import type { Row } from './row.js';
import { median, ms } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = 3;
/** Goal for process start → first response of any family (the local host's start included). */
const GOAL_MS = 1000;

interface Family {
  name: string;
  /** The first request a cold instance gets; `n` is the round, for unique names. */
  first(api: (route: string) => string, n: number): Promise<TimedResponse>;
}

export interface ModuleLoad {
  name: string;
  at: number;
  ms: number;
  depth: number;
}

/** The `[module-load]` lines module-log.cjs printed, split into before the host listened and after. */
export function moduleLoads(output: string): { atStart: ModuleLoad[]; onFirstRequest: ModuleLoad[] } {
  const listening = output.indexOf('Listening on');
  const parse = (text: string) =>
    [...text.matchAll(/^\[module-load\] (\{.*\})$/gm)].map((match) => JSON.parse(match[1]!) as ModuleLoad);
  return { atStart: parse(output.slice(0, listening)), onFirstRequest: parse(output.slice(listening)) };
}

/** Per module name, the median load time over the rounds (outermost loads of 1 ms or more), slowest first. */
function medianLoads(rounds: ModuleLoad[][]): { name: string; ms: number }[] {
  const times = new Map<string, number[]>();
  for (const round of rounds) for (const load of round) if (load.depth === 0) times.set(load.name, [...(times.get(load.name) ?? []), load.ms]);
  return [...times]
    .map(([name, list]) => ({ name, ms: median(list) }))
    .filter((load) => load.ms >= 1)
    .sort((a, b) => b.ms - a.ms);
}

let pdf: Uint8Array | undefined;
const families: Family[] = [
  { name: 'ask', first: (api) => ok(api('ask'), { body: { prompt: 'Say hello in five words.' } }) },
  { name: 'chat turn', first: (api, n) => ok(api(`chats/bench-cold-${n % 100}`), { body: { message: 'What is in my plan?' } }) },
  {
    name: 'RAG chat',
    first: (api) => ok(api('chat'), { body: { messages: [{ role: 'user', content: 'What does the handbook say about vacation?' }] } }),
  },
  {
    name: 'document upload',
    first: async (api, n) => {
      pdf ??= await makePdf(3);
      return ok(api(`documents?name=cold-${n}.pdf`), { raw: pdf, headers: { 'content-type': 'application/pdf' } });
    },
  },
];

interface Sample {
  startToListenMs: number;
  listenToFirstMs: number;
  startToFirstMs: number;
  secondMs: number;
  onFirstRequest: ModuleLoad[];
  atStart: ModuleLoad[];
}

export const p10: Row = {
  id: 'P10',
  what: `cold first response: fresh app process, spawn → first response per route family (median of ${ROUNDS}), and what loads on that request`,
  target: `≤ ${GOAL_MS} ms each`,
  needs: ['POST ask', 'POST chats/{chatId}', 'POST chat', 'POST documents'],
  async measure(env: BenchEnv) {
    // All cold processes share one working directory (the local index in .data/) and one chat table, so a
    // cold RAG chat finds an indexed document and a cold chat turn finds its chat, as in production.
    const cwd = await mkdtemp(path.join(tmpdir(), 'bench-cold-'));
    const settings = appSettings(env.model, env.azurite.connectionString, {
      CHAT_TABLE_NAME: `benchcold${process.pid}x${Date.now().toString(36)}`,
      // Kept with BENCH_APP_NODE_OPTIONS (e.g. the CPU profiler), so a cold start can be profiled too.
      NODE_OPTIONS: `${process.env.BENCH_APP_NODE_OPTIONS ?? ''} --require ${path.join(here, 'module-log.cjs')}`.trim(),
    });
    try {
      // Set-up process (not measured): one indexed document and a chat per round.
      const setup = await startApp(settings, { cwd });
      try {
        const api = (route: string) => `${setup.baseUrl}/${route}`;
        await ok(api('documents?name=handbook.md'), { raw: Buffer.from('# Handbook\n\nVacation: 25 days a year, booked two weeks ahead.\n'), headers: { 'content-type': 'text/markdown' } });
        for (let n = 0; n < ROUNDS; n++) await ok(api(`chats/bench-cold-${n}`), { method: 'PUT', body: {} });
      } finally {
        await setup.stop();
      }
      const samples = new Map<string, Sample[]>(families.map((family) => [family.name, []]));
      // Round-robin over the families, so machine noise is spread over all of them alike.
      for (let n = 0; n < ROUNDS; n++) {
        for (const family of families) {
          const spawned = performance.now();
          // As `npm start` runs: the first-start sample check is on (it finds the index already filled).
          const app: RunningApp = await startApp({ ...settings, INGEST_SAMPLE_DATA: 'true' }, { cwd });
          try {
            const listening = performance.now();
            const api = (route: string) => `${app.baseUrl}/${route}`;
            const first = await family.first(api, n);
            const second = await family.first(api, n + 100);
            const loads = moduleLoads(app.output());
            samples.get(family.name)!.push({
              startToListenMs: listening - spawned,
              listenToFirstMs: first.end - listening,
              startToFirstMs: first.end - spawned,
              secondMs: second.end - second.start,
              ...loads,
            });
          } finally {
            await app.stop();
          }
        }
      }
      const summary = families.map((family) => {
        const list = samples.get(family.name)!;
        const total = median(list.map((s) => s.startToFirstMs));
        // Outermost loads only, each module's median over the rounds, slowest first.
        const loaded = medianLoads(list.map((s) => s.onFirstRequest));
        return {
          family: family.name,
          startToFirstMs: total,
          startToListenMs: median(list.map((s) => s.startToListenMs)),
          firstRequestMs: median(list.map((s) => s.listenToFirstMs)),
          warmMs: median(list.map((s) => s.secondMs)),
          loaded,
          atStart: medianLoads(list.map((s) => s.atStart)),
        };
      });
      const figure = summary
        .map(
          (s) =>
            `${s.family} ${ms(s.startToFirstMs, 0)} (listen ${ms(s.startToListenMs, 0)} + first ${ms(s.firstRequestMs, 0)}, warm ${ms(s.warmMs, 1)}; loads ${s.loaded.map((l) => `${l.name} ${l.ms.toFixed(0)}`).join(', ') || 'nothing'})`,
        )
        .join('; ');
      const atStart = summary[0]!.atStart.map((l) => `${l.name} ${l.ms.toFixed(0)}`).join(', ');
      return {
        figure: `${figure}; at start: ${atStart || 'nothing'}`,
        met: summary.every((s) => s.startToFirstMs <= GOAL_MS),
        details: { summary, samples: Object.fromEntries(samples) },
      };
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  },
};
