import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, uniqueName, type RunningApp } from './support/app.js';
import { eventually } from './support/wait.js';
import { startFakeModel, type FakeModel } from './support/fake-model.js';

// Clients that go away are not server faults (issue 12 item 14): an upload cut mid-body or a stream left
// unread is logged at information level as a 499, never as an unhandled error. The local host is what
// notices (Azure reports no disconnects; README § Local host and Azure).

let model: FakeModel;
let app: RunningApp;
beforeAll(async () => {
  model = await startFakeModel();
  app = await startApp({ OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'test-model', CONTENT_CONTAINER: uniqueName('cut').toLowerCase().slice(0, 60) });
});
afterAll(async () => {
  await app?.stop();
  await model?.stop();
});

/** Sends the head and part of a body that declares more, then hangs up. */
function cutUpload(path: string, headers: Record<string, string>, sent: string, declared: number): Promise<void> {
  const url = new URL(`${app.baseUrl}${path}`);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      const head = [`POST ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, `Content-Length: ${declared}`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
      socket.write(`${head.join('\r\n')}\r\n\r\n${sent}`, () => setTimeout(() => socket.destroy(), 200));
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

describe('local host: clients that hang up', () => {
  const cases = [
    { what: 'an ask body', path: '/ask', headers: { 'content-type': 'application/json' }, sent: '{"prompt": "Tell me' },
    { what: 'a document upload', path: '/documents?name=cut.md', headers: { 'content-type': 'text/markdown' }, sent: '# Cut\n\nHalf a file' },
    { what: 'a chat turn body', path: '/chats/cut1', headers: { 'content-type': 'application/json' }, sent: '{"message": "Hel' },
    // Cut inside the file part: the multipart reader must not call it a malformed form (400).
    { what: 'a multipart document upload', path: '/documents', headers: { 'content-type': 'multipart/form-data; boundary=cut' }, sent: '--cut\r\ncontent-disposition: form-data; name="file"; filename="cut.md"\r\n\r\n# Cut\n\nHalf' },
    { what: 'a multipart chat request', path: '/chat', headers: { 'content-type': 'multipart/form-data; boundary=cut' }, sent: '--cut\r\ncontent-disposition: form-data; name=json\r\n\r\n{"messages": [' },
  ];
  for (const { what, path, headers, sent } of cases) {
    it(`${what} cut mid-body is a 499 logged as information, not an unhandled error`, async () => {
      const before = app.output().length;
      const errorsBefore = app.errors().length;
      await cutUpload(path, headers, sent, 100_000);
      await eventually(`the 499 log line for ${path}`, async () => (/client_closed_request/.test(app.output().slice(before)) ? true : undefined));
      const logged = app.output().slice(before);
      expect(logged).not.toMatch(/Unhandled error|internal_error/);
      expect(app.errors().slice(errorsBefore)).toBe('');
      expect(model.requests).toHaveLength(0);
    });
  }
});

describe('local host: a stream left early', () => {
  for (const { what, path, body, accept } of [
    { what: 'an ask stream (SSE)', path: '/ask', body: { prompt: 'Count slowly' }, accept: 'text/event-stream' },
    { what: 'a RAG chat stream (NDJSON)', path: '/chat/stream', body: { messages: [{ role: 'user', content: 'Count slowly' }] }, accept: 'application/x-ndjson' },
  ]) {
    it(`${what} left after its first chunk: a 499 logged as information, not an error`, async () => {
      model.chunkDelayMs = 100;
      model.responder = () => ({ content: Array.from({ length: 40 }, (_, index) => `word${index} `).join('') });
      const before = app.output().length;
      const errorsBefore = app.errors().length;
      const controller = new AbortController();
      const response = await fetch(`${app.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify(body), signal: controller.signal });
      expect(response.status).toBe(200);
      await response.body!.getReader().read();
      controller.abort();
      await eventually('the 499 log line', async () => (app.output().slice(before).includes('client_closed_request') ? true : undefined));
      expect(app.errors().slice(errorsBefore)).toBe('');
      model.chunkDelayMs = 0;
    });
  }
});
