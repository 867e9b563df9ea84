// Crash tests for chats (issue 12): the app process is SIGKILLed at chosen points around a turn's commit and
// in the middle of a sweep, through a fault proxy in front of Azurite's table service that holds the exact
// request. After a restart every chat is unchanged or holds one complete pair, and interrupted sweeps resume
// on the next access (and from the timer function's work, sweepPendingChats).
import { TableClient, odata, type TransactionAction } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sweepPendingChats } from '../src/chats/lifecycle.js';
import { messageRow } from '../src/chats/rows.js';
import { startApp, uniqueName, type RunningApp } from './support/app.js';
import { startFakeModel, type FakeModel } from './support/fake-model.js';
import { endpointOf, startFaultProxy, throughProxies, type FaultProxy, type RequestHead } from './support/fault-proxy.js';
import { eventually } from './support/wait.js';

let model: FakeModel;
let proxy: FaultProxy;
let app: RunningApp;
let table: TableClient;
const tableName = uniqueName('chatcrash');
let kills = 0;
const outcomes = { unchanged: 0, onePair: 0 };

async function start(): Promise<RunningApp> {
  return startApp({
    OPENAI_BASE_URL: model.url,
    CHAT_MODEL_DEPLOYMENT_NAME: 'crash-model',
    AzureWebJobsStorage: throughProxies(inject('storageConnection'), { table: proxy }),
    CHAT_TABLE_NAME: tableName,
  });
}

/** SIGKILL: no shutdown hook, no finally block runs in the app. */
async function kill(running: RunningApp): Promise<void> {
  const exited = new Promise((resolve) => running.process.once('exit', resolve));
  running.process.kill('SIGKILL');
  await exited;
  kills += 1;
}

beforeAll(async () => {
  const connection = inject('storageConnection');
  [proxy, model] = await Promise.all([startFaultProxy(endpointOf(connection, 'Table')), startFakeModel()]);
  app = await start();
  table = TableClient.fromConnectionString(connection, tableName, { allowInsecureConnection: true });
});
afterAll(async () => {
  console.log(`chat crashes: ${kills} SIGKILLs; turns: ${outcomes.unchanged} chats unchanged, ${outcomes.onePair} with one complete pair`);
  await app?.stop();
  await model?.stop();
  await proxy?.close();
});

const url = (id: string) => `${app.baseUrl}/chats/${id}`;
interface ChatView {
  exists: boolean;
  totalMessages: number;
  recentMessages: { role: string; content: string; toolCalls: unknown[] }[];
}
const getChat = async (id: string) => (await (await fetch(url(id))).json()) as ChatView;
const isBatch = (head: RequestHead) => head.method === 'POST' && head.path.endsWith('/$batch');

async function rows(id: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const entity of table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${id}`, select: ['RowKey'] } })) keys.push(entity.rowKey ?? '');
  return keys;
}

/** A signal for the first request matching `matches`, and the fault it gets. */
function onFirst(matches: (head: RequestHead) => boolean, fault: () => ReturnType<FaultProxy['rule']>) {
  let seen!: () => void;
  const reached = new Promise<void>((resolve) => (seen = resolve));
  let fired = false;
  proxy.rule = (head) => {
    if (fired || !matches(head)) return 'pass';
    fired = true;
    seen();
    return fault();
  };
  return reached;
}

type Point = 'while the model answers' | 'before the transaction reaches storage' | 'after storage applied the transaction';

async function crashTurn(id: string, point: Point): Promise<{ before: ChatView; after: ChatView; message: string }> {
  const before = await getChat(id);
  const message = `turn killed ${point} ${kills}`;
  let release!: (value: 'forward' | 'drop') => void;
  const held = new Promise<'forward' | 'drop'>((resolve) => (release = resolve));
  const running = app;
  let reached: Promise<void>;
  if (point === 'while the model answers') {
    model.latencyMs = 30_000;
    reached = (async () => {
      while (model.chatBodies().length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    })();
  } else if (point === 'before the transaction reaches storage') {
    reached = onFirst(isBatch, () => ({ hold: held }));
  } else {
    // The proxy forwards the transaction; storage applies it; the app dies before it hears the answer.
    reached = onFirst(isBatch, () => ({ beforeResponse: () => kill(running) }));
  }
  model.reset();
  const turn = fetch(url(id), { method: 'POST', body: JSON.stringify({ message }) }).then(
    () => 'answered',
    () => 'cut',
  );
  await reached;
  if (point !== 'after storage applied the transaction') await kill(running);
  expect(await turn).toBe('cut');
  release('drop');
  proxy.rule = () => 'pass';
  model.reset();
  model.latencyMs = 0;
  app = await start();
  return { before, after: await getChat(id), message };
}

describe('SIGKILL around a turn commit', () => {
  const points: Point[] = ['while the model answers', 'before the transaction reaches storage', 'after storage applied the transaction'];
  it.each(points)('leaves the chat unchanged or with one complete pair when killed %s', { timeout: 120_000 }, async (point) => {
    const id = `crash-${points.indexOf(point)}`;
    expect((await fetch(url(id), { method: 'PUT' })).status).toBe(202);
    expect((await fetch(url(id), { method: 'POST', body: '{"message":"before the crash"}' })).status).toBe(200);
    for (let round = 0; round < 2; round++) {
      const { before, after, message } = await crashTurn(id, point);
      if (point === 'after storage applied the transaction') {
        // Exactly one complete pair more: the transaction was whole.
        expect(after.totalMessages).toBe(before.totalMessages + 2);
        expect(after.recentMessages).toEqual([
          ...before.recentMessages,
          { role: 'user', content: message, toolCalls: [] },
          { role: 'assistant', content: `Echo: ${message}`, toolCalls: [] },
        ]);
        outcomes.onePair += 1;
      } else {
        expect(after).toEqual(before);
        expect(after.exists).toBe(true);
        outcomes.unchanged += 1;
      }
    }
    // The chat keeps working after the crashes.
    expect((await fetch(url(id), { method: 'POST', body: '{"message":"after"}' })).status).toBe(200);
  });
});

describe('SIGKILL during a sweep', () => {
  /** A chat whose current generation holds `count` seeded messages after its system message. */
  async function seed(id: string, count: number): Promise<void> {
    expect((await fetch(url(id), { method: 'PUT' })).status).toBe(202);
    const state = await table.getEntity<{ generation: string }>(id, 'state');
    const createdAt = new Date().toISOString();
    const seeded = Array.from({ length: count }, (_, index) =>
      messageRow(id, state.generation, index + 2, { role: index % 2 === 0 ? 'user' : 'assistant', content: `old ${index}`, tokens: 3 }, createdAt),
    );
    for (let start = 0; start < seeded.length; start += 100) {
      await table.submitTransaction(seeded.slice(start, start + 100).map((row): TransactionAction => ['create', row]));
    }
    await table.updateEntity({ partitionKey: id, rowKey: 'state', totalMessages: count + 1, lastUpdatedAt: createdAt }, 'Merge');
  }

  /**
   * Kills the app in the middle of the sweep after `operation` answered: when the sweep asks for its second
   * page of row keys, after deleting the first 100 rows.
   */
  async function killDuringSweep(operation: () => Promise<Response>, status: number): Promise<void> {
    const running = app;
    const secondPage = (head: RequestHead) => head.method === 'GET' && head.path.includes('$select=RowKey') && head.path.includes('NextRowKey');
    const reached = onFirst(secondPage, () => ({ hold: new Promise<'drop'>(() => undefined) }));
    expect((await operation()).status).toBe(status);
    await reached;
    await kill(running);
    proxy.rule = () => 'pass';
  }

  it('resumes a DELETE sweep on the next access after a restart: no orphan rows', { timeout: 120_000 }, async () => {
    const id = 'sweep-delete';
    await seed(id, 250);
    await killDuringSweep(() => fetch(url(id), { method: 'DELETE' }), 204);
    // Killed mid-sweep: the chat is gone for readers; 100 rows were deleted, 151 and the tombstone remain.
    expect((await rows(id)).length).toBe(152);
    app = await start();
    expect((await getChat(id)).exists).toBe(false);
    await eventually('the resumed sweep', async () => ((await rows(id)).length === 0 ? true : undefined));
  });

  it('resumes a reset sweep on the next turn after a restart', { timeout: 120_000 }, async () => {
    const id = 'sweep-reset';
    await seed(id, 250);
    await killDuringSweep(() => fetch(url(id), { method: 'PUT', body: '{"instructions":"fresh"}' }), 202);
    // 253 rows (old system message + 250, new system message, state) less the 100 deleted before the kill.
    expect((await rows(id)).length).toBe(153);
    app = await start();
    expect((await fetch(url(id), { method: 'POST', body: '{"message":"hello again"}' })).status).toBe(200);
    await eventually('the resumed sweep', async () => ((await rows(id)).length === 4 ? true : undefined));
    expect((await getChat(id)).recentMessages.map((message) => message.content)).toEqual(['fresh', 'hello again', 'Echo: hello again']);
  });

  it("is resumed by the timer function's work for chats nobody opens again", { timeout: 120_000 }, async () => {
    const id = 'sweep-timer';
    await seed(id, 150);
    await killDuringSweep(() => fetch(url(id), { method: 'DELETE' }), 204);
    expect((await rows(id)).length).toBe(52);
    app = await start();
    expect(await sweepPendingChats(table)).toBe(51);
    expect(await rows(id)).toEqual([]);
  });
});
