// Tools in stateful chats (API.md § Tools in chats), through HTTP against the built local host, Azurite and
// the fake model driven by test/support/tool-driver.ts.
import { TableClient } from '@azure/data-tables';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parseSse, startApp, uniqueName, type RunningApp } from './support/app.js';
import { echoResponder, startFakeModel, type FakeModel } from './support/fake-model.js';
import { INVENTED_CITATION, toolDriver } from './support/tool-driver.js';

let model: FakeModel;
let app: RunningApp;
const tableName = uniqueName('tooltest');
const MAX_ROUNDS = 4;
let cwd: string;
let todos: TableClient;

const env = () => ({
  OPENAI_BASE_URL: model.url,
  CHAT_MODEL_DEPLOYMENT_NAME: 'test-model',
  EMBEDDING_MODEL_DEPLOYMENT_NAME: 'test-embedding',
  CHAT_TABLE_NAME: tableName,
  CHAT_MAX_TOOL_ROUNDS: String(MAX_ROUNDS),
});

beforeAll(async () => {
  model = await startFakeModel();
  cwd = await mkdtemp(path.join(tmpdir(), 'tools-'));
  app = await startApp(env(), { cwd });
  todos = TableClient.fromConnectionString(inject('storageConnection'), `${tableName}Todos`, { allowInsecureConnection: true });
  const form = new FormData();
  form.append('file', new Blob(['# Dental\n\nDental coverage for children is included in the Kestrel plan at no extra cost.'], { type: 'text/markdown' }), 'dental.md');
  const upload = await fetch(`${app.baseUrl}/documents`, { method: 'POST', body: form });
  expect(upload.status).toBe(201);
}, 60_000);
afterAll(async () => {
  await app?.stop();
  await model?.stop();
});
beforeEach(() => {
  model.reset();
  model.responder = toolDriver(echoResponder);
  model.latencyMs = 0;
});

interface Message {
  role: string;
  content: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  toolCallId?: string;
  sources?: string[];
}
interface State {
  totalMessages: number;
  recentMessages: Message[];
  pendingToolCalls?: { id: string; name: string; arguments: string }[];
}

let counter = 0;
const newId = () => `tools-${Date.now().toString(36)}-${++counter}`;
const url = (id: string) => `${app.baseUrl}/chats/${id}`;
const put = (id: string, body: unknown) => fetch(url(id), { method: 'PUT', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
const post = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url(id), { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } });
const state = async (id: string) => (await (await fetch(url(id))).json()) as State;
const TODO_SKILLS = ['todo_add', 'todo_list', 'todo_complete'];
const WEATHER = { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };

async function created(id: string, body: unknown): Promise<void> {
  const response = await put(id, body);
  expect(response.status).toBe(202);
}

/**
 * Every tool call of every assistant message has exactly one tool message answering it, right after it (in
 * any order: a paused turn stores server results before the client's outputs, which OpenAI accepts).
 */
function expectNoOrphans(messages: Message[]): void {
  messages.forEach((message, index) => {
    if (message.toolCalls.length === 0) return;
    const answers = messages.slice(index + 1, index + 1 + message.toolCalls.length);
    expect(answers.map((answer) => answer.role)).toEqual(message.toolCalls.map(() => 'tool'));
    expect(answers.map((answer) => answer.toolCallId).sort()).toEqual(message.toolCalls.map((call) => call.id).sort());
  });
}

describe('server skills', () => {
  it('runs the extension\'s todo sample end to end: 5 messages, the reply names the item, the row is in the todo table', async () => {
    const id = newId();
    await created(id, { skills: TODO_SKILLS });
    const response = await post(id, { message: 'Add a new todo item: Buy milk' });
    expect(response.status).toBe(200);
    const reply = await response.text();
    expect(reply).toContain('Buy milk');
    const chat = await state(id);
    expect(chat.totalMessages).toBe(5);
    expect(chat.recentMessages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant']);
    const call = chat.recentMessages[2]!.toolCalls[0]!;
    expect(call.name).toBe('todo_add');
    expect(JSON.parse(call.arguments)).toEqual({ title: 'Buy milk' });
    expect(chat.recentMessages[3]!.toolCallId).toBe(call.id);
    expect(chat.recentMessages[4]!.content).toBe(reply);
    const rows = [];
    for await (const row of todos.listEntities<{ title: string; done: boolean }>({ queryOptions: { filter: `PartitionKey eq '${id}'` } })) rows.push(row);
    expect(rows.map((row) => [row.title, row.done])).toEqual([['Buy milk', false]]);
    // The model saw each skill's JSON Schema: real names, required, types.
    const [first, second] = model.chatBodies();
    const tool = first!.tools!.find((candidate) => candidate.function.name === 'todo_add') as unknown as { function: { parameters: Record<string, unknown> } };
    expect(tool.function.parameters).toMatchObject({ type: 'object', properties: { title: { type: 'string' } }, required: ['title'] });
    expect(first!.tools!.map((candidate) => candidate.function.name).sort()).toEqual([...TODO_SKILLS].sort());
    // The second call carries the assistant's call (content null, as OpenAI sends it) and the tool result.
    expect(second!.messages.slice(-2)).toMatchObject([
      { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: 'todo_add' } }] },
      { role: 'tool', tool_call_id: call.id },
    ]);
  });

  it('lists and completes todos across turns; the history window carries the earlier tool messages', async () => {
    const id = newId();
    await created(id, { skills: TODO_SKILLS });
    await post(id, { message: 'Add a new todo item: Call the dentist' });
    const todoId = JSON.parse((await state(id)).recentMessages[3]!.content).added.id as string;
    const done = await post(id, { message: `call todo_complete({"id":"${todoId}"})` });
    expect(await done.text()).toContain(`"completed":"${todoId}"`);
    const listed = await post(id, { message: 'What is on my todo list?' });
    expect(await listed.text()).toContain('"title":"Call the dentist","done":true');
    const prompt = model.chatBodies().at(-1)!.messages.map((message) => message.role);
    expect(prompt.filter((role) => role === 'tool').length).toBe(3);
    expectNoOrphans((await state(id)).recentMessages);
  });

  it('search_documents: citations validated against what the turn retrieved, and the sources kept with the reply', async () => {
    const id = newId();
    await created(id, { skills: ['search_documents'] });
    const response = await post(id, { message: 'Search the documents for dental coverage for children' });
    const reply = await response.text();
    expect(reply).toContain('[dental.md]');
    expect(reply).not.toContain(INVENTED_CITATION);
    expect(reply).toContain('Dental coverage for children');
    const final = (await state(id)).recentMessages.at(-1)!;
    expect(final.sources).toEqual(['dental.md']);
    expect(final.content).toBe(reply);
  });

  it('runs several calls of one message, and answers bad calls with results the model can correct', async () => {
    const id = newId();
    await created(id, { skills: TODO_SKILLS });
    const message = 'call todo_add({"title":"Pack (two) bags"}) call todo_add({}) call no_such_tool({"x":1}) call todo_list(not json)';
    const reply = await (await post(id, { message })).text();
    expect(model.chatBodies()).toHaveLength(2);
    const chat = await state(id);
    expect(chat.recentMessages.map((entry) => entry.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool', 'tool', 'tool', 'assistant']);
    expect(chat.recentMessages[2]!.toolCalls.map((call) => call.name)).toEqual(['todo_add', 'todo_add', 'no_such_tool', 'todo_list']);
    const results = chat.recentMessages.slice(3, 7).map((entry) => entry.content);
    expect(results[0]).toContain('"title":"Pack (two) bags"');
    expect(results[1]).toMatch(/Invalid arguments for todo_add: .*title/s);
    expect(results[2]).toContain('There is no tool named \\"no_such_tool\\"');
    expect(results[3]).toContain('not valid JSON');
    expect(reply).toContain('Pack (two) bags');
    expectNoOrphans(chat.recentMessages);
  });

  it('a failing skill becomes a tool result saying so, never a failed turn', async () => {
    const id = newId();
    await created(id, { skills: ['search_documents'] });
    // The query embedding fails (hybrid retrieval), after the SDK's retry.
    model.enqueue({ kind: 'error', status: 500 }, 5, 'embeddings');
    const response = await post(id, { message: 'Search the documents for dental coverage' });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('search_documents failed');
    expect(app.output()).toContain('Tool search_documents');
  });

  it(`stops at CHAT_MAX_TOOL_ROUNDS (${MAX_ROUNDS}) model calls with a clear reply and no orphaned call`, async () => {
    const id = newId();
    await created(id, { skills: TODO_SKILLS });
    const reply = await (await post(id, { message: 'call todo_list({}) and loop forever' })).text();
    expect(reply).toContain(`limit of ${MAX_ROUNDS} model calls (CHAT_MAX_TOOL_ROUNDS)`);
    const bodies = model.chatBodies();
    expect(bodies).toHaveLength(MAX_ROUNDS);
    expect(bodies.map((body) => body.tool_choice)).toEqual([...Array(MAX_ROUNDS - 1).fill('auto'), 'none']);
    const chat = await state(id);
    expect(chat.recentMessages.filter((entry) => entry.role === 'tool')).toHaveLength(MAX_ROUNDS - 1);
    expect(chat.recentMessages.at(-1)).toMatchObject({ role: 'assistant', content: reply, toolCalls: [] });
    expectNoOrphans(chat.recentMessages);
  });

  it('streams tool_call and tool_result events, then the reply deltas and done', async () => {
    const id = newId();
    await created(id, { skills: TODO_SKILLS });
    const response = await post(id, { message: 'Add a new todo item: Buy bread' }, { Accept: 'text/event-stream' });
    const events = parseSse(await response.text());
    const names = events.map((event) => event.event);
    expect(names[0]).toBe('tool_call');
    expect(names[1]).toBe('tool_result');
    expect(names.at(-1)).toBe('done');
    expect(names.slice(2, -1).every((name) => name === 'message')).toBe(true);
    const call = events[0]!.data as { id: string; name: string; runsOn: string };
    expect(call).toMatchObject({ name: 'todo_add', runsOn: 'server' });
    expect(events[1]!.data).toMatchObject({ id: call.id, name: 'todo_add', ok: true });
    const text = events.slice(2, -1).map((event) => (event.data as { content: string }).content).join('');
    expect(text).toContain('Buy bread');
    expect(events.at(-1)!.data).toMatchObject({ stored: true, modelCalls: 2 });
    // The arguments reached the app in 7-character pieces (OpenAI's streaming shape) and were reassembled.
    expect(JSON.parse((await state(id)).recentMessages[2]!.toolCalls[0]!.arguments)).toEqual({ title: 'Buy bread' });
  });

  it('takes Ollama\'s whole tool calls in a stream, several in one message', async () => {
    model.responder = toolDriver(echoResponder, { toolCallStyle: 'whole' });
    const id = newId();
    await created(id, { skills: TODO_SKILLS });
    const response = await post(id, { message: 'call todo_add({"title":"Oat milk"}) call todo_add({"title":"Rye bread"})' }, { Accept: 'text/event-stream' });
    const events = parseSse(await response.text());
    expect(events.filter((event) => event.event === 'tool_result').map((event) => (event.data as { ok: boolean }).ok)).toEqual([true, true]);
    const calls = (await state(id)).recentMessages[2]!.toolCalls.map((call) => JSON.parse(call.arguments));
    expect(calls).toEqual([{ title: 'Oat milk' }, { title: 'Rye bread' }]);
  });

  it('answers without tools, once, when the model has no tool support, and says so in the log', async () => {
    const id = newId();
    await created(id, { skills: TODO_SKILLS });
    // Ollama's /v1 answer for a model whose template has no tools (ollama/ollama#6027).
    model.enqueue({ kind: 'error', status: 400, body: { error: { message: 'stablelm2:latest does not support tools', type: 'api_error', param: null, code: null } } });
    const response = await post(id, { message: 'Add a new todo item: Tea' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('Echo: Add a new todo item: Tea');
    const bodies = model.chatBodies();
    expect(bodies).toHaveLength(2);
    expect(bodies[0]!.tools).toBeDefined();
    expect(bodies[1]!.tools).toBeUndefined();
    expect(app.output()).toContain('Model "test-model" does not support tools');
  });

  it('leaves a chat without tools exactly as before: no tools sent, three messages', async () => {
    const id = newId();
    await created(id, { name: 'Sample ChatBot', description: 'This is a sample chatbot.' });
    const reply = await (await post(id, { message: 'call todo_add({"title":"x"})' })).text();
    expect(reply).toBe('Echo: call todo_add({"title":"x"})');
    expect(model.chatBodies()[0]).not.toHaveProperty('tools');
    expect(model.chatBodies()[0]).not.toHaveProperty('tool_choice');
    expect((await state(id)).recentMessages.map((message) => message.role)).toEqual(['system', 'user', 'assistant']);
  });

  it('keeps both of two concurrent turns whole while their tools run', async () => {
    const id = newId();
    await created(id, { skills: TODO_SKILLS });
    model.latencyMs = 150;
    const [first, second] = await Promise.all([post(id, { message: 'Add a new todo item: First' }), post(id, { message: 'Add a new todo item: Second' })]);
    expect([first.status, second.status]).toEqual([200, 200]);
    const chat = await state(id);
    expect(chat.recentMessages.map((message) => message.role)).toEqual(['system', ...Array(2).fill(['user', 'assistant', 'tool', 'assistant']).flat()]);
    // Each turn's messages are contiguous: its tool result follows its own call.
    expectNoOrphans(chat.recentMessages);
    const titles = [chat.recentMessages[1]!.content, chat.recentMessages[5]!.content].sort();
    expect(titles).toEqual(['Add a new todo item: First', 'Add a new todo item: Second']);
  });
});

describe('client tools', () => {
  async function paused(id: string) {
    await created(id, { skills: ['todo_add'], tools: [WEATHER] });
    const response = await post(id, { message: 'call get_weather({"city":"Oslo"}) call todo_add({"title":"Umbrella"})' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    const body = (await response.json()) as { status: string; toolCalls: { id: string; name: string; arguments: string }[] };
    expect(body.status).toBe('requires_action');
    expect(body.toolCalls.map((call) => [call.name, JSON.parse(call.arguments)])).toEqual([['get_weather', { city: 'Oslo' }]]);
    return body.toolCalls[0]!;
  }

  it('pauses for the caller, runs the server skill of the same round, resumes with the outputs', async () => {
    const id = newId();
    const call = await paused(id);
    const waiting = await state(id);
    expect(waiting.pendingToolCalls).toEqual([call]);
    expect(waiting.recentMessages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(waiting.recentMessages[3]!.content).toContain('Umbrella');
    const busy = await post(id, { message: 'Hello?' });
    expect(busy.status).toBe(409);
    expect(((await busy.json()) as { error: { code: string } }).error.code).toBe('tool_outputs_required');
    const resumed = await post(id, { toolOutputs: [{ toolCallId: call.id, output: '{"forecast":"rain, 4 °C"}' }] });
    expect(resumed.status).toBe(200);
    const reply = await resumed.text();
    expect(reply).toContain('rain, 4 °C');
    expect(reply).toContain('Umbrella');
    const done = await state(id);
    expect(done.pendingToolCalls).toBeUndefined();
    expect(done.recentMessages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool', 'assistant']);
    expectNoOrphans(done.recentMessages);
    const again = await post(id, { toolOutputs: [{ toolCallId: call.id, output: 'late' }] });
    expect(again.status).toBe(409);
  });

  it('rejects bad outputs with 400 and keeps the calls pending', async () => {
    const id = newId();
    const call = await paused(id);
    const bad = [
      { toolOutputs: [{ toolCallId: 'call_unknown', output: 'x' }] },
      { toolOutputs: [] },
      { toolOutputs: [{ toolCallId: call.id, output: { forecast: 'rain' } }] },
      { toolOutputs: [{ toolCallId: call.id, output: 'a' }, { toolCallId: call.id, output: 'b' }] },
      { toolOutputs: [{ toolCallId: call.id, output: 'x' }], message: 'both' },
    ];
    for (const body of bad) {
      const response = await post(id, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    }
    expect((await state(id)).pendingToolCalls).toEqual([call]);
    expect(model.chatBodies()).toHaveLength(1);
  });

  it('gives the outputs to one of two clients posting them at once; the other gets 409', async () => {
    const id = newId();
    const call = await paused(id);
    model.latencyMs = 200;
    const outputs = { toolOutputs: [{ toolCallId: call.id, output: 'sunny' }] };
    const responses = await Promise.all([post(id, outputs), post(id, outputs)]);
    expect(responses.map((response) => response.status).sort()).toEqual([200, 409]);
    expect((await state(id)).recentMessages.filter((message) => message.role === 'tool')).toHaveLength(2);
  });

  it('streams requires_action, then ends', async () => {
    const id = newId();
    await created(id, { tools: [WEATHER] });
    const response = await post(id, { message: 'call get_weather({"city":"Bergen"})' }, { Accept: 'text/event-stream' });
    const events = parseSse(await response.text());
    expect(events.map((event) => event.event)).toEqual(['tool_call', 'requires_action']);
    expect(events[0]!.data).toMatchObject({ name: 'get_weather', runsOn: 'client' });
    expect(events[1]!.data).toMatchObject({ status: 'requires_action', toolCalls: [{ name: 'get_weather', arguments: '{"city":"Bergen"}' }] });
  });

  it('keeps pending calls across an app restart', async () => {
    const id = newId();
    const call = await paused(id);
    await app.stop();
    app = await startApp(env(), { cwd });
    const resumed = await post(id, { toolOutputs: [{ toolCallId: call.id, output: 'snow' }] });
    expect(resumed.status).toBe(200);
    expect(await resumed.text()).toContain('snow');
  }, 60_000);

  it('gives the calls back when a resume fails, so the outputs can be posted again', async () => {
    const id = newId();
    const call = await paused(id);
    model.enqueue({ kind: 'error', status: 400, body: { error: { message: 'bad request', type: 'invalid_request_error' } } });
    const failed = await post(id, { toolOutputs: [{ toolCallId: call.id, output: 'fog' }] });
    expect(failed.status).toBe(502);
    expect((await state(id)).pendingToolCalls).toEqual([call]);
    const retried = await post(id, { toolOutputs: [{ toolCallId: call.id, output: 'fog' }] });
    expect(retried.status).toBe(200);
    expect(await retried.text()).toContain('fog');
  });
});

describe('PUT validation of tools', () => {
  const cases: [string, unknown, RegExp][] = [
    ['an unknown skill', { skills: ['todo_add', 'send_email'] }, /skills\.1.*unknown skill "send_email"/],
    ['a repeated skill', { skills: ['todo_add', 'todo_add'] }, /listed twice/],
    ['a tool named like a skill', { tools: [{ type: 'function', function: { name: 'search_documents' } }] }, /name of a server skill/],
    ['two tools with one name', { tools: [WEATHER, WEATHER] }, /used by another tool/],
    ['more than 32 tools', { tools: Array.from({ length: 33 }, (_, index) => ({ type: 'function', function: { name: `tool_${index}` } })) }, /at most 32/],
    ['a bad tool name', { tools: [{ type: 'function', function: { name: 'get weather' } }] }, /1-64 characters/],
    ['a bad temperature', { model: { temperature: 3 } }, /model\.temperature/],
  ];
  it.each(cases)('400 for %s', async (_name, body, message) => {
    const response = await put(newId(), body);
    expect(response.status).toBe(400);
    const error = ((await response.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('invalid_request');
    expect(error.message).toMatch(message);
  });

  it('sends the chat\'s model overrides', async () => {
    const id = newId();
    await created(id, { model: { temperature: 0, maxOutputTokens: 77 } });
    await post(id, { message: 'hi' });
    expect(model.chatBodies()[0]).toMatchObject({ temperature: 0, max_tokens: 77 });
  });
});
