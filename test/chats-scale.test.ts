// Chats at scale: storage requests per turn at 10 vs 1,000 messages (counted by a loopback proxy in front of
// Azurite), the token-budgeted prompt, concurrent turns, and limits that need their own settings.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { messageRow } from '../src/chats/rows.js';
import { messageTokens, countTokens } from '../src/model/tokens.js';
import { startApp, uniqueName, type RunningApp } from './support/app.js';
import { startFakeModel, type FakeModel } from './support/fake-model.js';

const HISTORY_TOKENS = 300;

/** Forwards every request to Azurite's table service and counts them. */
async function startCountingProxy(target: URL): Promise<{ port: number; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, requests, server };
}

let model: FakeModel;
let app: RunningApp;
let proxy: Awaited<ReturnType<typeof startCountingProxy>>;
let table: TableClient;
const tableName = uniqueName('chatscale');

beforeAll(async () => {
  const connection = inject('storageConnection');
  const tableEndpoint = /TableEndpoint=(http:\/\/[^;]+)/.exec(connection)![1]!;
  proxy = await startCountingProxy(new URL(tableEndpoint));
  const proxied = connection.replace(tableEndpoint, `http://127.0.0.1:${proxy.port}/devstoreaccount1`);
  model = await startFakeModel();
  app = await startApp({
    OPENAI_BASE_URL: model.url,
    CHAT_MODEL_DEPLOYMENT_NAME: 'test-model',
    AzureWebJobsStorage: proxied,
    CHAT_TABLE_NAME: tableName,
    CHAT_HISTORY_TOKENS: String(HISTORY_TOKENS),
    MODEL_CONTEXT_TOKENS: '2000',
    MODEL_TIMEOUT_MS: '1500',
    MODEL_MAX_RETRIES: '0',
  });
  table = TableClient.fromConnectionString(connection, tableName, { allowInsecureConnection: true });
});
afterAll(async () => {
  await app?.stop();
  await model?.stop();
  await new Promise((resolve) => proxy?.server.close(resolve));
});
beforeEach(() => {
  model.reset();
  model.latencyMs = 0;
});

const url = (id: string) => `${app.baseUrl}/chats/${id}`;
const put = (id: string) => fetch(url(id), { method: 'PUT' });
const post = (id: string, message: string) => fetch(url(id), { method: 'POST', body: JSON.stringify({ message }) });
const getState = async (id: string) =>
  (await (await fetch(url(id))).json()) as { totalMessages: number; recentMessages: { role: string; content: string }[] };

/** A chat with `count` messages after its system message, written straight into the table with the store's own rows. */
async function seedChat(id: string, count: number): Promise<void> {
  expect((await put(id)).status).toBe(202);
  const state = await table.getEntity<{ generation: string }>(id, 'state');
  const createdAt = new Date().toISOString();
  const rows = Array.from({ length: count }, (_, index) => {
    const sequence = index + 2;
    const role = index % 2 === 0 ? 'user' : 'assistant';
    const content = `seeded ${role} message number ${sequence}`;
    return messageRow(id, state.generation, sequence, { role, content, tokens: messageTokens(content) }, createdAt);
  });
  for (let start = 0; start < rows.length; start += 100) {
    await table.submitTransaction(rows.slice(start, start + 100).map((row): TransactionAction => ['create', row]));
  }
  await table.updateEntity({ partitionKey: id, rowKey: 'state', totalMessages: count + 1, lastUpdatedAt: createdAt }, 'Merge');
}

/** Storage requests one turn makes, and how long it takes. */
async function measureTurn(id: string, message: string): Promise<{ requests: string[]; ms: number }> {
  const before = proxy.requests.length;
  const started = performance.now();
  const response = await post(id, message);
  expect(response.status).toBe(200);
  await response.text();
  const ms = performance.now() - started;
  return { requests: proxy.requests.slice(before), ms };
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * p)]!;

describe('the cost of a turn', () => {
  it('makes the same storage requests with 10 and with 1,000 messages of history', { timeout: 120_000 }, async () => {
    const short = `short-${Date.now()}`;
    const long = `long-${Date.now()}`;
    await seedChat(short, 10);
    await seedChat(long, 1000);
    await measureTurn(short, 'warm up'); // first use creates the table client and loads the tokenizer
    // The seed wrote behind the app's back: each chat's first turn finds it changed since the app's own last
    // write and reads its history a second time (see the test below); later turns read it once.
    await measureTurn(long, 'warm up');

    const shortTurns: { requests: string[]; ms: number }[] = [];
    const longTurns: { requests: string[]; ms: number }[] = [];
    for (let i = 0; i < 20; i++) {
      shortTurns.push(await measureTurn(short, `question ${i}`));
      longTurns.push(await measureTurn(long, `question ${i}`));
    }
    const shortCounts = shortTurns.map((turn) => turn.requests.length);
    const longCounts = longTurns.map((turn) => turn.requests.length);
    // One read of the state row, one page of recent messages, one transaction.
    expect(shortCounts[0]).toBe(3);
    expect(longCounts).toEqual(shortCounts);
    expect(longTurns[0]!.requests.map((line) => line.split(' ')[0])).toEqual(['GET', 'GET', 'POST']);
    console.log(
      `[chats] storage requests per turn: ${shortCounts[0]} at 10 messages, ${longCounts[0]} at 1,000; ` +
        `turn p50 ${percentile(shortTurns.map((t) => t.ms), 0.5).toFixed(1)} ms at 10, ` +
        `${percentile(longTurns.map((t) => t.ms), 0.5).toFixed(1)} ms at 1,000 (fake model, 0 ms latency)`,
    );
    // The 1,000-message chat's prompt stayed within the budget.
    const lastPrompt = model.chatBodies().at(-1)!.messages;
    expect(lastPrompt.length).toBeLessThan(60);
  });

  it('reads the history beside the state row, and again when another writer changed the chat since', async () => {
    const id = `overlap-${Date.now()}`;
    expect((await put(id)).status).toBe(202);
    expect((await measureTurn(id, 'first question')).requests.map((line) => line.split(' ')[0])).toEqual(['GET', 'GET', 'POST']);
    // Another instance's turn: two rows and the state row, written straight into the table.
    const state = await table.getEntity<{ generation: string; totalMessages: number; messageTokens: number }>(id, 'state');
    const createdAt = new Date().toISOString();
    const written = ['question from elsewhere', 'answer from elsewhere'];
    await table.submitTransaction(
      written.map((content, index): TransactionAction => ['create', messageRow(id, state.generation, state.totalMessages + 1 + index, { role: index === 0 ? 'user' : 'assistant', content, tokens: messageTokens(content) }, createdAt)]),
    );
    await table.updateEntity({ partitionKey: id, rowKey: 'state', totalMessages: state.totalMessages + 2, messageTokens: state.messageTokens + written.reduce((sum, content) => sum + messageTokens(content), 0), lastUpdatedAt: createdAt }, 'Merge');
    model.reset();
    const stale = await measureTurn(id, 'second question');
    const prompt = model.chatBodies()[0]!.messages.map((message) => message.content);
    expect(prompt).toEqual(['You are a helpful assistant.', 'first question', 'Echo: first question', ...written, 'second question']);
    // The early history read was for the chat as this app left it: read again for the chat as it is.
    expect(stale.requests.map((line) => line.split(' ')[0])).toEqual(['GET', 'GET', 'GET', 'POST']);
    expect((await measureTurn(id, 'third question')).requests).toHaveLength(3);
  });

  it('stops growing the prompt once CHAT_HISTORY_TOKENS is reached', async () => {
    const id = `growth-${Date.now()}`;
    await put(id);
    for (let i = 0; i < 20; i++) expect((await post(id, `turn ${i}: tell me something about the number ${i}`)).status).toBe(200);
    const prompts = model.chatBodies().map((body) => body.messages);
    const lengths = prompts.map((messages) => messages.length);
    const tokens = prompts.map((messages) => 3 + messages.reduce((sum, m) => sum + messageTokens(String(m.content)), 0));
    expect(lengths.slice(0, 3)).toEqual([2, 4, 6]); // grows while everything fits
    expect(Math.max(...tokens)).toBeLessThanOrEqual(HISTORY_TOKENS);
    expect(lengths.at(-1)).toBeLessThan(41); // the whole history would be 1 + 2×19 + 1 messages
    expect(new Set(lengths.slice(10)).size).toBeLessThanOrEqual(2); // a plateau, not growth
    for (const messages of prompts) {
      expect(messages[0]).toEqual({ role: 'system', content: 'You are a helpful assistant.' });
      expect(messages.at(-1)?.role).toBe('user');
    }
    // Nothing was lost from storage: the window only limits what the model is sent.
    expect((await getState(id)).totalMessages).toBe(41);
  });
});

describe('concurrent turns', () => {
  it('keeps every message of 24 concurrent posts exactly once, each reply right after its question', async () => {
    const id = `concurrent-${Date.now()}`;
    await put(id);
    model.latencyMs = 30;
    const messages = Array.from({ length: 24 }, (_, i) => `concurrent message ${i}`);
    const responses = await Promise.all(messages.map((message) => post(id, message)));
    expect(responses.map((response) => response.status)).toEqual(messages.map(() => 200));
    expect(await Promise.all(responses.map((response) => response.text()))).toEqual(messages.map((m) => `Echo: ${m}`));
    expect(model.chatBodies()).toHaveLength(24); // no turn called the model twice
    const state = await getState(id);
    expect(state.totalMessages).toBe(49);
    const stored = state.recentMessages.slice(1);
    expect(stored).toHaveLength(48);
    for (let i = 0; i < stored.length; i += 2) {
      expect(stored[i]?.role).toBe('user');
      expect(stored[i + 1]).toEqual({ role: 'assistant', content: `Echo: ${stored[i]?.content}`, toolCalls: [] });
    }
    expect(new Set(stored.filter((m) => m.role === 'user').map((m) => m.content))).toEqual(new Set(messages));
  });
});

describe('limits with their own settings', () => {
  it('answers 504 when the model times out and leaves the chat unchanged', async () => {
    const id = `timeout-${Date.now()}`;
    await put(id);
    const before = await getState(id);
    model.enqueue({ kind: 'hang' });
    const response = await post(id, 'will time out');
    expect(response.status).toBe(504);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('model_timeout');
    expect(await getState(id)).toEqual(before);
  });

  it('answers 413 before the model when the message cannot fit the model context with the output', async () => {
    const id = `context-${Date.now()}`;
    await put(id);
    const message = 'word '.repeat(1200);
    expect(countTokens(message)).toBeGreaterThan(2000 - 1024);
    const response = await post(id, message);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('MODEL_CONTEXT_TOKENS');
    expect(model.requests).toHaveLength(0);
  });
});
