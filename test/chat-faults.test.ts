// Chats under storage faults, injected by a TCP proxy in front of Azurite's table service
// (test/support/fault-proxy.ts): connections reset after storage applied a write (the SDK retries it), requests
// refused before they reach storage, and storage that accepts connections but never answers. Issue 12 items 1,
// 3, 8 and 12: commits are idempotent (0 duplicates), PUT/DELETE answer what they did, a paid reply is never
// lost, blackholed storage is a 503 in under 30 s, and only real storage failures are 503.
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { parseSse, startApp, uniqueName, type RunningApp } from './support/app.js';
import { startFakeModel, type FakeModel } from './support/fake-model.js';
import { endpointOf, startFaultProxy, throughProxies, type FaultProxy, type RequestHead } from './support/fault-proxy.js';

let model: FakeModel;
let app: RunningApp;
let tableProxy: FaultProxy;
let blobProxy: FaultProxy;
let table: TableClient;
const tableName = uniqueName('chatfaults');
const figures: string[] = [];

beforeAll(async () => {
  const connection = inject('storageConnection');
  [tableProxy, blobProxy, model] = await Promise.all([
    startFaultProxy(endpointOf(connection, 'Table')),
    startFaultProxy(endpointOf(connection, 'Blob')),
    startFakeModel(),
  ]);
  app = await startApp({
    OPENAI_BASE_URL: model.url,
    CHAT_MODEL_DEPLOYMENT_NAME: 'fault-model',
    AzureWebJobsStorage: throughProxies(connection, { table: tableProxy, blob: blobProxy }),
    CHAT_TABLE_NAME: tableName,
  });
  table = TableClient.fromConnectionString(connection, tableName, { allowInsecureConnection: true });
});
afterAll(async () => {
  console.log(`chat faults: ${figures.join('; ')}`);
  await app?.stop();
  await model?.stop();
  await tableProxy?.close();
  await blobProxy?.close();
});
beforeEach(() => {
  tableProxy.rule = () => 'pass';
  blobProxy.rule = () => 'pass';
  for (const proxy of [tableProxy, blobProxy]) for (const kind of Object.keys(proxy.injected)) delete proxy.injected[kind];
  model.reset();
});

const url = (id: string) => `${app.baseUrl}/chats/${id}`;
const put = (id: string, body = '{}') => fetch(url(id), { method: 'PUT', body });
const post = (id: string, message: string, headers: Record<string, string> = {}) => fetch(url(id), { method: 'POST', body: JSON.stringify({ message }), headers });
interface ChatView {
  exists: boolean;
  totalMessages: number;
  recentMessages: { role: string; content: string }[];
}
const getChat = async (id: string) => (await (await fetch(url(id))).json()) as ChatView;

const isBatch = (head: RequestHead) => head.method === 'POST' && head.path.endsWith('/$batch');
/** The first try of every matching request gets `fault`; the SDK's retry of it passes. */
function firstTryOf(matches: (head: RequestHead) => boolean, fault: 'reset-after-response' | 'refuse') {
  let seen = 0;
  return (head: RequestHead) => (matches(head) && seen++ % 2 === 0 ? fault : 'pass');
}

describe('connections reset after storage applied the write (the SDK retries it)', () => {
  it('stores every turn exactly once: 0 duplicates after 40 injected resets', { timeout: 120_000 }, async () => {
    const id = 'reset-turns';
    expect((await put(id)).status).toBe(202);
    tableProxy.rule = firstTryOf(isBatch, 'reset-after-response');
    const sent = Array.from({ length: 20 }, (_, index) => `sequential ${index}`);
    for (const message of sent) {
      const response = await post(id, message);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-chat-stored')).toBe('true');
      expect(await response.text()).toBe(`Echo: ${message}`);
    }
    // And 10 at once, so that recognising its own commit also works while other turns commit in between.
    const concurrent = Array.from({ length: 10 }, (_, index) => `concurrent ${index}`);
    const responses = await Promise.all(concurrent.map((message) => post(id, message)));
    for (const response of responses) expect(response.headers.get('x-chat-stored')).toBe('true');
    const resets = tableProxy.injected['reset-after-response'] ?? 0;
    expect(resets).toBeGreaterThanOrEqual(25);
    tableProxy.rule = () => 'pass';
    const chat = await getChat(id);
    const users = chat.recentMessages.filter((message) => message.role === 'user').map((message) => message.content);
    expect(chat.totalMessages).toBe(61);
    expect(users.toSorted()).toEqual([...sent, ...concurrent].toSorted());
    for (let index = 1; index < chat.recentMessages.length; index += 2) {
      expect(chat.recentMessages[index + 1]).toEqual({ role: 'assistant', content: `Echo: ${chat.recentMessages[index]!.content}`, toolCalls: [] });
    }
    figures.push(`${resets} resets after the response, 30 turns, 0 duplicates`);
  });

  it('PUT creates and resets, and answers 202 when its write was retried', async () => {
    tableProxy.rule = firstTryOf(isBatch, 'reset-after-response');
    expect((await put('reset-put', '{"instructions":"first"}')).status).toBe(202);
    expect((await put('reset-put', '{"instructions":"second"}')).status).toBe(202);
    expect(tableProxy.injected['reset-after-response']).toBeGreaterThanOrEqual(2);
    tableProxy.rule = () => 'pass';
    expect((await getChat('reset-put')).recentMessages).toEqual([{ role: 'system', content: 'second', toolCalls: [] }]);
  });

  it('DELETE answers 204 when its write was retried, and the chat is gone', async () => {
    expect((await put('reset-delete')).status).toBe(202);
    // Whatever request deletes the chat's state row (a tombstone PUT here, a DELETE before issue 12).
    const isStateWrite = (head: RequestHead) => (head.method === 'PUT' || head.method === 'DELETE') && head.path.includes("RowKey='state'");
    tableProxy.rule = firstTryOf(isStateWrite, 'reset-after-response');
    expect((await fetch(url('reset-delete'), { method: 'DELETE' })).status).toBe(204);
    expect(tableProxy.injected['reset-after-response']).toBe(1);
    tableProxy.rule = () => 'pass';
    expect((await getChat('reset-delete')).exists).toBe(false);
    expect((await post('reset-delete', 'still there?')).status).toBe(404);
  });
});

describe('a paid reply is never lost (API.md)', () => {
  it('answers 200 with x-chat-stored: false and the reply when the turn cannot be stored; nothing is written', { timeout: 60_000 }, async () => {
    const id = 'unstorable';
    expect((await put(id)).status).toBe(202);
    expect((await post(id, 'kept')).status).toBe(200);
    const before = await getChat(id);
    tableProxy.rule = (head) => (isBatch(head) ? 'refuse' : 'pass');
    const plain = await post(id, 'lost?');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('x-chat-stored')).toBe('false');
    expect(await plain.text()).toBe('Echo: lost?');
    const streamed = await post(id, 'streamed', { Accept: 'text/event-stream' });
    expect(streamed.status).toBe(200);
    const events = parseSse(await streamed.text());
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { stored: false } });
    const streamedText = events.flatMap((event) => (event.event === 'message' ? [(event.data as { content: string }).content] : [])).join('');
    expect(streamedText).toBe('Echo: streamed');
    // Each refused commit was tried 3 times by the SDK and 3 times by the app.
    expect(tableProxy.injected.refuse).toBeGreaterThanOrEqual(12);
    tableProxy.rule = () => 'pass';
    const after = await getChat(id);
    expect(after.recentMessages.map((message) => message.content)).toEqual(['You are a helpful assistant.', 'kept', 'Echo: kept']);
    expect(after).toEqual(before);
    expect(app.output()).toContain('was answered but could not be stored');
  });
});

describe('storage that accepts connections and never answers', () => {
  it('answers 503 storage_unavailable on every chat route within 30 s, and recovers', { timeout: 120_000 }, async () => {
    expect((await put('blackholed')).status).toBe(202);
    tableProxy.rule = () => 'blackhole';
    const started = performance.now();
    const timed = async (send: () => Promise<Response>) => {
      const response = await send();
      return { status: response.status, body: (await response.json()) as { error: { code: string } }, seconds: (performance.now() - started) / 1000 };
    };
    const results = await Promise.all([
      timed(() => put('blackholed')),
      timed(() => post('blackholed', 'anyone there?')),
      timed(() => fetch(url('blackholed'))),
      timed(() => fetch(url('blackholed'), { method: 'DELETE' })),
    ]);
    for (const result of results) {
      expect(result).toMatchObject({ status: 503, body: { error: { code: 'storage_unavailable' } } });
      expect(result.seconds).toBeLessThan(30);
    }
    expect(model.chatBodies()).toHaveLength(0);
    const slowest = Math.max(...results.map((result) => result.seconds));
    figures.push(`blackholed table storage: 503 after at most ${slowest.toFixed(1)} s`);
    tableProxy.rule = () => 'pass';
    expect((await getChat('blackholed')).exists).toBe(true);
  });
});

describe('errors tell the truth (issue 12 item 12)', () => {
  it('answers 500 internal_error with the invocation id for a bad row, not 503', async () => {
    expect((await put('bad-row')).status).toBe(202);
    // A state row this app could not have written: `generation` is not a string.
    await table.updateEntity({ partitionKey: 'bad-row', rowKey: 'state', generation: 42 }, 'Merge');
    const response = await fetch(url('bad-row'));
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('internal_error');
    expect(body.error.message).toMatch(/invocation id [0-9a-f-]{36}/);
  });

  it('answers 503 storage_auth_failed, saying what to check, when storage refuses the key', async () => {
    const wrongKey = inject('storageConnection').replace(/AccountKey=[^;]+/, `AccountKey=${Buffer.from('w'.repeat(64)).toString('base64')}`);
    const refused = await startApp({ OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'fault-model', AzureWebJobsStorage: wrongKey });
    try {
      const response = await fetch(`${refused.baseUrl}/chats/any`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('storage_auth_failed');
      expect(body.error.message).toContain('AzureWebJobsStorage');
      expect(refused.output()).not.toContain('w'.repeat(20));
    } finally {
      await refused.stop();
    }
  });
});
