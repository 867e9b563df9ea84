// Per-user chats: with TRUST_CLIENT_PRINCIPAL=true a chat created by a signed-in caller (the platform's
// x-ms-client-principal-id) belongs to them and is an unknown chat to everyone else. Without the setting the
// header is ignored (anyone could send it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from './support/app.js';
import { startFakeModel, type FakeModel } from './support/fake-model.js';

let model: FakeModel;
let trusted: RunningApp;
let untrusted: RunningApp;

beforeAll(async () => {
  model = await startFakeModel();
  const common = { OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'isolation-model', INGEST_SAMPLE_DATA: 'false' };
  [trusted, untrusted] = await Promise.all([startApp({ ...common, TRUST_CLIENT_PRINCIPAL: 'true' }), startApp(common)]);
});
afterAll(async () => {
  await Promise.all([trusted?.stop(), untrusted?.stop()]);
  await model?.stop();
});

const ALICE = '11111111-1111-1111-1111-111111111111';
const BOB = '22222222-2222-2222-2222-222222222222';

function as(app: RunningApp, user: string | undefined) {
  return (path: string, init: RequestInit = {}) =>
    fetch(`${app.baseUrl}/${path}`, { ...init, headers: { ...(user == null ? {} : { 'x-ms-client-principal-id': user }), ...(init.headers as Record<string, string> | undefined) } });
}

describe('with TRUST_CLIENT_PRINCIPAL=true', () => {
  it("a chat is its creator's: others get an unknown chat on every route", async () => {
    const alice = as(trusted, ALICE);
    const bob = as(trusted, BOB);
    const anonymous = as(trusted, undefined);
    expect((await alice('chats/diary', { method: 'PUT', body: '{"instructions":"private"}' })).status).toBe(202);
    expect((await alice('chats/diary', { method: 'POST', body: '{"message":"my secret"}' })).status).toBe(200);

    for (const other of [bob, anonymous]) {
      const state = (await (await other('chats/diary')).json()) as { exists: boolean; recentMessages: unknown[] };
      expect(state).toMatchObject({ exists: false, recentMessages: [] });
      expect((await other('chats/diary', { method: 'POST', body: '{"message":"let me in"}' })).status).toBe(404);
      expect((await other('chats/diary', { method: 'PUT', body: '{}' })).status).toBe(404);
      expect((await other('chats/diary', { method: 'DELETE' })).status).toBe(404);
    }

    const mine = (await (await alice('chats/diary')).json()) as { exists: boolean; recentMessages: { content: string }[] };
    expect(mine.exists).toBe(true);
    expect(mine.recentMessages.map((message) => message.content)).toEqual(['private', 'my secret', 'Echo: my secret']);
    expect(model.chatBodies().some((body) => JSON.stringify(body).includes('let me in'))).toBe(false);
    expect((await alice('chats/diary', { method: 'DELETE' })).status).toBe(204);
  });

  it('keeps anonymous chats shared', async () => {
    expect((await as(trusted, undefined)('chats/lobby', { method: 'PUT' })).status).toBe(202);
    expect((await as(trusted, BOB)('chats/lobby', { method: 'POST', body: '{"message":"hi"}' })).status).toBe(200);
  });
});

describe('without the setting', () => {
  it('ignores the header: chats are shared by everyone holding the key', async () => {
    expect((await as(untrusted, ALICE)('chats/shared', { method: 'PUT' })).status).toBe(202);
    expect((await as(untrusted, BOB)('chats/shared', { method: 'POST', body: '{"message":"hi"}' })).status).toBe(200);
    const state = (await (await as(untrusted, BOB)('chats/shared')).json()) as { totalMessages: number };
    expect(state.totalMessages).toBe(3);
  });
});
