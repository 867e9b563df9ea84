// The bounded tool loop of a chat turn: model → tool calls (run in parallel) → model ... until the model
// answers, a client tool must run (the turn pauses), or CHAT_MAX_TOOL_ROUNDS model calls were made.
// Every assistant message with tool calls gets one tool message per call: nothing is left orphaned.
import { modelError } from '../http/errors.js';
import { AnswerFilter } from '../rag/answer-filter.js';
import { keepValidCitations } from '../rag/citations.js';
import { messageTokens } from '../model/tokens.js';
import type { ChatMessage, Completion, CompletionRequest, ModelClient, ToolCall, ToolDefinition, Usage } from '../model/types.js';
import { skillTool } from './registry.js';
import { runToolCalls, type RunCallsOptions } from './run-calls.js';
import type { Skill } from './types.js';

/** Most tool calls of one model message that run; more are dropped (and logged), so a turn's rows stay bounded. */
export const MAX_CALLS_PER_MESSAGE = 16;
/** Bytes one tool round can add at most: every call's result at its cap, in UTF-8, plus the arguments. */
const ROUND_BYTES = MAX_CALLS_PER_MESSAGE * (16_000 * 3 + 2_000);

/** A message the turn stores: the loop's assistant and tool messages (tokens counted once, here). */
export interface LoopMessage {
  role: 'assistant' | 'tool';
  content: string;
  tokens: number;
  toolCalls?: ToolCall[];
  toolCallId?: string;
  /** Sources the turn retrieved, kept with the final reply. */
  sources?: string[];
}

export type LoopEvent =
  | { type: 'delta'; content: string }
  | { type: 'tool_call'; data: { id: string; name: string; runsOn: 'server' | 'client' } }
  | { type: 'tool_result'; data: { id: string; name: string; ok: boolean; error?: string; durationMs: number; content?: string } }
  | { type: 'message'; message: LoopMessage }
  | { type: 'end'; end: LoopEnd };

export type LoopEnd =
  | { kind: 'answer'; reply: string; finishReason: string | null; usage: Usage; modelCalls: number; sources?: string[] }
  | { kind: 'pause'; pending: ToolCall[]; usage: Usage; modelCalls: number; roundsUsed: number; sources?: string[] };

export interface ToolLoopInput {
  model: ModelClient;
  /** The window: system message, history and the new user message or the tool outputs just posted. */
  prompt: ChatMessage[];
  skills: ReadonlyMap<string, Skill>;
  clientTools: ToolDefinition[];
  maxRounds: number;
  /** Model calls this turn already made before it paused for client tools. */
  roundsUsed: number;
  stream: boolean;
  maxTokens: number;
  temperature?: number;
  signal?: AbortSignal;
  /** Sources retrieved earlier in this turn (before a pause); undefined when nothing was retrieved. */
  sources?: string[];
  run: Omit<RunCallsOptions, 'skills' | 'signal'>;
  /** What one commit still holds: rows and bytes. The loop answers without tools before it could overflow. */
  budget: { rows: number; bytes: number };
}

/** Tool results shown in SSE events only when they are this small: events carry names and ids, not data. */
const SMALL_RESULT_CHARS = 200;

/** A 400 whose reason is about tools: the server or model cannot do function calling (Ollama, vLLM without a parser). */
function refusesTools(error: unknown): boolean {
  const cause: unknown = error instanceof Error ? error.cause : undefined;
  if (typeof cause !== 'object' || cause == null) return false;
  const status = 'status' in cause ? cause.status : undefined;
  const message = 'message' in cause && typeof cause.message === 'string' ? cause.message : '';
  return status === 400 && /\btools?\b|tool[ _]choice|function[ _]call/i.test(message);
}

function addUsage(total: Usage, usage: Usage | undefined): Usage {
  if (usage == null) return total;
  return {
    promptTokens: total.promptTokens + usage.promptTokens,
    completionTokens: total.completionTokens + usage.completionTokens,
    // The state's totalTokens is the latest call's total (the OpenAI extension's meaning).
    totalTokens: usage.totalTokens,
  };
}

/** One model call; streamed deltas are yielded (through the citation filter when the turn retrieved sources). */
async function* callModel(
  input: ToolLoopInput,
  request: CompletionRequest,
  sources: string[] | undefined,
): AsyncGenerator<LoopEvent, Completion> {
  if (!input.stream) {
    const completion = await input.model.complete(request);
    return completion;
  }
  const filter = sources == null ? undefined : new AnswerFilter(new Set(sources));
  let content = '';
  for await (const event of input.model.stream(request)) {
    if (event.type === 'delta') {
      content += event.content;
      const text = filter == null ? event.content : filter.push(event.content);
      if (text !== '') yield { type: 'delta', content: text };
    } else {
      const rest = filter?.finish().text ?? '';
      if (rest !== '') yield { type: 'delta', content: rest };
      return { content, finishReason: event.finishReason, usage: event.usage, toolCalls: event.toolCalls };
    }
  }
  throw modelError('The model stream ended before the answer was complete.');
}

/** Calls the model, and once without tools when the model says it has no tool support. */
async function* callWithTools(input: ToolLoopInput, request: CompletionRequest, sources: string[] | undefined): AsyncGenerator<LoopEvent, Completion> {
  if (request.tools == null) return yield* callModel(input, request, sources);
  try {
    return yield* callModel(input, request, sources);
  } catch (error: unknown) {
    // Not remembered per process: the deployment behind a name can change (Ollama pulls a new template).
    if (!refusesTools(error)) throw error;
    input.run.log(`Model "${input.model.chatModel}" does not support tools; this turn answers without them.`);
    const { tools: _tools, toolChoice: _choice, ...plain } = request;
    return yield* callModel(input, plain, sources);
  }
}

const capReply = (rounds: number) =>
  `I stopped before finishing: this turn reached its limit of ${rounds} model calls (CHAT_MAX_TOOL_ROUNDS). ` +
  'Ask me to continue, or narrow the request.';

function toolMessage(call: ToolCall, content: string): LoopMessage {
  return { role: 'tool', content, tokens: messageTokens(content), toolCallId: call.id };
}

/** The assistant message as the model sees it again in the next round (content null with calls, as OpenAI sends it). */
export function assistantCallMessage(content: string, calls: ToolCall[]): ChatMessage {
  return {
    role: 'assistant',
    content: content === '' ? null : content,
    tool_calls: calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
  };
}

export function byteSize(message: LoopMessage): number {
  return Buffer.byteLength(message.content) + Buffer.byteLength(JSON.stringify(message.toolCalls ?? [])) + 200;
}

export async function* toolLoop(input: ToolLoopInput): AsyncGenerator<LoopEvent> {
  const tools: ToolDefinition[] = [...[...input.skills.values()].map(skillTool), ...input.clientTools];
  const clientNames = new Set(input.clientTools.flatMap((tool) => (tool.type === 'function' ? [tool.function.name] : [])));
  const prompt = [...input.prompt];
  let usage: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  let rounds = input.roundsUsed;
  let calls = 0;
  let sources = input.sources;
  let { rows, bytes } = input.budget;
  for (;;) {
    const last = rounds + 1 >= input.maxRounds || rows < MAX_CALLS_PER_MESSAGE + 2 || bytes < ROUND_BYTES;
    const request: CompletionRequest = {
      messages: prompt,
      maxTokens: input.maxTokens,
      ...(input.temperature == null ? {} : { temperature: input.temperature }),
      signal: input.signal,
      ...(tools.length === 0 ? {} : { tools, toolChoice: last ? 'none' : 'auto' }),
    };
    const completion = yield* callWithTools(input, request, sources);
    rounds += 1;
    calls += 1;
    usage = addUsage(usage, completion.usage);
    const content = completion.content.trim();
    // Ollama says finish_reason "stop" even with calls: the calls decide, not the finish reason.
    if (completion.toolCalls.length === 0 || tools.length === 0) {
      if (content === '') throw modelError('The model returned an empty answer.');
      const reply = sources == null ? content : keepValidCitations(content, new Set(sources)).trim();
      yield { type: 'end', end: { kind: 'answer', reply, finishReason: completion.finishReason, usage, modelCalls: calls, ...(sources == null ? {} : { sources }) } };
      return;
    }
    if (last) {
      // The model ignored tool_choice "none" on its last allowed call: its calls are not stored (they would
      // stay unanswered); the turn ends with a reply that says why.
      input.run.log(`Turn reached CHAT_MAX_TOOL_ROUNDS=${input.maxRounds}; ${completion.toolCalls.length} further tool call(s) not run.`);
      const reply = capReply(input.maxRounds);
      if (input.stream) yield { type: 'delta', content: reply };
      yield { type: 'end', end: { kind: 'answer', reply, finishReason: 'length', usage, modelCalls: calls, ...(sources == null ? {} : { sources }) } };
      return;
    }
    const roundCalls = completion.toolCalls.slice(0, MAX_CALLS_PER_MESSAGE);
    if (roundCalls.length < completion.toolCalls.length) {
      input.run.log(`The model made ${completion.toolCalls.length} tool calls in one message; the first ${MAX_CALLS_PER_MESSAGE} run, the rest are dropped.`);
    }
    const assistant: LoopMessage = { role: 'assistant', content, tokens: messageTokens(content) + messageTokens(JSON.stringify(roundCalls)), toolCalls: roundCalls };
    yield { type: 'message', message: assistant };
    rows -= 1;
    bytes -= byteSize(assistant);
    prompt.push(assistantCallMessage(content, roundCalls));
    for (const call of roundCalls) yield { type: 'tool_call', data: { id: call.id, name: call.name, runsOn: clientNames.has(call.name) ? 'client' : 'server' } };
    const serverCalls = roundCalls.filter((call) => !clientNames.has(call.name));
    const clientCalls = roundCalls.filter((call) => clientNames.has(call.name));
    const outcomes = await runToolCalls(serverCalls, { ...input.run, skills: input.skills, signal: input.signal });
    for (const outcome of outcomes) {
      if (outcome.call.name === 'search_documents' && outcome.ok) sources = [...new Set([...(sources ?? []), ...outcome.sources])];
      const message = toolMessage(outcome.call, outcome.content);
      yield {
        type: 'tool_result',
        data: {
          id: outcome.call.id,
          name: outcome.call.name,
          ok: outcome.ok,
          ...(outcome.error == null ? {} : { error: outcome.error }),
          durationMs: outcome.durationMs,
          ...(outcome.content.length <= SMALL_RESULT_CHARS ? { content: outcome.content } : {}),
        },
      };
      yield { type: 'message', message };
      rows -= 1;
      bytes -= byteSize(message);
      prompt.push({ role: 'tool', tool_call_id: outcome.call.id, content: outcome.content });
    }
    if (clientCalls.length > 0) {
      yield { type: 'end', end: { kind: 'pause', pending: clientCalls, usage, modelCalls: calls, roundsUsed: rounds, ...(sources == null ? {} : { sources }) } };
      return;
    }
  }
}
