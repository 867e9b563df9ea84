import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startApp, type RunningApp } from './support/app.js';
import { echoResponder, startFakeModel, type FakeModel } from './support/fake-model.js';
import { toolDriver } from './support/tool-driver.js';

// test.http runs unchanged in an independent client: httpyac's CLI (the engine of the httpyac VS Code
// extension, and close to JetBrains' format), with its base URL from http-client.env.json overridden by --var,
// as a user pointing it at another port would. Our own parser would only prove that we read the file our way.

interface HttpyacRun {
  requests: { title?: string; name: string; response?: { statusCode: number; body?: string; request: { method: string; url: string; body?: string } } }[];
}

const run = promisify(execFile);
const httpyac = path.join(repoRoot, 'node_modules/.bin/httpyac');

let model: FakeModel;
let app: RunningApp;
let result: HttpyacRun;
beforeAll(async () => {
  model = await startFakeModel();
  // The tool examples need a model that calls tools; without tools on offer it echoes, as before.
  model.responder = toolDriver(echoResponder);
  app = await startApp({ OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'test-model' });
  const { stdout } = await run(httpyac, ['send', 'test.http', '--all', '--json', '-e', 'local', '--var', `baseUrl=${app.baseUrl}`], {
    cwd: repoRoot,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  result = JSON.parse(stdout) as HttpyacRun;
}, 180_000);
afterAll(async () => {
  await app?.stop();
  await model?.stop();
});

describe('test.http in httpyac', () => {
  it('sends every request in the file, to the app the --var points at', async () => {
    const text = await readFile(path.join(repoRoot, 'test.http'), 'utf8');
    const inFile = text.match(/^(GET|POST|PUT|DELETE|PATCH) /gm)?.length ?? 0;
    expect(inFile).toBeGreaterThan(15);
    expect(result.requests).toHaveLength(inFile);
    for (const request of result.requests) expect(request.response?.request.url ?? request.name).toMatch(new RegExp(`^${app.baseUrl}/`));
  });

  it('has the seed requests', () => {
    const sent = result.requests.map(({ response }) => `${response?.request.method} ${new URL(response?.request.url ?? 'http://x/').pathname}`);
    expect(sent).toEqual(expect.arrayContaining(['POST /api/ask', 'GET /api/whois/Turing', 'PUT /api/chats/abc123', 'GET /api/chats/abc123']));
  });

  it('gets a 2xx for every request, in file order', () => {
    const failures = result.requests
      .filter(({ response }) => response == null || response.statusCode < 200 || response.statusCode >= 300)
      .map(({ title, name, response }) => `${title ?? name}: ${response?.statusCode ?? 'no response'} ${response?.body?.slice(0, 200) ?? ''}`);
    expect(failures).toEqual([]);
  });

  it('uploads the Markdown example as written, without the next request line in it', () => {
    const upload = result.requests.find(({ response }) => response?.request.method === 'POST' && response.request.url.includes('/documents?name=welcome.md'));
    expect(upload?.response?.request.body).toBe(
      '# Welcome to Kestrel Ridge\n\nNew starters collect their laptop and badge from reception on their first morning.',
    );
  });

  it('points REST Client and httpyac at the same default base URL', async () => {
    const vscode = JSON.parse(await readFile(path.join(repoRoot, '.vscode/settings.json'), 'utf8')) as Record<string, Record<string, { baseUrl?: string }>>;
    const jetbrains = JSON.parse(await readFile(path.join(repoRoot, 'http-client.env.json'), 'utf8')) as Record<string, { baseUrl?: string }>;
    const restClient = vscode['rest-client.environmentVariables']!;
    expect(restClient.$shared?.baseUrl).toBe('http://localhost:7071/api');
    expect(restClient.local?.baseUrl).toBe(jetbrains.local?.baseUrl);
    // A file variable would win over the environment in REST Client: the file must not set one.
    expect(await readFile(path.join(repoRoot, 'test.http'), 'utf8')).not.toMatch(/^@baseUrl/m);
  });
});
