import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSse, startApp, uniqueName, type RunningApp } from './support/app.js';
import { echoResponder, startFakeModel, type FakeModel } from './support/fake-model.js';
import { toolDriver } from './support/tool-driver.js';
import { eventually } from './support/wait.js';

// One deadline per request before its response starts (REQUEST_DEADLINE_MS, under Azure's 230 s): each model
// call has its own MODEL_TIMEOUT_MS, but a turn of many tool rounds adds them up past what Azure allows, and
// Azure would then answer with its own empty error and the turn's fate unknown. Here the deadline is 1.5 s.

const DEADLINE_MS = 1500;

let model: FakeModel;
let app: RunningApp;
beforeAll(async () => {
  model = await startFakeModel();
  model.responder = toolDriver(echoResponder);
  app = await startApp({
    OPENAI_BASE_URL: model.url,
    CHAT_MODEL_DEPLOYMENT_NAME: 'test-model',
    EMBEDDING_MODEL_DEPLOYMENT_NAME: 'test-embedding',
    CONTENT_CONTAINER: uniqueName('deadline').toLowerCase().slice(0, 60),
    CHAT_TABLE_NAME: uniqueName('deadline'),
    MODEL_TIMEOUT_MS: '30000',
    REQUEST_DEADLINE_MS: String(DEADLINE_MS),
  });
});
afterAll(async () => {
  await app?.stop();
  await model?.stop();
});

describe('the request deadline', () => {
  it('answers 504 model_timeout naming REQUEST_DEADLINE_MS when one model call runs past it', async () => {
    model.latencyMs = 5000;
    try {
      const response = await fetch(`${app.baseUrl}/ask`, { method: 'POST', body: JSON.stringify({ prompt: 'slow' }) });
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect([response.status, body.error.code]).toEqual([504, 'model_timeout']);
      expect(body.error.message).toContain('REQUEST_DEADLINE_MS');
    } finally {
      model.latencyMs = 0;
    }
  });

  it('ends a chat turn whose tool rounds add up past it with a 504, and stores nothing of it', async () => {
    const id = `deadline-${Date.now()}`;
    expect((await fetch(`${app.baseUrl}/chats/${id}`, { method: 'PUT', body: JSON.stringify({ skills: ['todo_list'] }) })).status).toBe(202);
    const before = await (await fetch(`${app.baseUrl}/chats/${id}`)).json();
    // Each round is 400 ms; 8 rounds (CHAT_MAX_TOOL_ROUNDS) would take 3.2 s.
    model.latencyMs = 400;
    try {
      const response = await fetch(`${app.baseUrl}/chats/${id}`, { method: 'POST', body: JSON.stringify({ message: 'call todo_list({}) and loop forever' }) });
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect([response.status, body.error.code]).toEqual([504, 'model_timeout']);
    } finally {
      model.latencyMs = 0;
    }
    expect(await (await fetch(`${app.baseUrl}/chats/${id}`)).json()).toEqual(before);
  });

  it('refuses a document whose embedding runs past it: the embedding call is cancelled and nothing is stored', async () => {
    const abandonedBefore = model.abandoned;
    model.latencyMs = 5000;
    try {
      const response = await fetch(`${app.baseUrl}/documents?name=late.md`, { method: 'POST', headers: { 'content-type': 'text/markdown' }, body: '# Late\n\nThe embedding of this file takes too long.' });
      const body = (await response.json()) as { error: { code: string } };
      expect([response.status, body.error.code]).toEqual([504, 'model_timeout']);
      // The app hung up on the embedding request: the only way on to storing the document is closed.
      await eventually('the embedding call to be cancelled', async () => (model.abandoned > abandonedBefore ? true : undefined));
    } finally {
      model.latencyMs = 0;
    }
    const listed = (await (await fetch(`${app.baseUrl}/documents`)).json()) as { name: string }[];
    expect(listed.map(({ name }) => name)).not.toContain('late.md');
  });

  it('never cuts a stream that started before it', async () => {
    model.chunkDelayMs = 100;
    model.responder = () => ({ content: Array.from({ length: 30 }, (_, index) => `word${index} `).join('') });
    try {
      const response = await fetch(`${app.baseUrl}/ask`, { method: 'POST', headers: { accept: 'text/event-stream' }, body: JSON.stringify({ prompt: 'long' }) });
      const events = parseSse(await response.text());
      expect(events.at(-1)?.event).toBe('done');
      const text = events.map(({ data }) => (data as { content?: string }).content ?? '').join('');
      expect(text.trim().split(' ')).toHaveLength(30);
    } finally {
      model.chunkDelayMs = 0;
      model.responder = toolDriver(echoResponder);
    }
  });
});
