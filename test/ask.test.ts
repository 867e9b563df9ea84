import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApp, parseSse, type RunningApp } from './support/app.js';
import { startFakeModel, type FakeModel } from './support/fake-model.js';

let model: FakeModel;
let app: RunningApp;

beforeAll(async () => {
  model = await startFakeModel();
  app = await startApp({ OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'test-model' });
});
afterAll(async () => {
  await app?.stop();
  await model?.stop();
});
beforeEach(() => model.reset());

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${app.baseUrl}/${path}`, { method: 'POST', body, headers });

describe('POST /api/ask', () => {
  it('answers a prompt as trimmed text/plain and sends one user message', async () => {
    model.responder = () => ({ content: '  Functions scale to zero.  \n' });
    const response = await post('ask', JSON.stringify({ prompt: 'Why Functions?' }), { 'Content-Type': 'application/json' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await response.text()).toBe('Functions scale to zero.');
    const [sent] = model.chatBodies();
    expect(sent?.model).toBe('test-model');
    expect(sent?.messages).toEqual([{ role: 'user', content: 'Why Functions?' }]);
    expect(sent?.max_tokens).toBe(1024);
  });

  it.each(['text/json', 'text/plain', ''])('parses JSON whatever the content type says (%s)', async (type) => {
    const headers: Record<string, string> = type === '' ? {} : { 'Content-Type': type };
    const response = await post('ask', '{"prompt":"hello"}', headers);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('Echo: hello');
  });

  it('accepts the seed curl trailing slash', async () => {
    const response = await post('ask/', '{"prompt":"slash"}');
    expect(await response.text()).toBe('Echo: slash');
  });

  it.each([
    ['not json', '{"prompt":', /not valid JSON/],
    ['empty body', '', /empty/],
    ['missing prompt', '{}', /prompt/],
    ['wrong type', '{"prompt":42}', /prompt/],
    ['empty prompt', '{"prompt":""}', /prompt/],
    ['array body', '[]', /body/],
  ])('answers 400 invalid_request for %s', async (_label, body, message) => {
    const response = await post('ask', body);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/json');
    const json = (await response.json()) as { error: { code: string; message: string } };
    expect(json.error.code).toBe('invalid_request');
    expect(json.error.message).toMatch(message);
    expect(model.requests).toHaveLength(0);
  });

  it('answers 400 for a prompt over 32,000 characters without calling the model', async () => {
    const response = await post('ask', JSON.stringify({ prompt: 'x'.repeat(32_001) }));
    expect(response.status).toBe(400);
    expect(model.requests).toHaveLength(0);
  });

  it('answers 413 for a body over the limit', async () => {
    const response = await post('ask', JSON.stringify({ prompt: 'x'.repeat(1_100_000) }));
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
  });

  it('passes throttling on as 429 with Retry-After after its retries', async () => {
    model.enqueue({ kind: 'error', status: 429, headers: { 'retry-after': '0' } }, 2);
    const response = await post('ask', '{"prompt":"hi"}');
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('0');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    expect(model.requests).toHaveLength(2); // one try + MODEL_MAX_RETRIES=1
  });

  it('retries a throttled call and succeeds when the model recovers', async () => {
    model.enqueue({ kind: 'error', status: 429, headers: { 'retry-after': '0' } }, 1);
    const response = await post('ask', '{"prompt":"again"}');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('Echo: again');
  });

  it('answers 502 model_error when the model fails, with its reason shortened and secrets redacted', async () => {
    const page = `<html><head><title>Bad gateway</title></head><body>${'<p>trace sk-abcdefghijklmnopqrstuv</p>'.repeat(500)}</body></html>`;
    model.enqueue({ kind: 'raw', status: 500, headers: { 'content-type': 'text/html' }, body: page }, 2);
    const response = await post('ask', '{"prompt":"hi"}');
    expect(response.status).toBe(502);
    const error = JSON.parse(await response.text()).error;
    expect(error.code).toBe('model_error');
    expect(error.message).toContain('Bad gateway');
    expect(error.message).not.toContain('<');
    expect(error.message).not.toContain('abcdefghijklmnop');
    expect(error.message.length).toBeLessThan(400);
  });

  it('streams Server-Sent Events incrementally, then a done event with usage', async () => {
    model.chunkDelayMs = 150;
    model.responder = () => ({ content: 'one two three' });
    try {
      const started = performance.now();
      const response = await post('ask', '{"prompt":"count"}', { Accept: 'text/event-stream' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const reader = response.body!.getReader();
      const arrivals: number[] = [];
      let text = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        arrivals.push(performance.now() - started);
        text += new TextDecoder().decode(value);
      }
      const events = parseSse(text);
      expect(events.filter((e) => e.event === 'message').map((e) => (e.data as { content: string }).content)).toEqual(['one ', 'two ', 'three']);
      const done = events.at(-1)!;
      expect(done.event).toBe('done');
      expect(done.data).toMatchObject({ finishReason: 'stop', usage: { totalTokens: expect.any(Number) } });
      // The first chunk reached us well before the last was produced: nothing was buffered.
      expect(arrivals.length).toBeGreaterThanOrEqual(3);
      expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(200);
    } finally {
      model.chunkDelayMs = 0;
    }
  });

  it('sends a failure after the stream started as a last error event', async () => {
    model.responder = () => ({ content: 'a b c d e f' });
    model.enqueue({ kind: 'cut', afterChunks: 2 });
    const response = await post('ask', '{"prompt":"cut"}', { Accept: 'text/event-stream' });
    expect(response.status).toBe(200);
    const events = parseSse(await response.text());
    const last = events.at(-1)!;
    expect(last.event).toBe('error');
    expect((last.data as { error: { code: string } }).error.code).toBe('model_error');
    expect(events.some((e) => e.event === 'done')).toBe(false);
  });

  it('answers a streaming request that fails before the first token with a real status', async () => {
    model.enqueue({ kind: 'error', status: 429, headers: { 'retry-after': '1' } }, 2);
    const response = await post('ask', '{"prompt":"x"}', { Accept: 'text/event-stream' });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('1');
  });
});

describe('GET /api/whois/{name}', () => {
  it('asks who the person is with at most 100 output tokens', async () => {
    const response = await fetch(`${app.baseUrl}/whois/Turing`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('Echo: Who is Turing?');
    expect(model.chatBodies()[0]?.max_tokens).toBe(100);
  });

  it('decodes the name from the path', async () => {
    const response = await fetch(`${app.baseUrl}/whois/Ada%20Lovelace`);
    expect(await response.text()).toBe('Echo: Who is Ada Lovelace?');
  });

  it('streams like ask', async () => {
    const response = await fetch(`${app.baseUrl}/whois/Hopper`, { headers: { Accept: 'text/event-stream' } });
    const events = parseSse(await response.text());
    expect(events.at(-1)?.event).toBe('done');
  });
});

describe('the local host', () => {
  it('answers unknown routes with a JSON 404', async () => {
    const response = await fetch(`${app.baseUrl}/nope`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('answers a known route with the wrong method with a JSON 404 naming the allowed methods', async () => {
    const response = await fetch(`${app.baseUrl}/ask`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('POST');
  });

  it('prints its routes and the model provider on start, like func start', () => {
    expect(app.output()).toMatch(/ask: \[POST\] http:\/\/127\.0\.0\.1:\d+\/api\/ask/);
    expect(app.output()).toMatch(/whois: \[GET\] .*\/api\/whois\/\{name\}/);
    expect(app.output()).toContain('OpenAI-compatible server at');
  });

  it('sends bodies held in memory (text, JSON) whole with Content-Length, and streams chunked', async () => {
    const text = await post('ask', JSON.stringify({ prompt: 'hi' }));
    expect(text.headers.get('content-length')).toBe(String(Buffer.byteLength('Echo: hi')));
    expect(text.headers.get('transfer-encoding')).toBeNull();
    expect(await text.text()).toBe('Echo: hi');
    const json = await post('ask', '{}');
    expect(json.status).toBe(400);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await json.text();
    expect(json.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    expect((JSON.parse(body) as { error: { code: string } }).error.code).toBe('invalid_request');
    const stream = await post('ask', JSON.stringify({ prompt: 'hi' }), { Accept: 'text/event-stream' });
    expect(stream.headers.get('transfer-encoding')).toBe('chunked');
    expect(stream.headers.get('content-length')).toBeNull();
    await stream.text();
  });
});
