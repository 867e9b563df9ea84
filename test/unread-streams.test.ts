import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from './support/app.js';
import { startFakeModel, type FakeModel } from './support/fake-model.js';
import { eventually } from './support/wait.js';

// Clients that open a stream and never read it (issue 12 item 11). Each answer is 20 MB, far more than the
// loopback socket buffers hold, so only backpressure keeps it out of the app's memory; and a client that keeps
// its socket open without reading must not keep a model stream open with it.

const STREAMS = 10;
// Long enough for the fake model to build ten 20 MB answers on a busy machine before their first delta.
const STALL_MS = 5000;

let model: FakeModel;
let app: RunningApp;
beforeAll(async () => {
  model = await startFakeModel();
  app = await startApp({ OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'test-model', MODEL_TIMEOUT_MS: String(STALL_MS) });
});
afterAll(async () => {
  await app?.stop();
  await model?.stop();
});

const rssMb = () => Number(execFileSync('ps', ['-o', 'rss=', '-p', String(app.process.pid)]).toString().trim()) / 1024;

/** Opens a stream and never reads its body; the socket stays open until `close` is called. */
function unread(path: string, body: unknown, accept: string): Promise<{ status: number; close: () => void }> {
  const url = new URL(`${app.baseUrl}${path}`);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', accept } }, (res) => {
      res.pause();
      resolve({ status: res.statusCode ?? 0, close: () => req.destroy() });
    });
    req.on('error', () => undefined);
    req.end(JSON.stringify(body));
    setTimeout(() => reject(new Error('no answer')), 20_000);
  });
}

describe('streams nobody reads', () => {
  for (const { what, path, body, accept } of [
    { what: 'ask (SSE)', path: '/ask', body: { prompt: 'long' }, accept: 'text/event-stream' },
    { what: 'RAG chat (NDJSON)', path: '/chat/stream', body: { messages: [{ role: 'user', content: 'long' }] }, accept: 'application/x-ndjson' },
  ]) {
    it(`${what}: backpressure holds each 20 MB answer upstream, and the model streams end ${STALL_MS} ms after the client stops reading`, async () => {
      // 20 MB per answer in 40 KB deltas.
      const chunks = Array.from({ length: 500 }, (_, index) => `${index} ${'x'.repeat(40_950)} `);
      // The RAG query rewrite (not streamed) gets a short answer; every streamed answer is the 20 MB one.
      model.responder = (chat) => (chat.stream === true ? { chunks } : { content: 'long' });
      const baseline = rssMb();
      const logged = app.output().length;
      const firstRequest = model.requests.length;
      const clients = await Promise.all(Array.from({ length: STREAMS }, () => unread(path, body, accept)));
      expect(clients.map(({ status }) => status)).toEqual(Array(STREAMS).fill(200));
      // Ended although every client still holds its socket open.
      await eventually('the model streams to end', async () => (model.openStreams === 0 ? true : undefined), 30_000);
      const stalls = app.output().slice(logged).match(/the client read nothing for \d+ ms/g) ?? [];
      expect(stalls).toHaveLength(STREAMS);
      // Backpressure: the app took only what the sockets could hold, so no model got to send its whole answer.
      const streamed = model.requests.slice(firstRequest).filter((request) => (request.body as { stream?: boolean }).stream === true);
      const sent = streamed.map((request) => request.contentSentAt.length);
      expect(sent).toHaveLength(STREAMS);
      expect(Math.max(...sent), `deltas sent per stream, of 500: ${sent.join(' ')}`).toBeLessThan(500);
      console.log(`${what}: deltas sent of 500 per stream: ${sent.join(' ')}; app RSS ${Math.round(baseline)} → ${Math.round(rssMb())} MB`);
      clients.forEach(({ close }) => close());
    }, 60_000);
  }
});
