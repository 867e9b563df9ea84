// Limits: body size, prompt/message length, image size and count, document size, `top`, history budget.
// All configurable, all enforced before any paid call (the fake model receives nothing), and bodies are not
// read past their limit.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from './support/app.js';
import { coverageProblems, inputRoutes } from './support/route-coverage.js';
import { formType, multipartBody, sendInChunks, type RawPart } from './support/multipart.js';
import { startFakeModel, type FakeModel } from './support/fake-model.js';

const MAX_BODY_BYTES = 40_000;
const MAX_DOCUMENT_BYTES = 2_000;
const MAX_IMAGE_BYTES = 1_000;
const MAX_IMAGES = 2;
const HISTORY_TOKENS = 400;
const CONTEXT_TOKENS = 2_000;

let model: FakeModel;
let app: RunningApp;

beforeAll(async () => {
  model = await startFakeModel();
  app = await startApp({
    OPENAI_BASE_URL: model.url,
    CHAT_MODEL_DEPLOYMENT_NAME: 'limits-model',
    EMBEDDING_MODEL_DEPLOYMENT_NAME: 'limits-embed',
    MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    MAX_DOCUMENT_BYTES: String(MAX_DOCUMENT_BYTES),
    MAX_IMAGE_BYTES: String(MAX_IMAGE_BYTES),
    MAX_IMAGES: String(MAX_IMAGES),
    CHAT_HISTORY_TOKENS: String(HISTORY_TOKENS),
    MODEL_CONTEXT_TOKENS: String(CONTEXT_TOKENS),
    MAX_OUTPUT_TOKENS: '500',
    INGEST_SAMPLE_DATA: 'false',
  });
});
afterAll(async () => {
  await app?.stop();
  await model?.stop();
});
beforeEach(() => model.reset());

const api = (path: string, init?: RequestInit) => fetch(`${app.baseUrl}/${path}`, init);
const LIMIT_CHAT = 'limits-chat';

/** A PNG of `size` bytes (valid magic bytes, padded). */
function pngDataUri(size: number): string {
  const bytes = Buffer.alloc(size);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes);
  return `data:image/png;base64,${bytes.toString('base64')}`;
}
const ragWith = (content: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ messages: [{ role: 'user', content }], ...extra });

/** A PNG file part of `size` bytes for message 0, as the AI Chat Protocol client writes it. */
const pngPart = (size: number, index = 0): RawPart => ({
  disposition: `form-data; name="messages[0].files[${index}]"; filename="image${index}.png"`,
  contentType: 'image/png',
  body: Buffer.from(pngDataUri(size).split(',')[1]!, 'base64'),
});
const jsonPart = (json = ragWith('what is this?')): RawPart => ({ disposition: 'form-data; name=json', contentType: 'application/json', body: json });
const postForm = (path: string, parts: RawPart[]) => api(path, { method: 'POST', body: new Uint8Array(multipartBody(parts)), headers: { 'Content-Type': formType() } });
const documentPart = (size: number): RawPart => ({ disposition: 'form-data; name="file"; filename="big.md"', contentType: 'text/markdown', body: 'd'.repeat(size) });

interface LimitCase {
  name: string;
  /** The route-table operation the limit is on. */
  operation: string;
  setup?(): Promise<void>;
  send(): Promise<Response>;
  status: 400 | 413;
  /** A word the error message must contain (the field or the setting). */
  mentions?: RegExp;
}

/** One entry per limit and route; each must be refused before the model is called. */
const limitCases: LimitCase[] = [
  { name: 'ask body over MAX_BODY_BYTES', operation: 'ask', status: 413, send: () => api('ask', { method: 'POST', body: JSON.stringify({ prompt: 'x'.repeat(MAX_BODY_BYTES) }) }) },
  { name: 'ask prompt over 32,000 characters', operation: 'ask', status: 400, mentions: /prompt/, send: () => api('ask', { method: 'POST', body: JSON.stringify({ prompt: 'x'.repeat(32_001) }) }) },
  { name: 'whois name over 200 characters', operation: 'whois', status: 400, mentions: /name/, send: () => api(`whois/${'n'.repeat(201)}`) },
  {
    name: 'chat message body over MAX_BODY_BYTES',
    operation: 'postChat',
    status: 413,
    setup: async () => void (await api(`chats/${LIMIT_CHAT}`, { method: 'PUT', body: '{}' })),
    send: () => api(`chats/${LIMIT_CHAT}`, { method: 'POST', body: JSON.stringify({ message: 'm'.repeat(MAX_BODY_BYTES) }) }),
  },
  {
    name: 'chat message that cannot fit MODEL_CONTEXT_TOKENS - MAX_OUTPUT_TOKENS',
    operation: 'postChat',
    status: 413,
    setup: async () => void (await api(`chats/${LIMIT_CHAT}`, { method: 'PUT', body: '{}' })),
    send: () => api(`chats/${LIMIT_CHAT}`, { method: 'POST', body: JSON.stringify({ message: 'word '.repeat(CONTEXT_TOKENS) }) }),
  },
  { name: 'chat reset body over MAX_BODY_BYTES', operation: 'createChat', status: 413, send: () => api(`chats/${LIMIT_CHAT}`, { method: 'PUT', body: JSON.stringify({ instructions: 'i'.repeat(MAX_BODY_BYTES) }) }) },
  { name: 'rag question over 32,000 characters', operation: 'chat', status: 413, send: () => api('chat', { method: 'POST', body: ragWith('q'.repeat(32_001)) }) },
  { name: 'rag top over its maximum', operation: 'chat', status: 400, mentions: /top/, send: () => api('chat', { method: 'POST', body: ragWith('hi', { context: { overrides: { top: 51 } } }) }) },
  { name: 'rag top of zero', operation: 'chat', status: 400, mentions: /top/, send: () => api('chat', { method: 'POST', body: ragWith('hi', { context: { overrides: { top: 0 } } }) }) },
  {
    name: 'rag image over MAX_IMAGE_BYTES',
    operation: 'chat',
    status: 413,
    send: () => api('chat', { method: 'POST', body: ragWith('what is this?', { context: { file: pngDataUri(MAX_IMAGE_BYTES + 1) } }) }),
  },
  {
    name: 'rag images over MAX_IMAGES',
    operation: 'chat',
    status: 413,
    send: () =>
      api('chat', {
        method: 'POST',
        body: ragWith([{ type: 'text', text: 'compare' }, ...Array.from({ length: MAX_IMAGES + 1 }, () => ({ type: 'image_url', image_url: { url: pngDataUri(100) } }))]),
      }),
  },
  { name: 'rag multipart image over MAX_IMAGE_BYTES', operation: 'chat', status: 413, mentions: /files\[0\]/, send: () => postForm('chat', [jsonPart(), pngPart(MAX_IMAGE_BYTES + 1)]) },
  {
    name: 'rag multipart images over MAX_IMAGES',
    operation: 'chat',
    status: 413,
    mentions: /images/,
    send: () => postForm('chat', [jsonPart(), ...Array.from({ length: MAX_IMAGES + 1 }, (_, index) => pngPart(100, index))]),
  },
  { name: 'rag multipart json part over MAX_BODY_BYTES', operation: 'chat', status: 413, mentions: /json/, send: () => postForm('chat', [jsonPart(ragWith('x'.repeat(MAX_BODY_BYTES))), pngPart(100)]) },
  { name: 'rag stream multipart image over MAX_IMAGE_BYTES', operation: 'chatStream', status: 413, send: () => postForm('chat/stream', [jsonPart(), pngPart(MAX_IMAGE_BYTES + 1)]) },
  { name: 'document multipart over MAX_DOCUMENT_BYTES', operation: 'uploadDocument', status: 413, send: () => postForm('documents', [documentPart(MAX_DOCUMENT_BYTES + 1)]) },
  { name: 'rag stream question over 32,000 characters', operation: 'chatStream', status: 413, send: () => api('chat/stream', { method: 'POST', body: ragWith('q'.repeat(32_001)) }) },
  {
    name: 'document over MAX_DOCUMENT_BYTES',
    operation: 'uploadDocument',
    status: 413,
    send: () => api('documents?name=big.md', { method: 'POST', body: 'd'.repeat(MAX_DOCUMENT_BYTES + 1), headers: { 'Content-Type': 'text/markdown' } }),
  },
  { name: 'chat id over 128 characters (state)', operation: 'getChatState', status: 400, mentions: /chatId/, send: () => api(`chats/${'c'.repeat(129)}`) },
  { name: 'chat state page size over its maximum', operation: 'getChatState', status: 400, mentions: /top/, send: () => api(`chats/${LIMIT_CHAT}?top=100000`) },
  { name: 'chat id over 128 characters (delete)', operation: 'deleteChat', status: 400, mentions: /chatId/, send: () => api(`chats/${'c'.repeat(129)}`, { method: 'DELETE' }) },
  { name: 'document name over 200 characters (delete)', operation: 'deleteDocument', status: 400, mentions: /name/, send: () => api(`documents/${'d'.repeat(201)}.md`, { method: 'DELETE' }) },
];

/** Routes that take input but have no limit a client can exceed, and why. */
const excused: Record<string, string> = {
  content: 'a citation link: any path that is not a stored document is 404, so no input is refused as too large',
  playgroundAsset: 'a fixed set of file names: anything else is 404',
};

describe('limits are enforced before any paid call', () => {
  it('has a case for every route of the route table that takes input', () => {
    expect(coverageProblems(inputRoutes(), limitCases.map((limit) => limit.operation), excused)).toEqual([]);
  });

  it.each(limitCases.map((limit) => [limit.name, limit] as const))('%s', async (_name, limit) => {
    await limit.setup?.();
    model.reset();
    const response = await limit.send();
    expect(response.status).toBe(limit.status);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe(limit.status === 413 ? 'payload_too_large' : 'invalid_request');
    if (limit.mentions != null) expect(error.message).toMatch(limit.mentions);
    expect(model.requests).toHaveLength(0);
  });
});

describe('the history budget', () => {
  it(`sends the model at most CHAT_HISTORY_TOKENS (${HISTORY_TOKENS}) of system message and history, dropping the oldest whole`, async () => {
    const chatId = 'budget-chat';
    expect((await api(`chats/${chatId}`, { method: 'PUT', body: '{"instructions":"Be brief."}' })).status).toBe(202);
    for (let turn = 0; turn < 8; turn++) {
      const response = await api(`chats/${chatId}`, { method: 'POST', body: JSON.stringify({ message: `turn ${turn} ${'filler '.repeat(40).trim()}` }) });
      expect(response.status).toBe(200);
    }
    const last = model.chatBodies().at(-1)!;
    expect(last.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    expect(last.messages.at(-1)?.content).toContain('turn 7');
    expect(last.messages.some((message) => String(message.content).includes('turn 0'))).toBe(false);
    // Whole messages only, in order: every earlier user message sent is followed by its own reply.
    const sent = last.messages.slice(1, -1);
    sent.forEach((message, index) => {
      if (message.role === 'user') expect(sent[index + 1]?.content).toBe(`Echo: ${String(message.content)}`);
    });
    expect(sent.length).toBeLessThan(14); // older turns were dropped
  });
});

describe('bodies are not read past their limit', () => {
  it('refuses a declared Content-Length over the limit before any byte of the body is sent (closing the connection: local host only)', async () => {
    const answer = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const url = new URL(`${app.baseUrl}/ask`);
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-length': String(50 * 1024 * 1024) } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders(); // headers only: the 50 MB never follow
    });
    expect(answer.status).toBe(413);
    expect(answer.connection).toBe('close');
    expect(model.requests).toHaveLength(0);
  });

  it('answers 413 to a slow chunked upload while it is still being sent (closing the connection: local host only)', { timeout: 60_000 }, async () => {
    const total = 8 * 1024 * 1024;
    const chunk = Buffer.alloc(4096, 'x');
    const result = await new Promise<{ status: number; sentWhenAnswered: number; closed: boolean }>((resolve, reject) => {
      const url = new URL(`${app.baseUrl}/ask`);
      let sent = 0;
      let stopped = false;
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        const sentWhenAnswered = sent;
        stopped = true;
        res.resume();
        res.on('end', () => {
          // The server closes the socket rather than draining the rest of the upload.
          const socket = req.socket;
          const closedCheck = () => resolve({ status: res.statusCode ?? 0, sentWhenAnswered, closed: socket == null || socket.destroyed || socket.readableEnded });
          socket?.once('close', closedCheck);
          setTimeout(closedCheck, 2000);
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        // A reset while we were still writing is the server closing on us, which is what we want to see.
        if (stopped || error.code === 'ECONNRESET' || error.code === 'EPIPE') return;
        reject(error);
      });
      req.write('{"prompt":"');
      const pump = () => {
        if (stopped || sent >= total) return;
        sent += chunk.length;
        req.write(chunk, () => setTimeout(pump, 2));
      };
      pump();
    });
    console.log(`limits: 413 arrived after ${result.sentWhenAnswered} of ${total} bytes were sent (limit ${MAX_BODY_BYTES})`);
    expect(result.status).toBe(413);
    // The answer came long before the upload would have ended: the host stopped reading at the limit.
    expect(result.sentWhenAnswered).toBeLessThan(total / 4);
    expect(result.closed).toBe(true);
    expect(model.requests).toHaveLength(0);
  });

  // The multipart limits apply per part while the body is read, not to the whole body once it is in memory.
  it.each([
    ['an image on /chat', 'chat', [jsonPart(), pngPart(200_000)], MAX_IMAGE_BYTES],
    ['a document on /documents', 'documents', [documentPart(200_000)], MAX_DOCUMENT_BYTES],
    // A text part is only complete at its end: its limit counts its headers too (at most 16 KB).
    ['the json text part on /chat', 'chat', [jsonPart(ragWith('x'.repeat(400_000))), pngPart(100)], MAX_BODY_BYTES + 16 * 1024],
  ] as const)('answers 413 to %s once that part passes its limit, while the upload is still being sent', { timeout: 60_000 }, async (_label, path, parts, limit) => {
    const body = multipartBody([...parts]);
    // Writing stops a little past the limit and the request stays open: only a server that decided from what it
    // had read can answer; one that waits for the rest of the body times out.
    const holdAfterBytes = limit + 4096;
    const result = await sendInChunks(`${app.baseUrl}/${path}`, body, { contentType: formType(), chunkBytes: 256, holdAfterBytes, timeoutMs: 10_000 });
    console.log(`limits: multipart 413 on /${path} after ${result.sentWhenAnswered} of ${body.length} bytes (part limit ${limit})`);
    expect(result.status).toBe(413);
    expect(result.json.error?.code).toBe('payload_too_large');
    expect(result.sentWhenAnswered).toBeLessThanOrEqual(holdAfterBytes);
    expect(model.requests).toHaveLength(0);
  });
});
