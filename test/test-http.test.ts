import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startApp, type RunningApp } from './support/app.js';
import { echoResponder, startFakeModel, type FakeModel } from './support/fake-model.js';
import { toolDriver } from './support/tool-driver.js';
import { parseHttpFile } from './support/http-file.js';

// Routes whose issue has not landed yet; each is removed from this list by the issue that builds it.
const pending: string[] = [];

const text = await readFile(path.join(repoRoot, 'test.http'), 'utf8');
const requests = parseHttpFile(text);

let model: FakeModel;
let app: RunningApp;
beforeAll(async () => {
  model = await startFakeModel();
  // The tool examples need a model that calls tools; without tools on offer it echoes, as before.
  model.responder = toolDriver(echoResponder);
  app = await startApp({ OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'test-model' });
});
afterAll(async () => {
  await app?.stop();
  await model?.stop();
});

describe('test.http', () => {
  it('has the seed requests', () => {
    expect(requests.map((request) => `${request.method} ${new URL(request.url).pathname}`)).toEqual(
      expect.arrayContaining(['POST /api/ask', 'GET /api/whois/Turing', 'PUT /api/chats/abc123', 'GET /api/chats/abc123']),
    );
  });

  // In file order: the chat flow depends on it.
  for (const request of requests) {
    const route = new URL(request.url).pathname;
    const run = pending.some((prefix) => route.includes(prefix)) ? it.skip : it;
    run(`${request.name}: ${request.method} ${route}`, async () => {
      const url = request.url.replace('http://localhost:7071/api', app.baseUrl);
      const response = await fetch(url, { method: request.method, headers: request.headers, body: request.body });
      const body = await response.text();
      expect(response.status, body).toBeGreaterThanOrEqual(200);
      expect(response.status, body).toBeLessThan(300);
    });
  }
});
