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

// Issue 12 item 2: the owner was checked by one read and the operation used another, so racing Alice's PUT,
// Bob's turns ran in her chat (74/240), his DELETE removed it (16/60) and his PUT took it (13/60). Now the owner
// check is part of the conditional write itself. Each round races Alice creating a chat against Bob's turns,
// delete and reset of the same id; whoever creates it first owns it, and the other's operations are 404.
describe('ownership races (TRUST_CLIENT_PRINCIPAL=true)', () => {
  it("never lets Bob's operations touch Alice's chat, in 60 rounds of racing", { timeout: 180_000 }, async () => {
    const alice = as(trusted, ALICE);
    const bob = as(trusted, BOB);
    const counts = { rounds: 0, aliceOwned: 0, bobOwned: 0, bobTurnsStored: 0, bobTurnsRefused: 0, violations: 0 };
    model.latencyMs = 5;
    try {
      for (let round = 0; round < 60; round++) {
        const id = `race-${round}-${Date.now().toString(36)}`;
        const secret = `alice secret ${round}`;
        const bobsMoves = [
          () => bob(`chats/${id}`, { method: 'POST', body: JSON.stringify({ message: `bob turn ${round}a` }) }),
          () => bob(`chats/${id}`, { method: 'POST', body: JSON.stringify({ message: `bob turn ${round}b` }) }),
          () => bob(`chats/${id}`, { method: 'DELETE' }),
          () => bob(`chats/${id}`, { method: 'PUT', body: JSON.stringify({ instructions: `bob ${round}` }) }),
        ];
        // Who starts first alternates, so both outcomes (Alice's chat, Bob's chat) happen.
        const bobFirst = round % 2 === 1 ? bobsMoves.slice(3).map((move) => move()) : [];
        const alicePut = alice(`chats/${id}`, { method: 'PUT', body: JSON.stringify({ instructions: secret }) });
        const bobs = await Promise.all([...bobsMoves.slice(0, 3).map((move) => move()), ...(bobFirst.length > 0 ? bobFirst : [bobsMoves[3]!()])]);
        const alicePutResponse = await alicePut;
        counts.rounds += 1;
        for (const response of bobs.slice(0, 2)) {
          if (response.status === 200) counts.bobTurnsStored += response.headers.get('x-chat-stored') === 'true' ? 1 : 0;
          else counts.bobTurnsRefused += 1;
        }
        const mine = (await (await alice(`chats/${id}`)).json()) as { exists: boolean; recentMessages: { content: string }[] };
        if (alicePutResponse.status === 202) {
          // Her chat was hers from the moment her PUT landed: nothing of Bob's may be in it, and it still exists.
          counts.aliceOwned += 1;
          expect(mine.exists).toBe(true);
          expect(mine.recentMessages[0]?.content).toBe(secret);
          if (mine.recentMessages.some((message) => message.content.includes('bob'))) counts.violations += 1;
        } else {
          // Bob created it first: Alice's PUT is 404 and she cannot see his chat.
          expect(alicePutResponse.status).toBe(404);
          expect(mine.exists).toBe(false);
          counts.bobOwned += 1;
        }
        await alice(`chats/${id}`, { method: 'DELETE' });
        await bob(`chats/${id}`, { method: 'DELETE' });
      }
      // No model call of Bob's ever saw Alice's instructions.
      const leaked = model.chatBodies().filter((body) => {
        const text = JSON.stringify(body.messages);
        return text.includes('bob turn') && text.includes('alice secret');
      });
      counts.violations += leaked.length;
      console.log(`ownership races: ${JSON.stringify(counts)}`);
      expect(counts.violations).toBe(0);
      expect(leaked).toEqual([]);
      expect(counts.aliceOwned + counts.bobOwned).toBe(60);
    } finally {
      model.latencyMs = 0;
    }
  });

  it('keeps a shared chat shared: a signed-in caller cannot take it over by PUT', async () => {
    expect((await as(trusted, undefined)('chats/commons', { method: 'PUT' })).status).toBe(202);
    expect((await as(trusted, BOB)('chats/commons', { method: 'PUT', body: '{"instructions":"mine now"}' })).status).toBe(202);
    // Reset, but still shared: the anonymous caller and Alice keep using it.
    expect((await as(trusted, undefined)('chats/commons', { method: 'POST', body: '{"message":"still ours?"}' })).status).toBe(200);
    expect((await as(trusted, ALICE)('chats/commons', { method: 'POST', body: '{"message":"and mine"}' })).status).toBe(200);
    const state = (await (await as(trusted, ALICE)('chats/commons')).json()) as { recentMessages: { content: string }[] };
    expect(state.recentMessages.map((message) => message.content)).toEqual(['mine now', 'still ours?', 'Echo: still ours?', 'and mine', 'Echo: and mine']);
  });

  it("keeps the owner through a reset: the owner's PUT does not make the chat shared", async () => {
    const alice = as(trusted, ALICE);
    expect((await alice('chats/kept', { method: 'PUT' })).status).toBe(202);
    expect((await alice('chats/kept', { method: 'PUT', body: '{"instructions":"again"}' })).status).toBe(202);
    expect((await as(trusted, BOB)('chats/kept', { method: 'POST', body: '{"message":"in?"}' })).status).toBe(404);
    expect((await as(trusted, undefined)('chats/kept', { method: 'DELETE' })).status).toBe(404);
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
