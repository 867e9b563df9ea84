// Fault injection with the fake model, per model-calling route family: throttling (bounded retries, then 429
// with Retry-After), upstream failure (502), timeout (504), a stream cut mid-answer (a last error event/line).
// After every fault the stored data is exactly as before.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSse, startApp, type RunningApp } from './support/app.js';
import { coverageProblems, modelRoutes as modelOperations } from './support/route-coverage.js';
import { startFakeModel, type Behavior, type FakeModel } from './support/fake-model.js';

const RETRIES = 2;
let model: FakeModel;
let app: RunningApp;
let faultsInjected = 0;

beforeAll(async () => {
  model = await startFakeModel();
  app = await startApp({
    OPENAI_BASE_URL: model.url,
    CHAT_MODEL_DEPLOYMENT_NAME: 'fault-model',
    MODEL_MAX_RETRIES: String(RETRIES),
    // The whole budget for an answer to start, retries included (API.md): three quick 429s must fit in it.
    MODEL_TIMEOUT_MS: '1000',
  });
});
afterAll(async () => {
  console.log(`faults: ${faultsInjected} model faults injected`);
  await app?.stop();
  await model?.stop();
});
beforeEach(() => model.reset());

type Format = 'sse' | 'ndjson';

interface ModelRoute {
  name: string;
  /** The route-table operations it drives (plain and streaming forms). */
  operations: string[];
  /** Sends the request that calls the model; `stream` asks for the route's streaming form. */
  send(stream: boolean): Promise<Response>;
  format: Format;
  /** Model calls made before the one that answers (e.g. the RAG query rewrite). */
  callsBefore: number;
  /** Creates what the route needs. */
  setup?(): Promise<void>;
  /** The stored data a failed call must leave untouched. */
  snapshot?(): Promise<unknown>;
}

const api = (path: string, init?: RequestInit) => fetch(`${app.baseUrl}/${path}`, init);
const sseHeaders = (stream: boolean): Record<string, string> => (stream ? { Accept: 'text/event-stream' } : {});
const ragBody = JSON.stringify({ messages: [{ role: 'user', content: 'What does the handbook say about holidays?' }] });
const FAULT_CHAT = 'fault-chat';

/** Chat state without the clock fields a GET recomputes. */
async function chatSnapshot(): Promise<unknown> {
  const response = await api(`chats/${FAULT_CHAT}`);
  return response.json();
}

const modelRoutes: ModelRoute[] = [
  { name: 'ask', operations: ['ask'], format: 'sse', callsBefore: 0, send: (stream) => api('ask', { method: 'POST', body: '{"prompt":"hi"}', headers: sseHeaders(stream) }) },
  { name: 'whois', operations: ['whois'], format: 'sse', callsBefore: 0, send: (stream) => api('whois/Ada', { headers: sseHeaders(stream) }) },
  {
    name: 'chat turn',
    operations: ['postChat'],
    format: 'sse',
    callsBefore: 0,
    async setup() {
      const created = await api(`chats/${FAULT_CHAT}`, { method: 'PUT', body: '{"instructions":"Be brief."}' });
      expect(created.status).toBe(202);
      const first = await api(`chats/${FAULT_CHAT}`, { method: 'POST', body: '{"message":"first"}' });
      expect(first.status).toBe(200);
      model.reset();
    },
    send: (stream) => api(`chats/${FAULT_CHAT}`, { method: 'POST', body: '{"message":"faulty"}', headers: sseHeaders(stream) }),
    snapshot: chatSnapshot,
  },
  {
    name: 'rag chat',
    operations: ['chat', 'chatStream'],
    format: 'ndjson',
    callsBefore: 1,
    send: (stream) => api(stream ? 'chat/stream' : 'chat', { method: 'POST', body: ragBody }),
    snapshot: async () => (await api('documents')).json(),
  },
];

/** Lets the calls before the answering one through, then queues `behavior` `times` times. */
function inject(route: ModelRoute, behavior: Behavior, times: number): void {
  if (route.callsBefore > 0) model.enqueue({ kind: 'reply', reply: { content: 'holidays' } }, route.callsBefore);
  model.enqueue(behavior, times);
  faultsInjected += times;
}

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  expect(response.headers.get('content-type')).toContain('application/json');
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

/** The last event (SSE) or line (NDJSON) of a streamed body. */
function lastItem(format: Format, text: string): { kind: string; data: unknown } {
  if (format === 'sse') {
    const last = parseSse(text).at(-1)!;
    return { kind: last.event, data: last.data };
  }
  const lines = text.trim().split('\n');
  const last = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
  return { kind: 'error' in last ? 'error' : 'line', data: last };
}

describe('model faults on every model route', () => {
  it('drives every route of the route table that calls the model', () => {
    expect(modelOperations().length).toBeGreaterThanOrEqual(5);
    expect(coverageProblems(modelOperations(), modelRoutes.flatMap((route) => route.operations))).toEqual([]);
  });

  for (const stream of [false, true]) {
    const mode = stream ? 'streaming' : 'plain';

    it(`throttling: retries ${RETRIES} times, then 429 with Retry-After (${mode})`, async () => {
      for (const route of modelRoutes) {
        await route.setup?.();
        const before = route.snapshot == null ? undefined : await route.snapshot();
        if (route.snapshot != null) expect(before, `${route.name} snapshot`).toBeDefined();
        model.reset();
        inject(route, { kind: 'error', status: 429, headers: { 'retry-after': '0' } }, RETRIES + 1);
        const response = await route.send(stream);
        expect(response.status, route.name).toBe(429);
        expect(response.headers.get('retry-after'), route.name).toBe('0');
        expect((await errorOf(response)).code).toBe('rate_limited');
        expect(model.chatBodies(), route.name).toHaveLength(route.callsBefore + RETRIES + 1);
        // Only routes that store something have a snapshot; comparing undefined with undefined proves nothing.
        if (route.snapshot != null) expect(await route.snapshot(), route.name).toEqual(before);
      }
    });

    it(`throttling that clears within the retries is invisible to the client (${mode})`, async () => {
      for (const route of modelRoutes) {
        await route.setup?.();
        inject(route, { kind: 'error', status: 429, headers: { 'retry-after': '0' } }, RETRIES);
        const response = await route.send(stream);
        expect(response.status, route.name).toBe(200);
        await response.text();
      }
    });

    it(`upstream 500 becomes 502 model_error with the upstream's reason, shortened and redacted (${mode})`, async () => {
      for (const route of modelRoutes) {
        await route.setup?.();
        const before = route.snapshot == null ? undefined : await route.snapshot();
        if (route.snapshot != null) expect(before, `${route.name} snapshot`).toBeDefined();
        model.reset();
        const reason = `upstream-internal-detail key sk-proj-abcdefghijklmnop ${'x'.repeat(5000)}`;
        inject(route, { kind: 'error', status: 500, headers: { 'retry-after-ms': '0' }, body: { error: { message: reason } } }, RETRIES + 1);
        // (retry-after-ms 0 only keeps the test quick: the retries still happen)
        const response = await route.send(stream);
        expect(response.status, route.name).toBe(502);
        const error = await errorOf(response);
        expect(error.code).toBe('model_error');
        expect(error.message).toContain('upstream-internal-detail');
        expect(error.message).not.toContain('abcdefghijklmnop');
        expect(error.message.length).toBeLessThan(400);
        expect(model.chatBodies(), route.name).toHaveLength(route.callsBefore + RETRIES + 1);
        // Only routes that store something have a snapshot; comparing undefined with undefined proves nothing.
        if (route.snapshot != null) expect(await route.snapshot(), route.name).toEqual(before);
      }
    });

    it(`a hung model becomes 504 model_timeout after MODEL_TIMEOUT_MS (${mode})`, async () => {
      const routes = modelRoutes;
      for (const route of routes) await route.setup?.();
      const stateful = routes.filter((route) => route.snapshot != null);
      expect(stateful.length).toBeGreaterThan(0);
      const before = await Promise.all(stateful.map((route) => route.snapshot!()));
      model.reset();
      // Every call hangs, so the routes can run at once. A silent model uses up MODEL_TIMEOUT_MS, the whole
      // time an answer has to start, so nothing is retried after it (API.md: never wait past the time left).
      model.enqueue({ kind: 'hang' }, routes.length);
      faultsInjected += routes.length;
      const responses = await Promise.all(routes.map((route) => route.send(stream)));
      for (const [index, response] of responses.entries()) {
        expect(response.status, routes[index]!.name).toBe(504);
        expect((await errorOf(response)).code).toBe('model_timeout');
      }
      expect(model.chatBodies()).toHaveLength(routes.length);
      expect(await Promise.all(stateful.map((route) => route.snapshot!()))).toEqual(before);
    });
  }

  it('a stream cut mid-answer ends with an error event/line and no done', async () => {
    for (const route of modelRoutes) {
      await route.setup?.();
      const before = route.snapshot == null ? undefined : await route.snapshot();
        if (route.snapshot != null) expect(before, `${route.name} snapshot`).toBeDefined();
      model.reset();
      model.responder = () => ({ content: 'one two three four five six' });
      inject(route, { kind: 'cut', afterChunks: 2 }, 1);
      const response = await route.send(true);
      expect(response.status, route.name).toBe(200);
      const text = await response.text();
      const last = lastItem(route.format, text);
      expect(last.kind, route.name).toBe('error');
      expect((last.data as { error: { code: string } }).error.code).toBe('model_error');
      expect(text).not.toContain('event: done');
      // Only routes that store something have a snapshot; comparing undefined with undefined proves nothing.
        if (route.snapshot != null) expect(await route.snapshot(), route.name).toEqual(before);
    }
  });

  it('keeps serving after all of it', async () => {
    model.reset();
    const response = await api('ask', { method: 'POST', body: '{"prompt":"still there?"}' });
    expect(await response.text()).toBe('Echo: still there?');
  });
});
