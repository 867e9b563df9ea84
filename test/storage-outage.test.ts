// Storage unreachable: a private Azurite is stopped mid-test. Every storage route answers 503
// storage_unavailable (health reports it), no model call is paid for, and once Azurite is back on the same
// ports with the same data the app recovers with everything stored exactly as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from './support/app.js';
import { startAzurite, type RunningAzurite } from './support/azurite.js';
import { servedPaths } from './support/fuzz-routes.js';
import { startFakeModel, type FakeModel } from './support/fake-model.js';

let azurite: RunningAzurite;
let model: FakeModel;
let app: RunningApp;
let paths: string[] = [];

beforeAll(async () => {
  [azurite, model] = await Promise.all([startAzurite(), startFakeModel()]);
  app = await startApp({
    AzureWebJobsStorage: azurite.connectionString,
    OPENAI_BASE_URL: model.url,
    CHAT_MODEL_DEPLOYMENT_NAME: 'outage-model',
    INGEST_SAMPLE_DATA: 'false',
  });
  paths = await servedPaths(app.baseUrl);
});
afterAll(async () => {
  await app?.stop();
  await azurite?.stop();
  await model?.stop();
});

const api = (path: string, init?: RequestInit) => fetch(`${app.baseUrl}/${path}`, init);
const CHAT = 'outage-chat';
const DOCUMENT = 'outage-notes.md';

interface StorageRoute {
  name: string;
  openapiPath: string;
  send(): Promise<Response>;
}

/** Every route that touches storage; one entry per request kind. */
const storageRoutes: StorageRoute[] = [
  { name: 'chat create', openapiPath: '/chats/{chatId}', send: () => api(`chats/${CHAT}-new`, { method: 'PUT', body: '{}' }) },
  { name: 'chat reset', openapiPath: '/chats/{chatId}', send: () => api(`chats/${CHAT}`, { method: 'PUT', body: '{}' }) },
  { name: 'chat turn', openapiPath: '/chats/{chatId}', send: () => api(`chats/${CHAT}`, { method: 'POST', body: '{"message":"are you there?"}' }) },
  { name: 'chat turn (stream)', openapiPath: '/chats/{chatId}', send: () => api(`chats/${CHAT}`, { method: 'POST', body: '{"message":"?"}', headers: { Accept: 'text/event-stream' } }) },
  { name: 'chat state', openapiPath: '/chats/{chatId}', send: () => api(`chats/${CHAT}`) },
  { name: 'chat delete', openapiPath: '/chats/{chatId}', send: () => api(`chats/${CHAT}`, { method: 'DELETE' }) },
  { name: 'document ingest', openapiPath: '/documents', send: () => api(`documents?name=${DOCUMENT}`, { method: 'POST', body: '# Changed\n\nNew text.', headers: { 'Content-Type': 'text/markdown' } }) },
  { name: 'document delete', openapiPath: '/documents/{name}', send: () => api(`documents/${DOCUMENT}`, { method: 'DELETE' }) },
  { name: 'content', openapiPath: '/content/{path}', send: () => api(`content/${DOCUMENT}`) },
];

const has = (path: string) => paths.includes(path);

/** Everything stored, as clients see it. */
async function snapshot(): Promise<Record<string, unknown>> {
  const stored: Record<string, unknown> = {};
  if (has('/chats/{chatId}')) stored.chat = await (await api(`chats/${CHAT}`)).json();
  if (has('/documents')) stored.documents = await (await api('documents')).json();
  if (has('/content/{path}')) stored.content = await (await api(`content/${DOCUMENT}`)).text();
  return stored;
}

describe('storage unreachable', () => {
  let before: Record<string, unknown>;

  it('stores some data first', async () => {
    if (has('/chats/{chatId}')) {
      expect((await api(`chats/${CHAT}`, { method: 'PUT', body: '{"instructions":"Be brief."}' })).status).toBe(202);
      expect((await api(`chats/${CHAT}`, { method: 'POST', body: '{"message":"remember me"}' })).status).toBe(200);
    }
    if (has('/documents')) {
      const ingested = await api(`documents?name=${DOCUMENT}`, { method: 'POST', body: '# Notes\n\nThe office opens at nine.', headers: { 'Content-Type': 'text/markdown' } });
      expect(ingested.status).toBe(201);
    }
    before = await snapshot();
    const health = await api('health');
    expect(((await health.json()) as { storage: { ok: boolean } }).storage.ok).toBe(true);
  });

  it('answers 503 storage_unavailable on every storage route while Azurite is down, without paying the model', { timeout: 60_000 }, async () => {
    await azurite.stop({ keepData: true });
    model.reset();
    const health = await api('health');
    // API.md § Health: 503 unhealthy when storage cannot be used, so load balancers act on it.
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'unhealthy', storage: { ok: false } });
    const active = storageRoutes.filter((candidate) => has(candidate.openapiPath));
    console.log(`storage outage: ${active.length} storage routes answered 503 storage_unavailable, then recovered`);
    for (const route of active) {
      const response = await route.send();
      expect(response.status, route.name).toBe(503);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect(error.code, route.name).toBe('storage_unavailable');
      expect(error.message).not.toMatch(/AccountKey|Eby8vdM02x/);
    }
    expect(model.chatBodies()).toHaveLength(0);
  });

  it('recovers once Azurite is back on the same ports, with the data exactly as before', { timeout: 60_000 }, async () => {
    azurite = await startAzurite({ table: azurite.tablePort, blob: azurite.blobPort, dir: azurite.dir });
    const health = await api('health');
    expect(await health.json()).toMatchObject({ storage: { ok: true } });
    expect(await snapshot()).toEqual(before);
    if (has('/chats/{chatId}')) {
      const turn = await api(`chats/${CHAT}`, { method: 'POST', body: '{"message":"back again"}' });
      expect(turn.status).toBe(200);
      expect(await turn.text()).toBe('Echo: back again');
    }
    expect(app.output()).not.toMatch(/Unhandled error/);
  });
});
