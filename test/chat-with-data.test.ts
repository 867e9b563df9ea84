import { AIChatProtocolClient } from '@microsoft/ai-chat-protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApp, waitForSampleCorpus, type RunningApp } from './support/app.js';
import { startFakeModel, type ChatBody, type FakeModel, type Reply } from './support/fake-model.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const png = `data:image/png;base64,${PNG.toString('base64')}`;

let model: FakeModel;
let app: RunningApp;

type Json = Record<string, any>;

const textOf = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((part: Json) => part.text ?? '').join('\n') : '';
const lastUser = (body: ChatBody) => [...body.messages].reverse().find((message) => message.role === 'user');
const sourcesIn = (body: ChatBody) =>
  textOf(lastUser(body)?.content).split('\nSources:\n')[1]?.split('\n').map((line) => line.slice(0, line.indexOf(': '))) ?? [];

/** A model that rewrites the question into a tool call and answers citing its first source. */
function ragResponder(body: ChatBody): Reply {
  if (body.tools?.length) {
    const question = textOf(lastUser(body)?.content).replace('Generate a search query for: ', '');
    return { toolCalls: [{ name: 'search_sources', arguments: JSON.stringify({ search_query: question }) }] };
  }
  const [first] = sourcesIn(body);
  return { content: `The answer is here [${first ?? 'none'}] and not here [invented.pdf#page=99]. <<What next?>> <<And then?>>` };
}


beforeAll(async () => {
  model = await startFakeModel();
  app = await startApp({ OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'test-model', INGEST_SAMPLE_DATA: 'true' });
  await waitForSampleCorpus(app);
}, 120_000);
afterAll(async () => {
  await app?.stop();
  await model?.stop();
});
beforeEach(() => {
  model.reset();
  model.responder = ragResponder;
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${app.baseUrl}/${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } });

const ask = (question: string, overrides: Json = {}, extra: Json = {}) => ({
  messages: [{ role: 'user', content: question }],
  context: { overrides },
  ...extra,
});

async function ndjson(response: Response): Promise<Json[]> {
  return (await response.text()).split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Json);
}

describe('POST /api/chat', () => {
  it('answers from retrieved sources with valid citations, thoughts and follow-ups', async () => {
    const response = await post('chat', ask('Does my plan cover annual eye exams?', { suggest_followup_questions: true }, { session_state: { turn: 1 } }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as Json;
    expect(body.message.role).toBe('assistant');
    expect(body.message.content).toBe('The answer is here [kestrel-health-select.pdf#page=7] and not here.');
    expect(body.context.data_points.citations[0]).toBe('kestrel-health-select.pdf#page=7');
    expect(body.context.data_points.text[0]).toMatch(/^kestrel-health-select\.pdf#page=7: /);
    expect(body.context.followup_questions).toEqual(['What next?', 'And then?']);
    expect(body.context.thoughts.map((thought: Json) => thought.title)).toEqual([
      'Prompt to generate search query',
      'Search using generated search query',
      'Search results',
      'Prompt to generate answer',
    ]);
    expect(body.context.thoughts[3].props.usage.total_tokens).toBeGreaterThan(0);
    expect(body.session_state).toEqual({ turn: 1 });
    // Two model calls: the query rewrite (temperature 0, with the tool) and the answer.
    const [rewrite, answer] = model.chatBodies();
    expect(rewrite?.temperature).toBe(0);
    expect(rewrite?.tools?.[0]?.function.name).toBe('search_sources');
    expect(answer?.messages[0]?.role).toBe('system');
    expect(textOf(lastUser(answer!)?.content)).toContain('Sources:');
  });

  it.each([
    ['Does my plan cover annual eye exams?', 'kestrel-health-select.pdf#page=7'],
    ['What is my deductible?', 'kestrel-health-select.pdf#page=3'],
    ['How do I switch roles?', 'role-library.pdf#page=9'],
  ])('retrieves the right sample page for "%s"', async (question, page) => {
    const body = (await (await post('chat', ask(question, { retrieval_mode: 'text', top: 3 }))).json()) as Json;
    expect(body.context.data_points.citations[0]).toBe(page);
  });

  it('falls back to the question when the model returns no tool call', async () => {
    model.responder = (body) => (body.tools?.length ? { content: '0' } : { content: 'ok' });
    const body = (await (await post('chat', ask('How do I switch roles?'))).json()) as Json;
    expect(body.context.thoughts[1].description).toBe('How do I switch roles?');
  });

  it('falls back to the follow-up together with the earlier user turns when the rewrite yields no query', async () => {
    const conversation = {
      messages: [
        { role: 'user', content: 'Does the health plan cover eye exams?' },
        { role: 'assistant', content: 'Yes, one exam a year [kestrel-health-select.pdf#page=7].' },
        { role: 'user', content: 'What about dental?' },
      ],
    };
    for (const reply of [{ content: '0' }, { content: '' }, { toolCalls: [{ name: 'search_sources', arguments: '{"search_query":' }] }, { toolCalls: [{ name: 'other_tool', arguments: '{}' }] }]) {
      model.responder = (body) => (body.tools?.length ? reply : { content: 'ok' });
      const body = (await (await post('chat', conversation)).json()) as Json;
      // Before the fix the bare question "What about dental?" was searched.
      expect(body.context.thoughts[1].description).toBe('What about dental? Does the health plan cover eye exams?');
      expect(body.context.thoughts[0].props.query_source).toBe('fallback');
    }
  });

  it('takes a text reply to the rewrite prompt as the query only when it looks like one', async () => {
    const conversation = { messages: [{ role: 'user', content: 'Are eye exams covered?' }, { role: 'assistant', content: 'Yes.' }, { role: 'user', content: 'And for my kids?' }] };
    const cases: [string, string][] = [
      ['children vision exam coverage', 'children vision exam coverage'],
      ['Query: "children eye exams"', 'children eye exams'],
      // The model answering the question instead of writing a query.
      ['Yes, children are covered for one eye exam a year.', 'And for my kids? Are eye exams covered?'],
      ['I could not find a query for that.', 'And for my kids? Are eye exams covered?'],
      ['children\neye exams', 'And for my kids? Are eye exams covered?'],
    ];
    for (const [reply, query] of cases) {
      model.responder = (body) => (body.tools?.length ? { content: reply } : { content: 'ok' });
      const body = (await (await post('chat', conversation)).json()) as Json;
      expect(body.context.thoughts[1].description).toBe(query);
    }
  });

  it('uses the rewritten query from the search_sources tool', async () => {
    model.responder = (body) =>
      body.tools?.length ? { toolCalls: [{ name: 'search_sources', arguments: '{"search_query":"internal transfer form"}' }] } : { content: 'ok' };
    const body = (await (await post('chat', ask('and the other thing?'))).json()) as Json;
    expect(body.context.thoughts[1].description).toBe('internal transfer form');
  });

  it('echoes sessionState in the spelling the client used, and session_state null when absent', async () => {
    const camel = (await (await post('chat', ask('deductible', {}, { sessionState: 'abc' }))).json()) as Json;
    expect(camel.sessionState).toBe('abc');
    expect(camel).not.toHaveProperty('session_state');
    const none = (await (await post('chat', ask('deductible'))).json()) as Json;
    expect(none.session_state).toBeNull();
  });

  it('accepts the older {history, overrides} shape', async () => {
    const response = await post('chat', { history: [{ user: 'hi', bot: 'hello' }, { user: 'What is my deductible?' }], overrides: { top: 2 } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Json;
    expect(body.context.data_points.text).toHaveLength(2);
    expect(body.context.data_points.citations[0]).toBe('kestrel-health-select.pdf#page=3');
    const answer = model.chatBodies()[1]!;
    expect(answer.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user']);
  });

  it('honours top, and retrieval_mode none is plain chat with one model call', async () => {
    const top = (await (await post('chat', ask('What is my deductible for the health plan?', { top: 2 }))).json()) as Json;
    expect(top.context.thoughts[2].description).toHaveLength(2);
    model.reset();
    model.responder = () => ({ content: 'plain' });
    const none = (await (await post('chat', ask('hello', { retrieval_mode: 'none' }))).json()) as Json;
    expect(none.message.content).toBe('plain');
    expect(none.context.data_points).toEqual({ text: [], images: [], citations: [] });
    expect(model.chatBodies()).toHaveLength(1);
    expect(none.context.thoughts.map((thought: Json) => thought.title)).toEqual(['Prompt to generate answer']);
  });

  it('replaces the system prompt with prompt_template, and injects one that starts with >>>', async () => {
    await post('chat', ask('x', { retrieval_mode: 'none', prompt_template: 'You are a pirate.' }));
    expect(model.chatBodies()[0]?.messages[0]?.content).toBe('You are a pirate.');
    model.reset();
    model.responder = ragResponder;
    await post('chat', ask('x', { retrieval_mode: 'none', prompt_template: '>>> Answer in French.' }));
    const system = String(model.chatBodies()[0]?.messages[0]?.content);
    expect(system).toContain('Answer in French.');
    expect(system).toContain('square brackets');
    // The default prompt is for anyone's documents, not the sample company's.
    expect(system).toContain('your documents');
    expect(system).not.toMatch(/employee|handbook|benefit|roles/i);
  });

  it('filters by category; a blank category (an empty form field) is no filter', async () => {
    const unfiltered = (await (await post('chat', ask('deductible'))).json()) as Json;
    expect(unfiltered.context.data_points.citations[0]).toBe('kestrel-health-select.pdf#page=3');
    const included = (await (await post('chat', ask('deductible', { include_category: 'no-such-category' }))).json()) as Json;
    expect(included.context.data_points.citations).toEqual([]);
    const excluded = (await (await post('chat', ask('deductible', { exclude_category: 'no-such-category' }))).json()) as Json;
    expect(excluded.context.data_points.citations).toEqual(unfiltered.context.data_points.citations);
    // Before the fix, `include_category: ""` matched no chunk and silently returned no sources.
    for (const blank of ['', '  ']) {
      const body = (await (await post('chat', ask('deductible', { include_category: blank, exclude_category: blank }))).json()) as Json;
      expect(body.context.data_points.citations).toEqual(unfiltered.context.data_points.citations);
      expect(body.context.thoughts[1].props.include_category).toBeNull();
    }
  });

  it('applies the security filter only when asked, with the caller identity, which is untrusted by default', async () => {
    const principal = { 'x-ms-client-principal-id': 'someone' };
    const unfiltered = (await (await post('chat', ask('deductible'), principal)).json()) as Json;
    expect(unfiltered.context.data_points.citations.length).toBeGreaterThan(0);
    expect(unfiltered.context.thoughts[1].props).not.toHaveProperty('oids');
    const filtered = (await (await post('chat', ask('deductible', { use_oid_security_filter: true }), principal)).json()) as Json;
    expect(filtered.context.data_points.citations).toEqual([]);
    expect(filtered.context.thoughts[1].props.oids).toEqual([]);
  });

  it('answers in the shape azure-search-openai-demo reads: images, token_usage, sourcefile and category, snake_case props', async () => {
    const body = (await (await post('chat', ask('What is my deductible?'))).json()) as Json;
    expect(body.context.data_points.images).toEqual([]);
    const [rewrite, search, results, answer] = body.context.thoughts as Json[];
    for (const step of [rewrite!, answer!]) {
      expect(Object.keys(step.props.token_usage).sort()).toEqual(['completion_tokens', 'prompt_tokens', 'reasoning_tokens', 'total_tokens']);
      expect(step.props.token_usage.total_tokens).toBe(step.props.usage.total_tokens);
      expect(step.props.token_usage.total_tokens).toBeGreaterThan(0);
    }
    expect(results!.description[0]).toMatchObject({ sourcefile: 'kestrel-health-select.pdf', sourcepage: 'kestrel-health-select.pdf#page=3', category: null });
    for (const step of [rewrite!, search!, answer!]) {
      for (const key of Object.keys(step.props)) expect(key).toMatch(/^[a-z0-9_]+$/);
    }
  });

  it('bounds session_state: too deep or too large is a 400 before any model call', async () => {
    // Written as text: 5,000 levels are too deep for JSON.stringify itself.
    const deep = `${'['.repeat(5000)}"leaf"${']'.repeat(5000)}`;
    const large = JSON.stringify({ blob: 'é'.repeat(40_000) });
    for (const [route, state] of [['chat', deep], ['chat/stream', deep], ['chat', large]] as const) {
      const response = await post(route, `{"messages":[{"role":"user","content":"deductible"}],"session_state":${state}}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as Json).error.message).toMatch(/session_state/);
    }
    expect(model.requests).toHaveLength(0);
    const fine = (await (await post('chat', ask('deductible', {}, { session_state: { a: [[[1]]], id: 'x' } }))).json()) as Json;
    expect(fine.session_state).toEqual({ a: [[[1]]], id: 'x' });
  });

  it('bounds the text of a request by MAX_BODY_BYTES, whatever room images would have', async () => {
    // 40 messages of 60,000 characters: 2.4 MB of text, under the old limit that counted image room for text.
    const messages = Array.from({ length: 40 }, (_, index) => ({ role: index % 2 === 0 ? 'user' : 'assistant', content: `${index} ${'lorem ipsum dolor '.repeat(3_333)}` }));
    messages.push({ role: 'user', content: 'What is my deductible?' });
    const response = await post('chat', { messages });
    expect(response.status).toBe(413);
    expect(((await response.json()) as Json).error.message).toMatch(/MAX_BODY_BYTES/);
    expect(model.requests).toHaveLength(0);
  });

  it('attaches a valid image to the latest user turn', async () => {
    model.responder = () => ({ content: 'a cat' });
    const response = await post('chat', ask('What is in this picture?', { retrieval_mode: 'none' }, { context: { file: png, overrides: { retrieval_mode: 'none' } } }));
    expect(response.status).toBe(200);
    const content = model.chatBodies()[0]?.messages.at(-1)?.content as Json[];
    expect(content[1]).toMatchObject({ type: 'image_url', image_url: { url: png } });
  });

  it('keeps a long conversation within the history budget', async () => {
    const messages = Array.from({ length: 400 }, (_, index) => ({ role: index % 2 === 0 ? 'user' : 'assistant', content: `message ${index} ${'word '.repeat(50)}` }));
    messages.push({ role: 'user', content: 'What is my deductible?' });
    const response = await post('chat', { messages, context: { overrides: { retrieval_mode: 'none' } } });
    expect(response.status).toBe(200);
    const sent = model.chatBodies()[0]!.messages;
    expect(sent.length).toBeLessThan(messages.length);
    expect(textOf(sent.at(-1)?.content)).toBe('What is my deductible?');
  });
});

describe('bad requests are refused before any model call, on both routes', () => {
  const bad: [string, unknown, number][] = [
    ['invalid JSON', '{"messages":', 400],
    ['no messages', { messages: [] }, 400],
    ['last message not from the user', { messages: [{ role: 'assistant', content: 'hi' }] }, 400],
    ['unknown role', { messages: [{ role: 'wizard', content: 'hi' }] }, 400],
    ['bad override type', ask('hi', { top: 'many' }), 400],
    ['top over the limit', ask('hi', { top: 1000 }), 400],
    ['unknown retrieval mode', ask('hi', { retrieval_mode: 'psychic' }), 400],
    ['vectors without an embedding model', ask('hi', { retrieval_mode: 'vectors' }), 400],
    ['an image that is not one', { messages: [{ role: 'user', content: 'x' }], context: { file: `data:image/png;base64,${Buffer.from('not a png').toString('base64')}` } }, 400],
    ['an image whose type lies', { messages: [{ role: 'user', content: 'x' }], context: { file: png.replace('png', 'gif') } }, 400],
    ['a remote image URL', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://169.254.169.254/x.png' } }] }] }, 400],
    ['an oversized image', { messages: [{ role: 'user', content: 'x' }], context: { file: `data:image/png;base64,${Buffer.concat([PNG, Buffer.alloc(5 * 1024 * 1024)]).toString('base64')}` } }, 413],
    ['a question over 32,000 characters', ask('x'.repeat(32_001)), 413],
  ];
  for (const route of ['chat', 'chat/stream']) {
    it.each(bad)(`${route}: %s`, async (_label, body, status) => {
      const response = await post(route, body);
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(((await response.json()) as Json).error.code).toMatch(/invalid_request|payload_too_large/);
      expect(model.requests).toHaveLength(0);
    });
  }
});

describe('POST /api/chat/stream', () => {
  it('streams the context first, content deltas, then follow-ups and usage', async () => {
    const response = await post('chat/stream', ask('What is my deductible?', { suggest_followup_questions: true }, { session_state: 's1' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = await ndjson(response);
    const [first, ...rest] = lines;
    const last = rest.at(-1)!;
    expect(first).toMatchObject({ delta: { role: 'assistant' }, session_state: 's1' });
    expect(first!.context.data_points.citations[0]).toBe('kestrel-health-select.pdf#page=3');
    expect(first!.context.thoughts).toHaveLength(4);
    const content = rest.slice(0, -1).map((line) => line.delta.content as string).join('');
    expect(content).toBe('The answer is here [kestrel-health-select.pdf#page=3] and not here.');
    expect(content).not.toContain('<<');
    expect(last).toMatchObject({ delta: { role: 'assistant' }, context: { followup_questions: ['What next?', 'And then?'] } });
    expect(last.context.thoughts[3].props.usage.total_tokens).toBeGreaterThan(0);
  });

  it('never streams follow-up markers split across deltas', async () => {
    model.responder = (body) =>
      body.tools?.length ? { content: '0' } : { chunks: ['Covered', ' [kestrel-health-select.pdf#', 'page=7]. <', '<Is dental', ' covered?>', '>'] };
    const lines = await ndjson(await post('chat/stream', ask('eye exams', { suggest_followup_questions: true })));
    const content = lines.filter((line) => line.delta?.content != null).map((line) => line.delta.content as string);
    expect(content.join('')).toBe('Covered [kestrel-health-select.pdf#page=7].');
    expect(content.some((piece) => piece.includes('<'))).toBe(false);
    expect(lines.at(-1)?.context.followup_questions).toEqual(['Is dental covered?']);
  });

  it('ends with an error line when the model stream breaks off', async () => {
    model.responder = (body) => (body.tools?.length ? { content: '0' } : { content: 'one two three four five' });
    model.enqueue({ kind: 'reply', reply: { content: '0' } });
    model.enqueue({ kind: 'cut', afterChunks: 2 });
    const response = await post('chat/stream', ask('deductible'));
    expect(response.status).toBe(200);
    const lines = await ndjson(response);
    expect(lines.at(-1)).toMatchObject({ error: { code: 'model_error' } });
  });

  it('answers a throttled model with a real 429 before the stream starts', async () => {
    model.enqueue({ kind: 'error', status: 429, headers: { 'retry-after': '0' } }, 2);
    const response = await post('chat/stream', ask('deductible'));
    expect(response.status).toBe(429);
    expect(((await response.json()) as Json).error.code).toBe('rate_limited');
  });
});

describe('multipart/form-data', () => {
  it('accepts the protocol multipart variant with an image file on the last message', async () => {
    model.responder = () => ({ content: 'an image' });
    const form = new FormData();
    form.append('json', new Blob([JSON.stringify(ask('What is this?', { retrieval_mode: 'none' }))], { type: 'application/json' }));
    form.append('messages[0].files[0]', new Blob([PNG], { type: 'image/png' }), 'cat.png');
    const response = await fetch(`${app.baseUrl}/chat`, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    const content = model.chatBodies()[0]?.messages.at(-1)?.content as Json[];
    expect(content.some((part) => part.type === 'image_url')).toBe(true);
  });

  it('refuses a non-image file', async () => {
    const form = new FormData();
    form.append('json', JSON.stringify(ask('What is this?', { retrieval_mode: 'none' })));
    form.append('messages[0].files[0]', new Blob([Buffer.from('%PDF-1.7')]), 'doc.pdf');
    const response = await fetch(`${app.baseUrl}/chat`, { method: 'POST', body: form });
    expect(response.status).toBe(400);
    expect(model.requests).toHaveLength(0);
  });
});

describe('the official AI Chat Protocol client', () => {
  it('works with getCompletion and getStreamedCompletion', async () => {
    const client = new AIChatProtocolClient(`${app.baseUrl}/chat`);
    const completion = await client.getCompletion([{ role: 'user', content: 'What is my deductible?' }], { sessionState: 'x' });
    expect(completion.message.content).toContain('[kestrel-health-select.pdf#page=3]');
    expect(completion.sessionState).toBe('x');
    const deltas: string[] = [];
    for await (const delta of await client.getStreamedCompletion([{ role: 'user', content: 'What is my deductible?' }])) {
      if (delta.delta.content != null) deltas.push(delta.delta.content);
    }
    expect(deltas.join('')).toContain('[kestrel-health-select.pdf#page=3]');
  });

  // The client sends `files` as multipart/form-data with `content-disposition: form-data; name=json` (unquoted).
  it('sends a real File with getCompletion and getStreamedCompletion: the model sees the image, citations come back', async () => {
    const client = new AIChatProtocolClient(`${app.baseUrl}/chat`);
    const photo = new File([PNG], 'receipt.png', { type: 'image/png' });
    const messages = [{ role: 'user' as const, content: 'What is my deductible?', files: [{ contentType: 'image/png', data: photo }] }];
    const imagesSeen = () => model.chatBodies().flatMap((body) => (Array.isArray(lastUser(body)?.content) ? (lastUser(body)?.content as Json[]) : [])).filter((part) => part.type === 'image_url');

    const completion = await client.getCompletion(messages, { sessionState: { turn: 1 }, context: { overrides: { top: 3 } } });
    const context = completion.context as { data_points: { citations: string[]; text: string[] }; thoughts: unknown[] };
    expect(completion.message).toMatchObject({ role: 'assistant', content: expect.stringContaining('[kestrel-health-select.pdf#page=3]') });
    expect(context.data_points.citations).toContain('kestrel-health-select.pdf#page=3');
    expect(context.data_points.citations.length).toBeLessThanOrEqual(3);
    expect(completion.sessionState).toEqual({ turn: 1 });
    expect(imagesSeen()[0]?.image_url.url).toBe(png);

    model.reset();
    model.responder = ragResponder;
    const deltas: { delta: { content?: string }; context?: Json }[] = [];
    for await (const delta of await client.getStreamedCompletion(messages)) deltas.push(delta);
    expect(deltas[0]?.context?.data_points.citations).toContain('kestrel-health-select.pdf#page=3');
    expect(deltas.map((delta) => delta.delta.content ?? '').join('')).toContain('[kestrel-health-select.pdf#page=3]');
    expect(imagesSeen()).toHaveLength(1);
  });
});

describe('REQUIRE_ACCESS_CONTROL and RAG_SYSTEM_PROMPT', () => {
  let strict: RunningApp;
  beforeAll(async () => {
    strict = await startApp({
      OPENAI_BASE_URL: model.url,
      CHAT_MODEL_DEPLOYMENT_NAME: 'test-model',
      INGEST_SAMPLE_DATA: 'true',
      REQUIRE_ACCESS_CONTROL: 'true',
      TRUST_CLIENT_PRINCIPAL: 'true',
      RAG_SYSTEM_PROMPT: 'You answer from the Fabrikam engineering wiki only.',
    });
    await waitForSampleCorpus(strict);
  }, 120_000);
  afterAll(async () => {
    await strict?.stop();
  });

  it('always filters by the trusted identity, whatever the overrides say', async () => {
    const groups = Buffer.from(JSON.stringify({ claims: [{ typ: 'groups', val: 'g-1' }] })).toString('base64');
    const headers = { 'x-ms-client-principal-id': 'alice', 'x-ms-client-principal': groups };
    const response = await fetch(`${strict.baseUrl}/chat`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(ask('What is my deductible?', { use_oid_security_filter: false, use_groups_security_filter: false })),
    });
    const body = (await response.json()) as Json;
    expect(response.status).toBe(200);
    expect(body.context.thoughts[1].props).toMatchObject({ oids: ['alice'], groups: ['g-1'], access_control_enforced: true });
    // The sample documents carry no access lists, so nobody sees them under enforced filters.
    expect(body.context.data_points.citations).toEqual([]);
    expect(strict.output()).toContain('Sample data indexed');
  });

  it('uses the deployment prompt instead of the generic one', async () => {
    model.responder = () => ({ content: 'ok' });
    await fetch(`${strict.baseUrl}/chat`, { method: 'POST', body: JSON.stringify(ask('hello', { retrieval_mode: 'none' })) });
    const system = String(model.chatBodies()[0]?.messages[0]?.content);
    expect(system).toBe('You answer from the Fabrikam engineering wiki only.');
  });
});
