// P11: what a chat turn costs when the model calls one server skill (todo_add) and then answers, next to a
// plain turn on the same app: model calls and storage requests per turn, added latency and CPU.
import { echoResponder } from '../support/fake-model.js';
import { toolDriver } from '../support/tool-driver.js';
import type { BenchEnv } from './env.js';
import { ok } from './http-client.js';
import type { Row } from './row.js';
import { cpuMsOf, median, ms, repeat } from './stats.js';

/** Turns per chat: a fresh chat every 5 keeps the history short, as in P1b. */
const TURNS_PER_CHAT = 5;

interface Kind {
  urls: string[];
  message: (n: number) => string;
  times: number[];
  modelCalls: number[];
  storageRequests: number[];
  cpuMs: number;
}

export const p11: Row = {
  id: 'P11',
  what: 'chat turn with one server skill call (todo_add) vs a plain turn: model calls, storage requests, added p50 and CPU',
  target: '2 model calls, ≤ 4 storage requests (the skill\'s own write + a plain turn\'s 3)',
  needs: ['PUT chats/{chatId}', 'POST chats/{chatId}'],
  async measure(env: BenchEnv) {
    const { app, proxy, api } = await env.counted();
    const { model } = env;
    const pid = app.process.pid;
    const warmUp = 2;
    const blocks = 24;
    const stamp = Date.now();
    const chats = async (name: string, body: unknown) => {
      const urls: string[] = [];
      for (let i = 0; i < warmUp + blocks; i++) {
        urls.push(api(`chats/bench-p11-${name}-${stamp}-${i}`));
        await ok(urls[i]!, { method: 'PUT', body });
      }
      return urls;
    };
    const kind = async (name: string, body: unknown, message: (n: number) => string): Promise<Kind> => ({
      urls: await chats(name, body),
      message,
      times: [],
      modelCalls: [],
      storageRequests: [],
      cpuMs: 0,
    });
    model.responder = toolDriver(echoResponder);
    try {
      const plain = await kind('plain', {}, (n) => `Say hello in five words (${n}).`);
      const tools = await kind('tools', { skills: ['todo_add'] }, (n) => `Add a new todo item: Buy milk ${n}`);
      let n = 0;
      // One block = one chat's 5 turns; blocks alternate so both kinds see the same machine noise, and CPU is
      // read per block (the process serves nothing else meanwhile).
      const block = async (k: Kind, index: number, record: boolean) => {
        const cpuBefore = cpuMsOf(pid);
        await repeat(TURNS_PER_CHAT, async () => {
          const requests = proxy.count();
          const calls = model.requests.length;
          const response = await ok(k.urls[index]!, { body: { message: k.message(n++) } });
          if (!record) return;
          k.times.push(response.end - response.start);
          k.storageRequests.push(proxy.count() - requests);
          k.modelCalls.push(model.requests.length - calls);
        });
        const cpuAfter = cpuMsOf(pid);
        if (record && cpuBefore != null && cpuAfter != null) k.cpuMs += cpuAfter - cpuBefore;
      };
      for (let i = 0; i < warmUp; i++) {
        await block(plain, i, false);
        await block(tools, i, false);
      }
      for (let i = warmUp; i < warmUp + blocks; i++) {
        const [first, second] = i % 2 === 0 ? [plain, tools] : [tools, plain];
        await block(first, i, true);
        await block(second, i, true);
      }
      const summary = (k: Kind) => ({
        p50Ms: median(k.times),
        cpuMsPerTurn: k.cpuMs / k.times.length,
        modelCalls: median(k.modelCalls),
        maxModelCalls: Math.max(...k.modelCalls),
        storageRequests: median(k.storageRequests),
        maxStorageRequests: Math.max(...k.storageRequests),
      });
      const p = summary(plain);
      const t = summary(tools);
      return {
        figure:
          `tool turn ${t.modelCalls} model calls (max ${t.maxModelCalls}), ${t.storageRequests} storage requests (max ${t.maxStorageRequests}) ` +
          `vs plain ${p.modelCalls} and ${p.storageRequests}; p50 ${ms(t.p50Ms)} vs ${ms(p.p50Ms)} (+${ms(t.p50Ms - p.p50Ms)}); ` +
          `app CPU ${ms(t.cpuMsPerTurn)} vs ${ms(p.cpuMsPerTurn)} per turn (+${ms(t.cpuMsPerTurn - p.cpuMsPerTurn)}); n=${tools.times.length} each`,
        met: t.maxModelCalls === 2 && t.maxStorageRequests <= 4,
        details: { tools: t, plain: p, turns: tools.times.length },
      };
    } finally {
      model.reset();
    }
  },
};
