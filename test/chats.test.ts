import { TableClient, odata, type TransactionAction } from '@azure/data-tables';
import { chatIdSchema } from '../src/chats/ids.js';
import { messageRow } from '../src/chats/rows.js';
import { rawClient } from './support/http-raw.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parseSse, startApp, uniqueName, type RunningApp } from './support/app.js';
import { sleep, startFakeModel, type FakeModel } from './support/fake-model.js';
import { eventually } from './support/wait.js';

let model: FakeModel;
let app: RunningApp;
const tableName = uniqueName('chattest');
let table: TableClient;

beforeAll(async () => {
  model = await startFakeModel();
  app = await startApp({ OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'test-model', CHAT_TABLE_NAME: tableName });
  table = TableClient.fromConnectionString(inject('storageConnection'), tableName, { allowInsecureConnection: true });
});
afterAll(async () => {
  await app?.stop();
  await model?.stop();
});
beforeEach(() => {
  model.reset();
  model.latencyMs = 0;
  model.chunkDelayMs = 0;
});

interface ChatStateBody {
  id: string;
  exists: boolean;
  createdAt: string | null;
  lastUpdatedAt: string | null;
  totalMessages: number;
  totalTokens: number;
  recentMessages: { role: string; content: string; toolCalls: unknown[] }[];
  usage: { promptTokens: number; completionTokens: number; totalTokens: number };
}

let chatCounter = 0;
const newId = () => `chat-${Date.now().toString(36)}-${++chatCounter}`;
const url = (id: string, query = '') => `${app.baseUrl}/chats/${id}${query}`;
const put = (id: string, body?: unknown) =>
  fetch(url(id), { method: 'PUT', body: body === undefined ? undefined : JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
const post = (id: string, message: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(url(id), { method: 'POST', body: JSON.stringify({ message }), headers, signal });
const getState = async (id: string, query = '') => {
  const response = await fetch(url(id, query));
  expect(response.status).toBe(200);
  return (await response.json()) as ChatStateBody;
};
/** Waits until the fake model has received `count` chat requests: the turn has read its state by then. */
async function modelReceived(count: number): Promise<void> {
  for (let waited = 0; model.chatBodies().length < count; waited += 10) {
    if (waited > 10_000) throw new Error('the model was never called');
    await sleep(10);
  }
}
const roles = (state: ChatStateBody) => state.recentMessages.map((message) => message.role);
const contents = (state: ChatStateBody) => state.recentMessages.map((message) => message.content);
const isoUtc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function partitionRows(id: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const entity of table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${id}`, select: ['RowKey'] } })) {
    keys.push(entity.rowKey ?? '');
  }
  return keys;
}

describe('PUT /api/chats/{chatId}', () => {
  it('creates a chat with the default system message and answers 202 {chatId}', async () => {
    const id = newId();
    const response = await put(id, { name: 'Sample ChatBot', description: 'ignored' });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ chatId: id });
    const state = await getState(id);
    expect(state).toMatchObject({ id, exists: true, totalMessages: 1, totalTokens: 0 });
    expect(state.recentMessages).toEqual([{ role: 'system', content: 'You are a helpful assistant.', toolCalls: [] }]);
  });

  it('accepts an empty body', async () => {
    const id = newId();
    expect((await fetch(url(id), { method: 'PUT' })).status).toBe(202);
    expect(roles(await getState(id))).toEqual(['system']);
  });

  it.each([['empty', ''], ['blank', '   '], ['null', null]])('has no system message when instructions are %s', async (_label, instructions) => {
    const id = newId();
    expect((await put(id, { instructions })).status).toBe(202);
    const state = await getState(id);
    expect(state.totalMessages).toBe(0);
    expect(state.recentMessages).toEqual([]);
    await post(id, 'hi');
    expect(model.chatBodies()[0]?.messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('uses given instructions as the system message', async () => {
    const id = newId();
    await put(id, { instructions: 'Answer like a pirate.' });
    await post(id, 'hello');
    expect(model.chatBodies()[0]?.messages).toEqual([
      { role: 'system', content: 'Answer like a pirate.' },
      { role: 'user', content: 'hello' },
    ]);
  });

  it('resets an existing chat: old messages are gone, atomically, and their rows are swept', async () => {
    const id = newId();
    await put(id);
    await post(id, 'one');
    await post(id, 'two');
    expect((await getState(id)).totalMessages).toBe(5);
    expect((await put(id, { instructions: 'Be brief.' })).status).toBe(202);
    const state = await getState(id);
    expect(state.totalMessages).toBe(1);
    expect(state.totalTokens).toBe(0);
    expect(state.recentMessages).toEqual([{ role: 'system', content: 'Be brief.', toolCalls: [] }]);
    // The old rows are swept after the reset answered: the state row and the new system message remain.
    await eventually('the sweep after the reset', async () => ((await partitionRows(id)).length === 2 ? true : undefined));
    model.reset();
    await post(id, 'three');
    expect(model.chatBodies()[0]?.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'three' },
    ]);
  });

  it('resolves a reset racing a turn in favour of the reset: the turn is answered but not stored', async () => {
    const id = newId();
    await put(id);
    model.latencyMs = 2000; // the turn is surely still in the model when the reset lands
    const turn = post(id, 'before the reset');
    await modelReceived(1);
    expect((await put(id, { instructions: 'Fresh start.' })).status).toBe(202);
    const response = await turn;
    expect(response.status).toBe(200);
    expect(response.headers.get('x-chat-stored')).toBe('false');
    expect(await response.text()).toBe('Echo: before the reset');
    const state = await getState(id);
    expect(contents(state)).toEqual(['Fresh start.']);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const response = await fetch(url(newId()), { method: 'PUT', body: '{"instructions":' });
    expect(response.status).toBe(400);
  });
});

describe('POST /api/chats/{chatId}', () => {
  it('keeps system, user, assistant, user, assistant and sends the history to the model', async () => {
    const id = newId();
    await put(id);
    const first = await post(id, 'Hello, how can I assist you today?', { 'Content-Type': 'application/json' });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await first.text()).toBe('Echo: Hello, how can I assist you today?');
    const second = await post(id, 'Need help with directions from Redmond to SeaTac?');
    expect(await second.text()).toBe('Echo: Need help with directions from Redmond to SeaTac?');

    const bodies = model.chatBodies();
    expect(bodies[1]?.messages).toEqual([
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Hello, how can I assist you today?' },
      { role: 'assistant', content: 'Echo: Hello, how can I assist you today?' },
      { role: 'user', content: 'Need help with directions from Redmond to SeaTac?' },
    ]);
    expect(bodies[1]?.max_tokens).toBe(1024);

    const state = await getState(id);
    expect(Object.keys(state)).toEqual(['id', 'exists', 'createdAt', 'lastUpdatedAt', 'totalMessages', 'totalTokens', 'recentMessages', 'usage']);
    expect(roles(state)).toEqual(['system', 'user', 'assistant', 'user', 'assistant']);
    expect(state.recentMessages.every((message) => Array.isArray(message.toolCalls) && message.toolCalls.length === 0)).toBe(true);
    expect(state.totalMessages).toBe(5);
    expect(state.createdAt).toMatch(isoUtc);
    expect(state.lastUpdatedAt).toMatch(isoUtc);
    expect(Date.parse(state.lastUpdatedAt!)).toBeGreaterThanOrEqual(Date.parse(state.createdAt!));
    // The fake model reports usage; totalTokens is the latest call's, usage the running total.
    const usages = model.chatBodies().map((body) => body.messages.reduce((sum, m) => sum + Math.ceil(String(m.content).length / 4) + 3, 0));
    const completions = ['Echo: Hello, how can I assist you today?', 'Echo: Need help with directions from Redmond to SeaTac?'].map((text) => Math.ceil(text.length / 4));
    expect(state.totalTokens).toBe(usages[1]! + completions[1]!);
    expect(state.usage).toEqual({
      promptTokens: usages[0]! + usages[1]!,
      completionTokens: completions[0]! + completions[1]!,
      totalTokens: usages[0]! + usages[1]! + completions[0]! + completions[1]!,
    });
  });

  it('takes the message from ?message= too', async () => {
    const id = newId();
    await put(id);
    const response = await fetch(url(id, '?message=from%20the%20query'), { method: 'POST' });
    expect(await response.text()).toBe('Echo: from the query');
  });

  it.each([
    ['no message', '{}'],
    ['empty message', '{"message":""}'],
    ['a message that is not a string', '{"message":42}'],
    ['bad JSON', '{"message":'],
  ])('answers 400 for %s without calling the model', async (_label, body) => {
    const id = newId();
    await put(id);
    const response = await fetch(url(id), { method: 'POST', body });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    expect(model.requests).toHaveLength(0);
  });

  it('answers 404 for an unknown chat before calling the model', async () => {
    const response = await post(newId(), 'anyone?');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const streamed = await post(newId(), 'anyone?', { Accept: 'text/event-stream' });
    expect(streamed.status).toBe(404);
    expect(model.requests).toHaveLength(0);
  });

  it('stores messages over the 64 KiB property limit intact', async () => {
    const id = newId();
    await put(id);
    const message = `${'Größe 😀 '.repeat(9000)}end`; // 81,003 UTF-16 units
    const response = await post(id, message);
    expect(response.status).toBe(200);
    const state = await getState(id);
    expect(contents(state)).toEqual(['You are a helpful assistant.', message, `Echo: ${message}`]);
  });

  it('answers 413 for a message over the limit without calling the model', async () => {
    const id = newId();
    await put(id);
    const response = await post(id, 'x'.repeat(100_001));
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    expect(model.requests).toHaveLength(0);
    expect((await getState(id)).totalMessages).toBe(1);
  });

  it('streams the reply as SSE; the done event carries the chat state', async () => {
    const id = newId();
    await put(id);
    model.responder = () => ({ content: 'one two three' });
    const response = await post(id, 'count', { Accept: 'text/event-stream' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = parseSse(await response.text());
    expect(events.filter((e) => e.event === 'message').map((e) => e.data)).toEqual([{ content: 'one ' }, { content: 'two ' }, { content: 'three' }]);
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(done.data).toMatchObject({
      finishReason: 'stop',
      usage: { totalTokens: expect.any(Number) },
      stored: true,
      state: {
        id,
        exists: true,
        totalMessages: 3,
        recentMessages: [
          { role: 'user', content: 'count', toolCalls: [] },
          { role: 'assistant', content: 'one two three', toolCalls: [] },
        ],
      },
    });
    expect(contents(await getState(id))).toEqual(['You are a helpful assistant.', 'count', 'one two three']);
  });

  it('leaves the chat unchanged when the model fails', async () => {
    const id = newId();
    await put(id);
    await post(id, 'kept');
    const before = await getState(id);
    model.enqueue({ kind: 'error', status: 500 }, 2);
    const response = await post(id, 'lost');
    expect(response.status).toBe(502);
    expect(await getState(id)).toEqual(before);
  });

  it('leaves the chat unchanged when a stream breaks off', async () => {
    const id = newId();
    await put(id);
    const before = await getState(id);
    model.responder = () => ({ content: 'a b c d e f' });
    model.enqueue({ kind: 'cut', afterChunks: 2 });
    const response = await post(id, 'cut', { Accept: 'text/event-stream' });
    const events = parseSse(await response.text());
    expect(events.at(-1)?.event).toBe('error');
    expect(events.some((e) => e.event === 'done')).toBe(false);
    expect(await getState(id)).toEqual(before);
  });

  it('local host only (it reports client disconnects, Azure does not): leaves the chat unchanged when the client goes away during a turn', async () => {
    const id = newId();
    await put(id);
    const before = await getState(id);
    model.latencyMs = 500;
    const controller = new AbortController();
    const turn = post(id, 'going away', {}, controller.signal).catch((error: unknown) => error);
    await modelReceived(1);
    controller.abort();
    await turn;
    // Wait for the turn to finish (it says it did not store), instead of sleeping and hoping it has.
    await eventually('the abandoned turn to end', async () => (app.output().includes(`The turn on chat ${id} was not stored`) ? true : undefined));
    expect(model.chatBodies()).toHaveLength(1);
    expect(await getState(id)).toEqual(before);
    // A caller hanging up is not a server fault: no "Unhandled error" in the log.
    expect(app.output()).not.toContain('Unhandled error');
  });

  it('local host only (it reports client disconnects, Azure does not): leaves the chat unchanged when the client leaves a stream early', async () => {
    const id = newId();
    await put(id);
    const before = await getState(id);
    model.chunkDelayMs = 100;
    model.responder = () => ({ content: 'one two three four five six' });
    const controller = new AbortController();
    const response = await post(id, 'stream then leave', { Accept: 'text/event-stream' }, controller.signal);
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await eventually('the abandoned stream to end', async () => (app.output().includes(`The turn on chat ${id} was not stored`) ? true : undefined));
    expect(await getState(id)).toEqual(before);
  });
});

describe('GET /api/chats/{chatId}', () => {
  it('answers exists:false with zero counts for an unknown chat', async () => {
    const id = newId();
    expect(await getState(id)).toEqual({
      id,
      exists: false,
      createdAt: null,
      lastUpdatedAt: null,
      totalMessages: 0,
      totalTokens: 0,
      recentMessages: [],
      usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    });
  });

  it('returns only messages created strictly after timestampUTC; no offset means UTC', async () => {
    const id = newId();
    await put(id);
    await sleep(5);
    await post(id, 'first');
    await sleep(5);
    await post(id, 'second');
    const all = await getState(id);
    expect(all.recentMessages).toHaveLength(5);
    // Everything strictly after the chat's creation: both turns, not the system message.
    const afterCreation = await getState(id, `?timestampUTC=${encodeURIComponent(all.createdAt!)}`);
    expect(contents(afterCreation)).toEqual(['first', 'Echo: first', 'second', 'Echo: second']);
    // The state's createdAt without its Z is the same instant (UTC).
    const withoutOffset = all.createdAt!.replace('Z', '');
    expect(contents(await getState(id, `?timestampUTC=${withoutOffset}`))).toEqual(contents(afterCreation));
    // An explicit offset, with the + left unencoded as people type it.
    const plusOffset = new Date(Date.parse(all.createdAt!) + 3_600_000).toISOString().replace('Z', '+01:00');
    expect(contents(await getState(id, `?timestampUTC=${plusOffset}`))).toEqual(contents(afterCreation));
    // Strictly after: the newest message's own timestamp excludes it.
    expect((await getState(id, `?timestampUTC=${encodeURIComponent(all.lastUpdatedAt!)}`)).recentMessages).toEqual([]);
    // The seed's timestamp is long ago: everything.
    expect((await getState(id, '?timestampUTC=2024-01-15T22:00:00')).recentMessages).toHaveLength(5);
    expect((await getState(id, '?timestampUTC=2024-01-15T22:00:00.1234567')).recentMessages).toHaveLength(5); // .NET's 7 digits
    expect((await getState(id, '?timestampUTC=2024-01-15')).recentMessages).toHaveLength(5);
    // Counts are the chat's, not the filtered list's.
    expect((await getState(id, `?timestampUTC=${encodeURIComponent(all.lastUpdatedAt!)}`)).totalMessages).toBe(5);
  });

  // Issue 12 § 16: the space form (as .NET and SQL print dates) was a 400, and 2024-02-30 rolled over to March.
  it.each(['2024-01-01 00:00:00', '2024-01-01 00:00', '2024-02-29T23:59:59.9999999Z', '2024-01-01 00:00:00+01:00'])('accepts timestampUTC=%s', async (value) => {
    const id = newId();
    await put(id);
    await post(id, 'first');
    expect((await getState(id, `?timestampUTC=${encodeURIComponent(value)}`)).recentMessages).toHaveLength(3);
  });

  it.each([
    'yesterday',
    '2024-13-45T99:00:00',
    '2024-01-15T22:00:00+25',
    '2024-02-30',
    '2023-02-29T00:00:00Z',
    '2024-04-31 10:00:00',
    '2024-01-01T24:00:00',
    '2024-01-01T23:60:00',
    '2024-01-01T23:59:60',
    '2024-01-01T10:00:00+01:60',
    '2024-01-01x10:00',
  ])('answers 400 for timestampUTC=%s', async (value) => {
    const response = await fetch(url(newId(), `?timestampUTC=${encodeURIComponent(value)}`));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toContain('timestampUTC');
  });
});

describe('GET paging (top, continuationToken)', () => {
  /** A chat with `count` messages after its system message, written straight into the table with the app's own rows. */
  async function seedChat(id: string, count: number): Promise<void> {
    expect((await put(id, { instructions: 'seeded' })).status).toBe(202);
    const state = await table.getEntity<{ generation: string }>(id, 'state');
    const createdAt = new Date().toISOString();
    const rows = Array.from({ length: count }, (_, index) => {
      const sequence = index + 2;
      const role = index % 2 === 0 ? 'user' : 'assistant';
      return messageRow(id, state.generation, sequence, { role, content: `message ${sequence}`, tokens: 5 }, createdAt);
    });
    for (let start = 0; start < rows.length; start += 100) {
      await table.submitTransaction(rows.slice(start, start + 100).map((row): TransactionAction => ['create', row]));
    }
    await table.updateEntity({ partitionKey: id, rowKey: 'state', totalMessages: count + 1, lastUpdatedAt: createdAt }, 'Merge');
  }
  const page = async (id: string, query: string) => (await getState(id, query)) as ChatStateBody & { continuationToken?: string };

  it('returns at most 1000 messages by default, then the rest with the continuationToken, oldest first', async () => {
    const id = newId();
    await seedChat(id, 1200);
    const first = await page(id, '');
    expect(first.totalMessages).toBe(1201);
    expect(first.recentMessages).toHaveLength(1000);
    expect(first.recentMessages[0]?.content).toBe('seeded');
    expect(first.recentMessages[999]?.content).toBe('message 1000');
    expect(first.continuationToken).toEqual(expect.any(String));
    const second = await page(id, `?continuationToken=${encodeURIComponent(first.continuationToken!)}`);
    expect(second.recentMessages.map((message) => message.content)).toEqual(Array.from({ length: 201 }, (_, index) => `message ${index + 1001}`));
    expect(second).not.toHaveProperty('continuationToken');
  });

  it('pages with top and keeps timestampUTC across pages', async () => {
    const id = newId();
    await put(id);
    const created = await getState(id);
    for (const message of ['a', 'b', 'c']) expect((await post(id, message)).status).toBe(200);
    const since = `timestampUTC=${encodeURIComponent(created.createdAt!)}`;
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const next = await page(id, `?${since}&top=4${token == null ? '' : `&continuationToken=${encodeURIComponent(token)}`}`);
      seen.push(...next.recentMessages.map((message) => message.content));
      token = next.continuationToken;
      pages += 1;
    } while (token != null);
    expect(pages).toBe(2);
    expect(seen).toEqual(['a', 'Echo: a', 'b', 'Echo: b', 'c', 'Echo: c']);
  });

  it.each(['0', '1001', '2.5', 'ten'])('answers 400 for top=%s', async (value) => {
    const response = await fetch(url(newId(), `?top=${value}`));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('top');
  });

  it('answers 400 for a token it did not issue, and for a token from before a reset', async () => {
    const id = newId();
    await put(id);
    await post(id, 'one');
    const forged = await fetch(url(id, '?continuationToken=bm90LWEtdG9rZW4'));
    expect(forged.status).toBe(400);
    expect(((await forged.json()) as { error: { message: string } }).error.message).toContain('continuationToken');
    const first = await page(id, '?top=1');
    expect(first.continuationToken).toEqual(expect.any(String));
    expect((await put(id)).status).toBe(202);
    const stale = await fetch(url(id, `?continuationToken=${encodeURIComponent(first.continuationToken!)}`));
    expect(stale.status).toBe(400);
    expect(((await stale.json()) as { error: { message: string } }).error.message).toContain('reset');
  });
});

describe('DELETE /api/chats/{chatId}', () => {
  it('removes the chat and every row of it; 404 afterwards', async () => {
    const id = newId();
    await put(id);
    await post(id, 'one');
    await post(id, 'two');
    expect((await partitionRows(id)).length).toBe(6);
    const response = await fetch(url(id), { method: 'DELETE' });
    expect(response.status).toBe(204);
    // Gone at once for every reader; its rows (and the tombstone) are removed after the answer.
    expect((await getState(id)).exists).toBe(false);
    await eventually('the sweep after the delete', async () => ((await partitionRows(id)).length === 0 ? true : undefined));
    expect((await post(id, 'gone?')).status).toBe(404);
    expect((await fetch(url(id), { method: 'DELETE' })).status).toBe(404);
  });
});

describe('chat ids', () => {
  it.each([
    ['a quote', "a'b"],
    ['300 characters', 'x'.repeat(300)],
    ['a NUL', '%00'],
    ['a space', 'a%20b'],
    ['an OData injection', "x'%20or%20PartitionKey%20ne%20'"],
  ])('answers 400 for %s on every method', async (_label, id) => {
    for (const method of ['PUT', 'POST', 'GET', 'DELETE']) {
      const response = await fetch(`${app.baseUrl}/chats/${id}`, { method, body: method === 'POST' ? '{"message":"hi"}' : undefined });
      expect(response.status, method).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain('chatId');
    }
    expect(model.requests).toHaveLength(0);
  });

  // Issue 12 § 16: `.` and `..` passed the id rule, but URLs normalise them away, so such a chat was unreachable.
  // Hosts (Azure's front end, the local host) normalise the segment before routing; the rule refuses it for
  // any that does not.
  it.each(['.', '..'])('refuses %s as a chat id, and the normalised URL reaches no chat', async (id) => {
    const result = chatIdSchema.safeParse(id);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain('must not be');
    const client = rawClient(app.baseUrl);
    const response = await client.send({ method: 'PUT', path: `/api/chats/${id}` });
    client.close();
    expect(response.status).toBe(404);
    expect(JSON.parse(response.text)).toMatchObject({ error: { code: 'not_found' } });
  });

  it.each(['...', '.a', 'a..b'])('accepts %s, which URLs leave alone', async (id) => {
    expect(chatIdSchema.safeParse(id).success).toBe(true);
    expect((await put(id)).status).toBe(202);
    expect((await getState(id)).exists).toBe(true);
  });

  it('accepts every allowed character, up to 128 of them', async () => {
    const id = `Az09_-.:@${'k'.repeat(119)}`;
    expect(id).toHaveLength(128);
    expect((await put(id)).status).toBe(202);
    expect((await getState(id)).exists).toBe(true);
  });
});

describe('OpenAPI', () => {
  it('describes the four chat routes', async () => {
    const document = (await (await fetch(`${app.baseUrl}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(document.paths['/chats/{chatId}'] ?? {}).sort()).toEqual(['delete', 'get', 'post', 'put']);
  });
});

describe('storage that cannot be reached', () => {
  it('answers 503 storage_unavailable on every chat route', async () => {
    const closed = 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;' +
      'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;' +
      'TableEndpoint=http://127.0.0.1:1/devstoreaccount1;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;';
    const offline = await startApp({ OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'test-model', AzureWebJobsStorage: closed });
    try {
      for (const method of ['PUT', 'POST', 'GET', 'DELETE']) {
        const response = await fetch(`${offline.baseUrl}/chats/abc`, { method, body: method === 'POST' ? '{"message":"hi"}' : undefined });
        expect(response.status, method).toBe(503);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('storage_unavailable');
      }
      expect(model.requests).toHaveLength(0);
    } finally {
      await offline.stop();
    }
  });
});
