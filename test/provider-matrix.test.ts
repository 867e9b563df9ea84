// Every model route against every provider profile (test/support/providers/profiles.ts): ask and whois
// (plain and SSE), chat turns (plain and SSE) with what was stored, chat with your data (JSON and NDJSON
// stream), and document ingestion with its embeddings. One app per profile, shared by its routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSse } from './support/app.js';
import type { ChatBody } from './support/fake-model.js';
import { parseNdjson, startProviderApp, type ProviderApp } from './support/providers/harness.js';
import { profileNames } from './support/providers/profiles.js';

const policy = [
  '# Vacation policy',
  '',
  'Every employee of Contoso Outfitters gets 25 vacation days per calendar year. Unused vacation days carry over to the first quarter of the next year.',
  '',
  '## Sick leave',
  '',
  'Sick leave is separate from vacation days and needs a doctor’s note after three days.',
].join('\n');

type Json = Record<string, unknown>;

describe.each(profileNames)('provider profile %s', (profile) => {
  let provider: ProviderApp;
  const url = (path: string) => `${provider.app.baseUrl}/${path}`;
  const sse = { accept: 'text/event-stream' };

  beforeAll(async () => {
    provider = await startProviderApp(profile);
  });
  afterAll(async () => provider?.stop());

  it('ask: plain and SSE', async () => {
    const plain = await fetch(url('ask'), { method: 'POST', body: JSON.stringify({ prompt: 'matrix question' }) });
    expect(plain.status).toBe(200);
    expect(await plain.text()).toBe('Echo: matrix question');
    const streamed = await fetch(url('ask'), { method: 'POST', headers: sse, body: JSON.stringify({ prompt: 'streamed question' }) });
    expect(streamed.status).toBe(200);
    const events = parseSse(await streamed.text());
    const deltas = events.filter((event) => event.event === 'message').map((event) => (event.data as { content: string }).content);
    expect(deltas.join('')).toBe('Echo: streamed question');
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    const data = done.data as { finishReason: string; usage: { totalTokens: number; completionTokens: number } | null };
    expect(data.finishReason).toBe('stop');
    // Counted by us when the provider's stream carries no usage (Ollama, llama.cpp, older Azure versions).
    expect(data.usage?.completionTokens).toBeGreaterThan(0);
    expect(data.usage?.totalTokens).toBeGreaterThan(data.usage?.completionTokens ?? 0);
  });

  it('whois: plain and SSE', async () => {
    const plain = await fetch(url('whois/Ada%20Lovelace'));
    expect(plain.status).toBe(200);
    expect(await plain.text()).toBe('Echo: Who is Ada Lovelace?');
    const streamed = await fetch(url('whois/Grace'), { headers: sse });
    const events = parseSse(await streamed.text());
    expect(events.filter((event) => event.event === 'message').map((event) => (event.data as { content: string }).content).join('')).toBe('Echo: Who is Grace?');
    expect(events.at(-1)?.event).toBe('done');
  });

  it('chat turns: plain and SSE, stored as sent', async () => {
    const id = `matrix-${profile}`;
    expect((await fetch(url(`chats/${id}`), { method: 'PUT', body: '{}' })).status).toBe(202);
    const first = await fetch(url(`chats/${id}`), { method: 'POST', body: JSON.stringify({ message: 'first turn' }) });
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('Echo: first turn');
    const second = await fetch(url(`chats/${id}`), { method: 'POST', headers: sse, body: JSON.stringify({ message: 'second turn' }) });
    const events = parseSse(await second.text());
    expect(events.filter((event) => event.event === 'message').map((event) => (event.data as { content: string }).content).join('')).toBe('Echo: second turn');
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect((done.data as { stored?: boolean }).stored).not.toBe(false);
    const state = (await (await fetch(url(`chats/${id}`))).json()) as { totalMessages: number; totalTokens: number; recentMessages: { role: string; content: string }[] };
    expect(state.recentMessages.map((message) => [message.role, message.content])).toEqual([
      ['system', 'You are a helpful assistant.'],
      ['user', 'first turn'],
      ['assistant', 'Echo: first turn'],
      ['user', 'second turn'],
      ['assistant', 'Echo: second turn'],
    ]);
    expect(state.totalTokens).toBeGreaterThan(0);
  });

  it('ingestion: float embeddings requested, valid vectors stored', async () => {
    const response = await fetch(url('documents?name=policy.md'), { method: 'POST', headers: { 'content-type': 'text/markdown' }, body: policy });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { name: string; chunks: number };
    expect(body.name).toBe('policy.md');
    expect(body.chunks).toBeGreaterThan(0);
    const embeddings = provider.model.embeddingBodies();
    expect(embeddings.length).toBeGreaterThan(0);
    for (const request of embeddings) expect(request.encoding_format).toBe('float');
  });

  it('chat with your data: JSON, with the rewrite tool call and vector retrieval', async () => {
    const response = await fetch(url('chat'), {
      method: 'POST',
      body: JSON.stringify({ messages: [{ role: 'user', content: 'How many vacation days do I get?' }], context: { overrides: { retrieval_mode: 'vectors', top: 2 } } }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { message: { content: string }; context: { data_points: { text: string[] }; thoughts: { title: string; description: unknown }[] } };
    expect(body.message.content.startsWith('Echo:')).toBe(true);
    // The vectors came through intact: the policy is found by vector search alone.
    expect(body.context.data_points.text.some((text) => text.startsWith('policy.md'))).toBe(true);
    const search = body.context.thoughts.find((thought) => thought.title === 'Search using generated search query');
    expect(JSON.stringify(search?.description)).toContain('vacation days policy');
  });

  it('chat with your data: NDJSON stream', async () => {
    const response = await fetch(url('chat/stream'), {
      method: 'POST',
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Tell me about sick leave' }], context: { overrides: { retrieval_mode: 'hybrid', top: 2 } } }),
    });
    expect(response.status).toBe(200);
    const lines = parseNdjson(await response.text());
    expect(lines.some((line) => 'error' in line)).toBe(false);
    const text = lines.map((line) => ((line.delta as Json | undefined)?.content as string | undefined) ?? '').join('');
    expect(text.startsWith('Echo:')).toBe(true);
    expect((lines[0]?.context as Json | undefined)?.data_points).toBeDefined();
  });

  it('sent each provider the parameters it accepts', () => {
    const bodies: ChatBody[] = provider.model.chatBodies();
    expect(bodies.length).toBeGreaterThan(0);
    const accepted = bodies.filter((body, index) => index === bodies.length - 1 || !isRejected(profile, body));
    for (const body of accepted) {
      if (profile === 'openai-reasoning') {
        expect(body.max_tokens).toBeUndefined();
        expect(body.max_completion_tokens).toBeGreaterThan(0);
        expect(body.temperature).toBeUndefined();
        expect(body.reasoning_effort).toBe('low');
      } else {
        expect(body.max_completion_tokens).toBeUndefined();
        expect(body.max_tokens).toBeGreaterThan(0);
        expect(body.reasoning_effort).toBeUndefined();
      }
    }
    const withStreamOptions = bodies.filter((body) => body.stream === true && body.stream_options != null);
    // The old Azure API version rejected stream_options once; the process stopped sending it after that.
    if (profile === 'azure-old-api') expect(withStreamOptions).toHaveLength(1);
    else expect(withStreamOptions.length).toBe(bodies.filter((body) => body.stream === true).length);
  });
});

function isRejected(profile: string, body: ChatBody): boolean {
  return profile === 'azure-old-api' && body.stream_options != null;
}
