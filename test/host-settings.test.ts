import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startApp, type RunningApp } from './support/app.js';
import { startFakeModel, type FakeModel } from './support/fake-model.js';

// The local host reads what Core Tools reads (issue 13 item 5): host.json's extensions.http.routePrefix,
// local.settings.json's Host section (LocalHttpPort, CORS, CORSCredentials), HOST (default 127.0.0.1), and the
// app's own app.setup({ enableHttpStream }). Each is changed here and seen from outside, over HTTP.

let model: FakeModel;
const cleanup: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  model = await startFakeModel();
});
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
  await model?.stop();
});

/** A copy of the built app whose host.json and compiled entry point a test may change. */
async function appCopy(change: { routePrefix?: string; withoutHttpStream?: boolean }): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'app-copy-'));
  cleanup.push(() => rm(root, { recursive: true, force: true }));
  await cp(path.join(repoRoot, 'dist'), path.join(root, 'dist'), { recursive: true });
  await symlink(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  await cp(path.join(repoRoot, 'package.json'), path.join(root, 'package.json'));
  const host = JSON.parse(await readFile(path.join(repoRoot, 'host.json'), 'utf8')) as { extensions: { http: { routePrefix: string } } };
  if (change.routePrefix != null) host.extensions.http.routePrefix = change.routePrefix;
  await writeFile(path.join(root, 'host.json'), JSON.stringify(host));
  if (change.withoutHttpStream === true) {
    const index = path.join(root, 'dist/src/index.js');
    const source = await readFile(index, 'utf8');
    const changed = source.replace(/functions_1\.app\.setup\(\{ enableHttpStream: true \}\);/, '');
    expect(changed, 'the compiled app.setup call').not.toBe(source);
    await writeFile(index, changed);
  }
  return root;
}

async function started(env: Record<string, string | undefined>, options: { cwd?: string; appRoot?: string } = {}): Promise<RunningApp> {
  const app = await startApp({ OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'test-model', ...env }, options);
  cleanup.push(() => app.stop());
  return app;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('local host settings, as Core Tools reads them', () => {
  it("serves routes under host.json's routePrefix, and at the root when it is empty", async () => {
    const prefixed = await started({}, { appRoot: await appCopy({ routePrefix: 'v2' }) });
    expect(prefixed.baseUrl).toMatch(/\/v2$/);
    expect((await fetch(`${prefixed.baseUrl}/health`)).status).toBe(200);
    const origin = new URL(prefixed.baseUrl).origin;
    expect((await fetch(`${origin}/api/health`)).status).toBe(404);
    const root = await started({}, { appRoot: await appCopy({ routePrefix: '' }) });
    expect(new URL(root.baseUrl).pathname).toBe('/');
    expect((await fetch(`${new URL(root.baseUrl).origin}/health`)).status).toBe(200);
  });

  it("listens on local.settings.json's Host.LocalHttpPort, and PORT wins over it (as func start --port)", async () => {
    const port = await freePort();
    const cwd = await mkdtemp(path.join(tmpdir(), 'host-settings-'));
    cleanup.push(() => rm(cwd, { recursive: true, force: true }));
    await writeFile(path.join(cwd, 'local.settings.json'), JSON.stringify({ IsEncrypted: false, Values: {}, Host: { LocalHttpPort: port } }));
    const fromFile = await started({ PORT: undefined }, { cwd });
    expect(new URL(fromFile.baseUrl).port).toBe(String(port));
    await fromFile.stop();
    const fromEnvironment = await started({ PORT: '0' }, { cwd });
    expect(new URL(fromEnvironment.baseUrl).port).not.toBe(String(port));
  });

  it('listens on 127.0.0.1 unless HOST says otherwise', async () => {
    const app = await started({ HOST: undefined });
    expect(new URL(app.baseUrl).hostname).toBe('127.0.0.1');
    expect(app.output()).toMatch(/Listening on http:\/\/127\.0\.0\.1:/);
  });

  it('answers CORS preflights and requests from Host.CORS origins only, with credentials when Host.CORSCredentials says so', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'host-cors-'));
    cleanup.push(() => rm(cwd, { recursive: true, force: true }));
    await writeFile(path.join(cwd, 'local.settings.json'), JSON.stringify({ Values: {}, Host: { CORS: 'https://app.contoso.com, https://other.example', CORSCredentials: true } }));
    const app = await started({}, { cwd });
    const preflight = await fetch(`${app.baseUrl}/ask`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.contoso.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-functions-key' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.contoso.com');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type, x-functions-key');
    const allowed = await fetch(`${app.baseUrl}/health`, { headers: { origin: 'https://other.example' } });
    expect([allowed.headers.get('access-control-allow-origin'), allowed.headers.get('access-control-allow-credentials')]).toEqual(['https://other.example', 'true']);
    const refused = await fetch(`${app.baseUrl}/health`, { headers: { origin: 'https://evil.example' } });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const refusedPreflight = await fetch(`${app.baseUrl}/ask`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(refusedPreflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends no CORS headers at all without Host.CORS', async () => {
    const app = await started({});
    const response = await fetch(`${app.baseUrl}/health`, { headers: { origin: 'https://app.contoso.com' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('streams only because the app calls app.setup({ enableHttpStream: true }): without it the answer comes buffered, as in Azure', async () => {
    const ask = (app: RunningApp) => fetch(`${app.baseUrl}/ask`, { method: 'POST', headers: { accept: 'text/event-stream' }, body: JSON.stringify({ prompt: 'Count' }) });
    const streaming = await started({});
    const streamed = await ask(streaming);
    await streamed.text();
    expect([streamed.headers.get('transfer-encoding'), streamed.headers.get('content-length')]).toEqual(['chunked', null]);
    const buffering = await started({}, { appRoot: await appCopy({ withoutHttpStream: true }) });
    expect(buffering.output()).toContain('app.setup({ enableHttpStream: true }) is not called');
    const buffered = await ask(buffering);
    const text = await buffered.text();
    expect([buffered.headers.get('transfer-encoding'), buffered.headers.get('content-length')]).toEqual([null, String(Buffer.byteLength(text))]);
  });
});
