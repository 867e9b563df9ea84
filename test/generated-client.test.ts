import createClient from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { paths } from './generated/api.js';
import { startApp, type RunningApp } from './support/app.js';
import { startFakeModel, type FakeModel } from './support/fake-model.js';

// A client generated from GET /api/openapi.json (openapi-typescript, by `npm run openapi` before the typecheck)
// and used as another service would use it (openapi-fetch). The field reads below are typed by the response
// schemas: a schema that drops or renames them fails `npm run typecheck`, a wrong one fails here.

let model: FakeModel;
let app: RunningApp;
let api: ReturnType<typeof createClient<paths>>;

beforeAll(async () => {
  model = await startFakeModel();
  app = await startApp({ OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'test-model' });
  api = createClient<paths>({ baseUrl: app.baseUrl });
});
afterAll(async () => {
  await app?.stop();
  await model?.stop();
});

describe('a client generated from the OpenAPI document', () => {
  it('asks, and reads the text/plain answer', async () => {
    const { data, error, response } = await api.POST('/ask', { body: { prompt: 'Why Functions?' }, parseAs: 'text' });
    expect(error).toBeUndefined();
    expect(response.status).toBe(200);
    expect(data).toBe('Echo: Why Functions?');
  });

  it('creates a chat, takes a turn and reads the typed chat state', async () => {
    const chatId = 'generated-client-chat';
    const created = await api.PUT('/chats/{chatId}', { params: { path: { chatId } }, body: { instructions: 'Be brief.' } });
    expect(created.data?.chatId).toBe(chatId);
    const turn = await api.POST('/chats/{chatId}', { params: { path: { chatId } }, body: { message: 'Hello there' }, parseAs: 'text' });
    expect(turn.data).toBe('Echo: Hello there');
    const state = await api.GET('/chats/{chatId}', { params: { path: { chatId }, query: {} } });
    expect(state.error).toBeUndefined();
    const view = state.data;
    if (view == null) throw new Error('no chat state');
    expect(view.exists).toBe(true);
    expect(view.totalMessages).toBe(3);
    expect(view.recentMessages.map((message) => message.role)).toEqual(['system', 'user', 'assistant']);
    expect(view.recentMessages[2]?.toolCalls).toEqual([]);
    expect(view.usage.totalTokens).toBeGreaterThan(0);
  });

  it('chats with data and reads the AI Chat Protocol completion', async () => {
    const { data, error } = await api.POST('/chat', {
      body: { messages: [{ role: 'user', content: 'What does the handbook say?' }], context: { overrides: { retrieval_mode: 'none' } } },
    });
    expect(error).toBeUndefined();
    if (data == null) throw new Error('no completion');
    expect(data.message.role).toBe('assistant');
    expect(data.message.content).toMatch(/^Echo: /);
    expect(data.context.data_points.citations).toEqual([]);
    expect(Array.isArray(data.context.thoughts)).toBe(true);
    expect(data.context.followup_questions).toBeNull();
  });

  it('reads a typed error body', async () => {
    const { error, response } = await api.GET('/chats/{chatId}', { params: { path: { chatId: "a'b" }, query: {} } });
    expect(response.status).toBe(400);
    expect(error?.error.code).toBe('invalid_request');
  });
});
