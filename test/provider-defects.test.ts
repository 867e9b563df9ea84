// The ways real providers broke the app (issue 11), one test each, through HTTP against the test model
// server speaking the provider's dialect. Most run on one OpenAI-compatible app whose server switches
// profile per test; what a process remembers (reasoning models, tool support) gets an app of its own.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSse, startApp, type RunningApp } from './support/app.js';
import { startFakeModel, type Behavior, type FakeModel } from './support/fake-model.js';
import { providerResponder, startProviderApp, type ProviderApp } from './support/providers/harness.js';
import { profiles, vllmNewContextOverflow } from './support/providers/profiles.js';

type ErrorBody = { error: { code: string; message: string } };

const sse = { accept: 'text/event-stream' };

describe('an OpenAI-compatible app against misbehaving providers', () => {
  let provider: ProviderApp;
  let model: FakeModel;
  const url = (path: string) => `${provider.app.baseUrl}/${path}`;
  const ask = (prompt: string, headers: Record<string, string> = {}) => fetch(url('ask'), { method: 'POST', headers, body: JSON.stringify({ prompt }) });
  const rag = (path: 'chat' | 'chat/stream', question: string, mode = 'text') =>
    fetch(url(path), { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: question }], context: { overrides: { retrieval_mode: mode } } }) });
  const turn = (id: string, message: string, headers: Record<string, string> = {}) =>
    fetch(url(`chats/${id}`), { method: 'POST', headers, body: JSON.stringify({ message }) });
  const newChat = async (id: string) => expect((await fetch(url(`chats/${id}`), { method: 'PUT', body: '{}' })).status).toBe(202);
  const stored = async (id: string) =>
    ((await (await fetch(url(`chats/${id}`))).json()) as { recentMessages: { role: string; content: string }[] }).recentMessages.map((message) => [message.role, message.content]);

  beforeAll(async () => {
    provider = await startProviderApp('openai', { MODEL_TIMEOUT_MS: '800', MODEL_MAX_RETRIES: '1' });
    model = provider.model;
    // A first valid document fixes the index's vector dimension.
    const response = await fetch(url('documents?name=handbook.md'), { method: 'POST', headers: { 'content-type': 'text/markdown' }, body: '# Handbook\n\nContoso employees get 25 vacation days per year.' });
    expect(response.status).toBe(201);
  });
  afterAll(async () => provider?.stop());
  beforeEach(() => {
    model.reset();
    model.responder = providerResponder;
    model.profile = profiles.openai;
    model.chunkDelayMs = 0;
  });

  describe('1: silence after the headers is a 504 within MODEL_TIMEOUT_MS', () => {
    it('plain: headers, then nothing', async () => {
      model.enqueue({ kind: 'stall' });
      const started = Date.now();
      const response = await ask('stall please');
      expect(response.status).toBe(504);
      expect(((await response.json()) as ErrorBody).error.code).toBe('model_timeout');
      expect(Date.now() - started).toBeLessThan(4000);
    });

    it('SSE: one delta, then nothing: the stream ends with a model_timeout error event', async () => {
      model.responder = () => ({ content: 'first second third' });
      model.enqueue({ kind: 'stall', afterChunks: 1 });
      const response = await ask('stall later', sse);
      expect(response.status).toBe(200);
      const events = parseSse(await response.text());
      expect(events[0]).toEqual({ event: 'message', data: { content: 'first ' } });
      expect(events.at(-1)).toMatchObject({ event: 'error', data: { error: { code: 'model_timeout' } } });
    });

    it('the RAG query rewrite too', async () => {
      model.enqueue({ kind: 'stall' });
      const response = await rag('chat', 'vacation?');
      expect(response.status).toBe(504);
      expect(((await response.json()) as ErrorBody).error.code).toBe('model_timeout');
    });

    it('a stream that keeps producing is never cut, however long it takes in total', async () => {
      model.chunkDelayMs = 300;
      model.responder = () => ({ content: 'one two three four five six' });
      const response = await ask('slow but steady', sse);
      const events = parseSse(await response.text());
      expect(events.filter((event) => event.event === 'message').length).toBe(6);
      expect(events.at(-1)?.event).toBe('done');
    });
  });

  describe('3: a 200 that is not a completion is a 502', () => {
    const page = '<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body><form>...</form></body></html>';
    for (const [name, behavior] of [
      ['an HTML sign-in page', { kind: 'raw', headers: { 'content-type': 'text/html' }, body: page }],
      ['an empty object', { kind: 'raw', body: '{}' }],
      ['a body cut mid-way', { kind: 'raw', headers: { 'content-length': '400' }, body: JSON.stringify(profiles.openai.completion({ model: 'gpt-4o-mini', messages: [] }, { content: 'cut here', pieces: [], toolCalls: [], finishReason: 'stop', usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })), cutAfterBytes: 60 }],
    ] as const) {
      it(`${name}: ask, chat turn (not stored), RAG JSON and stream`, async () => {
        model.enqueue(behavior, 4);
        const plain = await ask('hi');
        expect(plain.status).toBe(502);
        expect(((await plain.json()) as ErrorBody).error.code).toBe('model_error');
        const id = `not-a-completion-${name.length}`;
        await newChat(id);
        const chat = await turn(id, 'hello');
        expect(chat.status).toBe(502);
        expect(await stored(id)).toEqual([['system', 'You are a helpful assistant.']]);
        expect((await rag('chat', 'q')).status).toBe(502);
        expect((await rag('chat/stream', 'q')).status).toBe(502);
        expect(provider.app.output()).not.toContain('<form>');
      });
    }
  });

  it('4: stream chunks without choices or with "choices": null (usage-only) end a turn normally, stored', async () => {
    const chunk = (extra: object) => `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', ...extra })}\n\n`;
    const usage = { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 };
    const body = [
      chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: 'Hello there' }, finish_reason: null }] }),
      chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
      chunk({ choices: null, usage }),
      chunk({ usage }),
      'data: [DONE]\n\n',
    ].join('');
    await newChat('usage-only');
    model.enqueue({ kind: 'raw', headers: { 'content-type': 'text/event-stream' }, body });
    const events = parseSse(await (await turn('usage-only', 'hi', sse)).text());
    expect(events.at(-1)?.event).toBe('done');
    expect(await stored('usage-only')).toEqual([['system', 'You are a helpful assistant.'], ['user', 'hi'], ['assistant', 'Hello there']]);
  });

  describe('7: Retry-After is never slept past the time left', () => {
    it('429 with retry-after 30 and an 800 ms budget: 429 at once, with the upstream Retry-After', async () => {
      model.enqueue({ kind: 'failure', failure: 'throttle', retryAfterSeconds: 30 }, 2);
      const started = Date.now();
      const response = await ask('throttled');
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('30');
      expect(((await response.json()) as ErrorBody).error.code).toBe('rate_limited');
      expect(Date.now() - started).toBeLessThan(3000);
      expect(model.chatBodies()).toHaveLength(1);
    });
  });

  describe('8: context overflow is 400 context_length_exceeded; other 4xx carry their reason', () => {
    it('llama.cpp: exceed_context_size_error (plain) and the error: SSE field at 200 (streaming)', async () => {
      model.profile = profiles.llamacpp;
      model.enqueue({ kind: 'failure', failure: 'context_overflow' }, 2);
      const plain = await ask('too long');
      expect(plain.status).toBe(400);
      const error = ((await plain.json()) as ErrorBody).error;
      expect(error.code).toBe('context_length_exceeded');
      expect(error.message).toContain('MODEL_CONTEXT_TOKENS');
      expect(error.message).toContain('exceeds the available context size');
      const streamed = await ask('too long', sse);
      expect(streamed.status).toBe(400);
      expect(((await streamed.json()) as ErrorBody).error.code).toBe('context_length_exceeded');
    });

    it('vLLM: the older {"object":"error"} and the newer {"error":{...}} shapes', async () => {
      model.profile = profiles.vllm;
      model.enqueue({ kind: 'failure', failure: 'context_overflow' });
      model.enqueue({ kind: 'error', status: vllmNewContextOverflow.status, body: vllmNewContextOverflow.body });
      for (let index = 0; index < 2; index++) {
        const response = await ask('too long');
        expect(response.status).toBe(400);
        const error = ((await response.json()) as ErrorBody).error;
        expect(error.code).toBe('context_length_exceeded');
        expect(error.message).toContain('maximum context length is 4096 tokens');
      }
    });

    it('an unknown 4xx is a 502 whose message carries the upstream reason', async () => {
      model.enqueue({ kind: 'error', status: 422, body: { error: { message: "Invalid 'messages[0].name': string does not match pattern.", type: 'invalid_request_error', param: 'messages', code: 'invalid_value' } } });
      const response = await ask('odd');
      expect(response.status).toBe(502);
      const error = ((await response.json()) as ErrorBody).error;
      expect(error.code).toBe('model_error');
      expect(error.message).toContain("Invalid 'messages[0].name'");
    });
  });

  describe('9: a refusal is the reply; no text at all is a 502, never stored', () => {
    it('refusal: plain ask, SSE ask, and a stored chat turn', async () => {
      const refusal = "I'm sorry, but I can't help with that.";
      model.responder = () => ({ refusal });
      expect(await (await ask('bad idea')).text()).toBe(refusal);
      const events = parseSse(await (await ask('bad idea', sse)).text());
      expect(events.filter((event) => event.event === 'message').map((event) => (event.data as { content: string }).content).join('')).toBe(refusal);
      await newChat('refused');
      expect(await (await turn('refused', 'bad idea')).text()).toBe(refusal);
      expect((await stored('refused')).at(-1)).toEqual(['assistant', refusal]);
    });

    it('an empty answer: 502 on ask and on a chat turn, which stores nothing', async () => {
      model.responder = () => ({ content: '' });
      const response = await ask('say nothing');
      expect(response.status).toBe(502);
      expect(((await response.json()) as ErrorBody).error.code).toBe('model_error');
      await newChat('empty');
      expect((await turn('empty', 'say nothing', sse)).status).toBe(502);
      expect((await turn('empty', 'say nothing')).status).toBe(502);
      expect(await stored('empty')).toEqual([['system', 'You are a helpful assistant.']]);
    });
  });

  it('10: 429 insufficient_quota is 429 quota_exceeded, not retried, no Retry-After', async () => {
    model.enqueue({ kind: 'failure', failure: 'quota' }, 2);
    const response = await ask('no money');
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBeNull();
    expect(((await response.json()) as ErrorBody).error.code).toBe('quota_exceeded');
    expect(model.chatBodies()).toHaveLength(1);
  });

  it("11: an embedding model's 404 names EMBEDDING_MODEL_DEPLOYMENT_NAME", async () => {
    model.enqueue({ kind: 'failure', failure: 'not_found' }, 1, 'embeddings');
    const response = await fetch(url('documents?name=missing-model.md'), { method: 'POST', headers: { 'content-type': 'text/markdown' }, body: 'Some text.' });
    expect(response.status).toBe(502);
    const error = ((await response.json()) as ErrorBody).error;
    expect(error.message).toContain('EMBEDDING_MODEL_DEPLOYMENT_NAME');
    expect(error.message).not.toContain('CHAT_MODEL_DEPLOYMENT_NAME');
  });

  describe('13: embeddings are floats and checked before they are stored or searched with', () => {
    const zero = new Array<number>(64).fill(0);
    const documentNames = async () => ((await (await fetch(url('documents'))).json()) as { name: string }[]).map((document) => document.name);

    const cases: [string, Behavior, string][] = [
      ['all zeros', { kind: 'vectors', vectors: [zero] }, 'all zeros'],
      ['another dimension', { kind: 'vectors', vectors: [[0.6, 0.8]] }, 'dimensions'],
      ['not finite', { kind: 'raw', body: `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[1e999,${new Array(63).fill('0.1').join(',')}]}],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}}` }, 'not finite'],
    ];
    for (const [name, behavior, reason] of cases) {
      it(`a vector that is ${name}: the document is refused with 502 and not stored`, async () => {
        model.enqueue(behavior, 1, 'embeddings');
        const response = await fetch(url(`documents?name=bad-${name.length}.md`), { method: 'POST', headers: { 'content-type': 'text/markdown' }, body: 'One short paragraph.' });
        expect(response.status).toBe(502);
        expect(((await response.json()) as ErrorBody).error.message).toContain(reason);
        expect(await documentNames()).not.toContain(`bad-${name.length}.md`);
      });
    }

    it('at query time too', async () => {
      model.enqueue({ kind: 'vectors', vectors: [zero] }, 1, 'embeddings');
      const response = await rag('chat', 'vacation days?', 'vectors');
      expect(response.status).toBe(502);
      expect(((await response.json()) as ErrorBody).error.message).toContain('all zeros');
    });
  });

  it('14: an upstream HTML error page is logged short and as text', async () => {
    const page = `<html><head><title>502 Bad Gateway</title><style>body{}</style></head><body>${'<div>upstream trace line</div>'.repeat(2000)}</body></html>`;
    model.enqueue({ kind: 'raw', status: 502, headers: { 'content-type': 'text/html' }, body: page }, 2);
    const before = provider.app.output().length;
    expect((await ask('gateway')).status).toBe(502);
    const logged = provider.app.output().slice(before);
    expect(logged).toContain('502 Bad Gateway');
    expect(logged).not.toContain('<div>');
    expect(logged.length).toBeLessThan(2000);
  });

  it('15: an embeddings batch failing after retries is a 502, never a 500', async () => {
    model.enqueue({ kind: 'error', status: 500, headers: { 'retry-after-ms': '0' } }, 2, 'embeddings');
    const response = await fetch(url('documents?name=batch-fails.md'), { method: 'POST', headers: { 'content-type': 'text/markdown' }, body: 'Text to embed.' });
    expect(response.status).toBe(502);
    expect(((await response.json()) as ErrorBody).error.code).toBe('model_error');
  });
});

describe('2: reasoning models work with no setting changed', () => {
  let provider: ProviderApp;
  beforeAll(async () => {
    // A name that says nothing (as Azure deployment names often do): detected from the provider's 400.
    provider = await startProviderApp('openai-reasoning', { CHAT_MODEL_DEPLOYMENT_NAME: 'my-deployment', MODEL_REASONING_EFFORT: 'high' });
  });
  afterAll(async () => provider?.stop());

  it('retries once with reasoning parameters on the 400, and remembers it for the process', async () => {
    const first = await fetch(`${provider.app.baseUrl}/ask`, { method: 'POST', body: JSON.stringify({ prompt: 'think' }) });
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('Echo: think');
    const second = await fetch(`${provider.app.baseUrl}/whois/Ada`, { headers: sse });
    expect(parseSse(await second.text()).at(-1)?.event).toBe('done');
    const rag = await fetch(`${provider.app.baseUrl}/chat`, { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'q' }], context: { overrides: { retrieval_mode: 'none' } } }) });
    expect(rag.status).toBe(200);
    const bodies = provider.model.chatBodies();
    expect(bodies).toHaveLength(4);
    expect(bodies[0]?.max_tokens).toBeGreaterThan(0);
    for (const body of bodies.slice(1)) {
      expect(body.max_tokens).toBeUndefined();
      expect(body.max_completion_tokens).toBeGreaterThan(0);
      expect(body.temperature).toBeUndefined();
      expect(body.reasoning_effort).toBe('high');
    }
  });
});

describe('6: a model without tool support', () => {
  let provider: ProviderApp;
  beforeAll(async () => {
    provider = await startProviderApp('ollama', { CHAT_MODEL_DEPLOYMENT_NAME: 'gemma:2b' });
    provider.model.toolsSupported = false;
    const response = await fetch(`${provider.app.baseUrl}/documents?name=handbook.md`, { method: 'POST', headers: { 'content-type': 'text/markdown' }, body: '# Handbook\n\nContoso employees get 25 vacation days per year.' });
    expect(response.status).toBe(201);
  });
  afterAll(async () => provider?.stop());

  it('chat with your data searches with the question itself, and stops sending tools', async () => {
    const send = () =>
      fetch(`${provider.app.baseUrl}/chat`, { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'How many vacation days?' }], context: { overrides: { retrieval_mode: 'text' } } }) });
    for (let index = 0; index < 2; index++) {
      const response = await send();
      expect(response.status).toBe(200);
      const body = (await response.json()) as { message: { content: string }; context: { data_points: { text: string[] } } };
      expect(body.message.content.startsWith('Echo:')).toBe(true);
      expect(body.context.data_points.text.some((text) => text.startsWith('handbook.md'))).toBe(true);
    }
    const withTools = provider.model.chatBodies().filter((body) => body.tools != null);
    expect(withTools).toHaveLength(1);
  });
});

describe('5: keyless Azure without an obtainable token', () => {
  let model: FakeModel;
  let app: RunningApp;
  beforeAll(async () => {
    model = await startFakeModel({ profile: profiles.azure });
    // App Service's managed-identity endpoint, answering 400 as it does when no identity is assigned.
    app = await startApp({
      AZURE_OPENAI_ENDPOINT: model.origin,
      CHAT_MODEL_DEPLOYMENT_NAME: 'chat',
      IDENTITY_ENDPOINT: `${model.origin}/msi/token`,
      IDENTITY_HEADER: 'test-identity-header',
      MODEL_TIMEOUT_MS: '8000',
    });
  });
  afterAll(async () => {
    await app?.stop();
    await model?.stop();
  });

  it('is 503 model_auth_failed saying what to check, on plain and streamed routes', async () => {
    for (const headers of [{}, sse]) {
      const response = await fetch(`${app.baseUrl}/ask`, { method: 'POST', headers, body: JSON.stringify({ prompt: 'hi' }) });
      const error = ((await response.json()) as ErrorBody).error;
      expect(response.status, error.message).toBe(503);
      expect(error.code).toBe('model_auth_failed');
      expect(error.message).toContain('az login');
      expect(error.message).toContain('AZURE_CLIENT_ID');
    }
    expect(model.chatBodies()).toHaveLength(0);
  });
});
