// Concurrency on one chat: 50 concurrent posts are all kept (101 messages with the system message, none lost
// or duplicated, each user message directly followed by its reply); a reset racing posts leaves a consistent
// chat (the reset wins: turns in flight when it lands are answered but not stored); resets and deletes racing
// each other never fail.
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, uniqueName, type RunningApp } from './support/app.js';
import { startFakeModel, type FakeModel } from './support/fake-model.js';
import { createTableClient } from '../src/storage/clients.js';
import { sharedAccess } from '../src/chats/access.js';
import { createChat, deleteChat, sweep } from '../src/chats/lifecycle.js';

let model: FakeModel;
let app: RunningApp;
let messagesChecked = 0;

beforeAll(async () => {
  model = await startFakeModel();
  app = await startApp({ OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'concurrency-model', INGEST_SAMPLE_DATA: 'false' });
});
afterAll(async () => {
  console.log(`concurrency: ${messagesChecked} stored messages checked`);
  await app?.stop();
  await model?.stop();
});

const api = (path: string, init?: RequestInit) => fetch(`${app.baseUrl}/${path}`, init);

interface ChatView {
  exists: boolean;
  totalMessages: number;
  recentMessages: { role: string; content: string }[];
}

async function readChat(chatId: string): Promise<ChatView> {
  return (await (await api(`chats/${chatId}`)).json()) as ChatView;
}

/** System message first (if any), then strictly user → its own echo reply pairs; returns the user messages. */
function assertConsistent(chat: ChatView, system: string | null): string[] {
  messagesChecked += chat.recentMessages.length;
  expect(chat.totalMessages).toBe(chat.recentMessages.length);
  const messages = [...chat.recentMessages];
  if (system != null) expect(messages.shift()).toMatchObject({ role: 'system', content: system });
  expect(messages.length % 2).toBe(0);
  const users: string[] = [];
  for (let index = 0; index < messages.length; index += 2) {
    const user = messages[index]!;
    const reply = messages[index + 1]!;
    expect(user.role).toBe('user');
    expect(reply).toMatchObject({ role: 'assistant', content: `Echo: ${user.content}` });
    users.push(user.content);
  }
  expect(new Set(users).size).toBe(users.length); // no duplicates
  return users;
}

describe('concurrent turns on one chat', () => {
  it('keeps all 50 concurrent posts: 101 messages, none lost or duplicated, pairs adjacent', { timeout: 180_000 }, async () => {
    const chatId = 'fifty-at-once';
    expect((await api(`chats/${chatId}`, { method: 'PUT' })).status).toBe(202);
    model.latencyMs = 20; // turns overlap in the model, so their commits collide
    try {
      const sent = Array.from({ length: 50 }, (_, index) => `message ${index}`);
      const responses = await Promise.all(sent.map((message) => api(`chats/${chatId}`, { method: 'POST', body: JSON.stringify({ message }) })));
      for (const [index, response] of responses.entries()) {
        expect(response.status).toBe(200);
        expect(await response.text()).toBe(`Echo: ${sent[index]}`);
      }
      const chat = await readChat(chatId);
      expect(chat.totalMessages).toBe(101);
      const users = assertConsistent(chat, 'You are a helpful assistant.');
      expect([...users].sort()).toEqual([...sent].sort());
    } finally {
      model.latencyMs = 0;
    }
  });

  it('a PUT reset racing posts leaves a consistent chat: the reset wins over turns in flight', { timeout: 60_000 }, async () => {
    const chatId = 'reset-race';
    expect((await api(`chats/${chatId}`, { method: 'PUT', body: '{"instructions":"old"}' })).status).toBe(202);
    // Long enough that every racing turn is still in the model when the reset lands, so the outcome is exact.
    model.latencyMs = 2000;
    try {
      const before = Array.from({ length: 10 }, (_, index) => `before ${index}`);
      const posts = before.map((message) => api(`chats/${chatId}`, { method: 'POST', body: JSON.stringify({ message }) }));
      // Wait until the model has the turns (they are in flight), then reset.
      while (model.chatBodies().length < before.length) await new Promise((resolve) => setTimeout(resolve, 5));
      const reset = await api(`chats/${chatId}`, { method: 'PUT', body: '{"instructions":"new"}' });
      expect(reset.status).toBe(202);
      const after = Array.from({ length: 5 }, (_, index) => `after ${index}`);
      const later = after.map((message) => api(`chats/${chatId}`, { method: 'POST', body: JSON.stringify({ message }) }));
      const racing = await Promise.all(posts);
      const afterwards = await Promise.all(later);
      // Every caller got its answer; the header says exactly which turns were stored (API.md: x-chat-stored).
      for (const response of [...racing, ...afterwards]) expect(response.status).toBe(200);
      expect(racing.map((response) => response.headers.get('x-chat-stored'))).toEqual(before.map(() => 'false'));
      expect(afterwards.map((response) => response.headers.get('x-chat-stored'))).toEqual(after.map(() => 'true'));
      const chat = await readChat(chatId);
      const users = assertConsistent(chat, 'new');
      // Turns in flight when the reset landed belong to the old conversation; turns after it are all kept.
      expect(users.filter((message) => message.startsWith('before'))).toEqual([]);
      expect([...users].sort()).toEqual([...after].sort());
    } finally {
      model.latencyMs = 0;
    }
  });
});

describe('resets and deletes racing each other', () => {
  it('never answer 5xx over HTTP and leave the chat either gone or consistent', { timeout: 60_000 }, async () => {
    const chatId = 'put-delete-race';
    for (let round = 0; round < 5; round++) {
      await api(`chats/${chatId}`, { method: 'PUT' });
      await Promise.all(Array.from({ length: 4 }, (_, index) => api(`chats/${chatId}`, { method: 'POST', body: JSON.stringify({ message: `r${round}m${index}` }) })));
      const racing = await Promise.all(
        Array.from({ length: 6 }, (_, index) => api(`chats/${chatId}`, { method: index % 2 === 0 ? 'DELETE' : 'PUT', body: index % 2 === 0 ? undefined : '{}' })),
      );
      for (const response of racing) expect([202, 204, 404]).toContain(response.status);
      const chat = await readChat(chatId);
      if (chat.exists) assertConsistent(chat, 'You are a helpful assistant.');
    }
  });

  // Regression tests for two races the fuzzer found (each was a 5xx): a DELETE landing between a reset's write
  // and its re-read (503 "state row vanished"), and two sweeps deleting the same stale rows (500 from the
  // batch's 404).
  it('a delete landing right after a reset write does not fail the reset', async () => {
    const settings = { settingName: 'AzureWebJobsStorage', connectionString: inject('storageConnection') };
    const name = uniqueName('race');
    const deleter = await createTableClient(settings, name);
    await deleter.createTable();
    // Deterministic race: this client's pipeline deletes the chat as soon as the reset's transaction is written.
    const table = await createTableClient(settings, name, [
      {
        position: 'perCall',
        policy: {
          name: 'delete-after-batch',
          async sendRequest(request, next) {
            const response = await next(request);
            if (request.url.includes('$batch')) await deleteChat(deleter, 'c', sharedAccess);
            return response;
          },
        },
      },
    ]);
    const created = await createChat(table, 'c', 'sys', sharedAccess);
    expect(created).toMatchObject({ kind: 'created', state: { chatId: 'c', instructions: 'sys', totalMessages: 1 } });
  });

  it('two sweeps of the same stale rows both succeed and delete each row once', async () => {
    const table = await createTableClient({ settingName: 'AzureWebJobsStorage', connectionString: inject('storageConnection') }, uniqueName('sweep'));
    await table.createTable();
    for (let round = 0; round < 5; round++) {
      const chatId = `s${round}`;
      await createChat(table, chatId, 'one', sharedAccess);
      await createChat(table, chatId, 'two', sharedAccess); // the first generation's system message is now stale
      const [first, second] = await Promise.all([sweep(table, chatId), sweep(table, chatId)]);
      expect(first + second).toBe(1);
    }
  });
});

// Regression for a denial of service the fuzzer found: BPE tokenizers are quadratic in the length of one
// "word", so a 150 KB document (or a 100,000-character chat message) without spaces blocked the app for
// minutes. Counting in pieces makes it linear; these finish well inside the test timeout.
describe('pathological input costs linear time', () => {
  it('ingests a 500 KB document that is a single word', { timeout: 30_000 }, async () => {
    const response = await api('documents?name=one-word.md', { method: 'POST', body: 'x'.repeat(500_000), headers: { 'Content-Type': 'text/markdown' } });
    expect(response.status).toBe(201);
    expect((await api('health')).status).toBe(200);
  });

  it('answers a chat turn whose message is 100,000 characters without a space', { timeout: 30_000 }, async () => {
    expect((await api('chats/one-word', { method: 'PUT' })).status).toBe(202);
    const message = 'y'.repeat(100_000);
    const response = await api('chats/one-word', { method: 'POST', body: JSON.stringify({ message }) });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(`Echo: ${message}`);
  });
});
