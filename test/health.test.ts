import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from './support/app.js';

describe('with no model settings', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp({});
  });
  afterAll(() => app?.stop());

  it('still starts, and model routes answer 503 model_not_configured naming the settings', async () => {
    const response = await fetch(`${app.baseUrl}/ask`, { method: 'POST', body: '{"prompt":"hi"}' });
    expect(response.status).toBe(503);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('model_not_configured');
    for (const setting of ['AZURE_OPENAI_ENDPOINT', 'OPENAI_BASE_URL', 'OPENAI_API_KEY', 'CHAT_MODEL_DEPLOYMENT_NAME']) {
      expect(error.message).toContain(setting);
    }
    const whois = await fetch(`${app.baseUrl}/whois/x`, { headers: { Accept: 'text/event-stream' } });
    expect(whois.status).toBe(503);
  });

  it('reports degraded health with storage up and no model', async () => {
    const response = await fetch(`${app.baseUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'degraded',
      model: { provider: 'none', chatModel: null, embeddingModel: null },
      storage: { ok: true },
      search: { backend: 'local' },
    });
  });

  it('serves an OpenAPI document built from the route schemas', async () => {
    const response = await fetch(`${app.baseUrl}/openapi.json`);
    const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
    expect(document.openapi).toBe('3.1.0');
    expect(JSON.stringify(document.paths['/ask']?.post?.requestBody)).toContain('prompt');
    expect(document.paths['/whois/{name}']?.get).toBeDefined();
  });
});

describe('health with a model and secrets configured', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', OPENAI_API_KEY: 'sk-test-secret-value', CHAT_MODEL_DEPLOYMENT_NAME: 'm' });
  });
  afterAll(() => app?.stop());

  it('reports ok and never the key', async () => {
    const text = await (await fetch(`${app.baseUrl}/health`)).text();
    expect(JSON.parse(text)).toMatchObject({ status: 'ok', model: { provider: 'openai', chatModel: 'm' } });
    expect(text).not.toContain('sk-test-secret-value');
    expect(app.output()).not.toContain('sk-test-secret-value');
  });

  it('answers 502 when the model server cannot be reached', async () => {
    const response = await fetch(`${app.baseUrl}/ask`, { method: 'POST', body: '{"prompt":"hi"}' });
    expect(response.status).toBe(502);
  });
});
