// No secret in any response or log line: known secret values are set, every route is driven (fuzzed input,
// model failures that echo the key, unreachable storage), and every captured body, header and log line is
// scanned for them.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parseSse, startApp, type RunningApp } from './support/app.js';
import { startFakeModel, type FakeModel } from './support/fake-model.js';
import { drivenFamilies, fuzzCases } from './support/fuzz-routes.js';
import { inParallel, rawClient, type RawResponse } from './support/http-raw.js';
import { redactSecrets } from '../src/http/redact.js';

const OPENAI_KEY = 'sk-SECRET0penAiKey0123456789abcdef';
const AZURE_OPENAI_KEY = 'SECRETaz0reOpenAiKey9876543210fedc';
const SEARCH_KEY = 'SECRETsearchAdminKey5555AAAABBBBcccc';
const DEAD_ACCOUNT_KEY = Buffer.from('SECRET-storage-account-key-for-a-dead-account').toString('base64');
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const secrets = [OPENAI_KEY, AZURE_OPENAI_KEY, SEARCH_KEY, DEAD_ACCOUNT_KEY, AZURITE_KEY];

let model: FakeModel;
let live: RunningApp;
let deadStorage: RunningApp;
const captured: string[] = [];
let requestsScanned = 0;

beforeAll(async () => {
  model = await startFakeModel();
  const keys = { OPENAI_API_KEY: OPENAI_KEY, AZURE_OPENAI_API_KEY: AZURE_OPENAI_KEY, AZURE_SEARCH_API_KEY: SEARCH_KEY, INGEST_SAMPLE_DATA: 'false' };
  const common = { ...keys, OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'secret-model', MODEL_MAX_RETRIES: '0', MODEL_TIMEOUT_MS: '300' };
  [live, deadStorage] = await Promise.all([
    startApp({ ...common, AzureWebJobsStorage: inject('storageConnection') }),
    startApp({
      ...common,
      AzureWebJobsStorage:
        `DefaultEndpointsProtocol=http;AccountName=deadacct;AccountKey=${DEAD_ACCOUNT_KEY};` +
        'TableEndpoint=http://127.0.0.1:9/deadacct;BlobEndpoint=http://127.0.0.1:9/deadacct;',
    }),
  ]);
});
afterAll(async () => {
  console.log(`secrets: ${requestsScanned} responses and every log line scanned for ${secrets.length} secret values`);
  await Promise.all([live?.stop(), deadStorage?.stop()]);
  await model?.stop();
});

function keep(response: RawResponse | Response, text: string): void {
  requestsScanned += 1;
  const headers = response instanceof Response ? [...response.headers].map(([name, value]) => `${name}: ${value}`) : Object.entries(response.headers).map(([name, value]) => `${name}: ${String(value)}`);
  captured.push(...headers, text);
}

async function drive(app: RunningApp, count: number): Promise<void> {
  const client = rawClient(app.baseUrl);
  const cases = fc.sample(fuzzCases(drivenFamilies()), { numRuns: count, seed: 8 });
  await inParallel(cases, 8, async (fuzzCase) => {
    try {
      const response = await client.send(fuzzCase.request);
      keep(response, response.text);
    } catch {
      // connection closed after a 413: nothing to scan
    }
  });
  client.close();
}

const leaks = (text: string) => secrets.filter((secret) => text.includes(secret) || text.includes(encodeURIComponent(secret)));

describe('redactSecrets', () => {
  it('removes configured values and key-like fragments wherever they appear', () => {
    const text = `401 Incorrect API key provided: ${OPENAI_KEY}; AccountKey=${DEAD_ACCOUNT_KEY}; https://x.blob/c?sv=1&sig=abc%2Bdef; Authorization: Bearer eyJhbGciOi.x.y; ${SEARCH_KEY}`;
    const redacted = redactSecrets(text, [SEARCH_KEY]);
    expect(leaks(redacted)).toEqual([]);
    expect(redacted).not.toContain('abc%2Bdef');
    expect(redacted).not.toContain('eyJhbGciOi');
    expect(redacted).toContain('401 Incorrect API key provided: sk-***');
  });
});

describe('secrets never leave the process', () => {
  it('drives every route with hostile input, on live and on unreachable storage', { timeout: 60_000 }, async () => {
    await drive(live, 400);
    await drive(deadStorage, 150);
    const health = await fetch(`${deadStorage.baseUrl}/health`);
    keep(health, await health.text());
  });

  it('drives model failures whose upstream bodies echo the key', { timeout: 60_000 }, async () => {
    const echoes = { error: { message: `Incorrect API key provided: ${OPENAI_KEY}. Storage: AccountKey=${DEAD_ACCOUNT_KEY}`, type: 'invalid_request_error', code: 'invalid_api_key' } };
    for (const status of [400, 401, 403, 404, 429, 500, 503]) {
      for (const accept of ['text/plain', 'text/event-stream']) {
        model.enqueue({ kind: 'error', status, headers: { 'retry-after': '0' }, body: echoes });
        const response = await fetch(`${live.baseUrl}/ask`, { method: 'POST', body: '{"prompt":"hi"}', headers: { Accept: accept } });
        keep(response, await response.text());
        expect(response.status).toBeGreaterThanOrEqual(400);
      }
    }
    model.enqueue({ kind: 'hang' });
    const timedOut = await fetch(`${live.baseUrl}/ask`, { method: 'POST', body: '{"prompt":"hi"}' });
    keep(timedOut, await timedOut.text());
    expect(timedOut.status).toBe(504);
    model.responder = () => ({ content: 'partial answer then a cut' });
    model.enqueue({ kind: 'cut', afterChunks: 1 });
    const cut = await fetch(`${live.baseUrl}/ask`, { method: 'POST', body: '{"prompt":"hi"}', headers: { Accept: 'text/event-stream' } });
    const text = await cut.text();
    keep(cut, text);
    expect(parseSse(text).at(-1)?.event).toBe('error');
  });

  it('finds none of the secret values in any response body, header or log line', () => {
    for (const text of captured) expect(leaks(text), text.slice(0, 300)).toEqual([]);
    for (const app of [live, deadStorage]) {
      const lines = app.output().split('\n');
      expect(lines.length).toBeGreaterThan(5);
      for (const line of lines) expect(leaks(line), line.slice(0, 300)).toEqual([]);
    }
  });

  it('does log the failures (so the scan saw them)', () => {
    expect(live.output()).toMatch(/model_error|rate_limited|model_timeout/);
    // The app on unreachable storage logged its storage failures, with the code, so the scan above read them.
    const storageFailures = deadStorage.output().split('\n').filter((line) => line.includes('storage_unavailable'));
    console.log(`secrets: ${storageFailures.length} logged storage failures scanned, e.g. ${storageFailures[0]?.slice(0, 200)}`);
    expect(storageFailures.length).toBeGreaterThan(10);
  });
});
