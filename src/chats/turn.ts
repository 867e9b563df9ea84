// One chat turn: window → model (and tools, bounded) → atomic commit (ARCHITECTURE § Chats on Table Storage).
import { randomUUID } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { AppError, invalidRequest, notFound, payloadTooLarge } from '../errors/index.js';
import type { StreamEvent } from '../streaming/events.js';
import { messageTokens, REPLY_PRIMING_TOKENS } from '../model/tokens.js';
import type { ChatMessage, ModelClient, ToolCall, Usage } from '../model/types.js';
import { findSkill } from '../skills/registry.js';
import { assistantCallMessage, byteSize, toolLoop, type LoopEnd, type LoopMessage } from '../skills/tool-loop.js';
import type { Skill, SkillCaller, SkillServices } from '../skills/types.js';
import { mayUse, type ChatAccess } from './access.js';
import { commitTurn, type CommitOptions, type CommitResult } from './commit.js';
import { sweepInBackground } from './lifecycle.js';
import { claimPending, releaseClaim } from './pending.js';
import { historyShape, readRecent, readState, sameHistoryShape, type HistoryShape } from './reads.js';
import { forgetState, knownState, rememberState } from './known-states.js';
import type { ChatState, NewMessage, PendingTools, StoredMessage } from './types.js';
import { chatStateView, type ChatStateView } from './view.js';
import { MAX_MESSAGE_CHARS } from '../limits.js';

/** Rows one commit may write besides the state row (a transaction holds 100 operations). */
const COMMIT_ROWS = 99;
/** Bytes one commit may carry, under the 4 MiB transaction limit with room for the envelope. */
const COMMIT_BYTES = 3_800_000;

export interface TurnLimits {
  /** CHAT_HISTORY_TOKENS: prompt budget for system message + history + new message. */
  historyTokens: number;
  maxOutputTokens: number;
  modelContextTokens: number;
}

export interface ToolSettings {
  services: SkillServices;
  /** CHAT_MAX_TOOL_ROUNDS: most model calls in one turn with tools. */
  maxRounds: number;
  /** Longest one skill call may run before its result says it timed out. */
  callTimeoutMs: number;
  log: (message: string) => void;
}

export interface TurnDependencies {
  table: TableClient;
  /** Asked for only once the chat is known to exist and the message fits. */
  model: () => Promise<ModelClient>;
  limits: TurnLimits;
  tools: ToolSettings;
  /** Who asks: someone else's chat is an unknown chat. */
  access: ChatAccess;
  /** Where background work (a resumed sweep) and unstored paid turns are reported. */
  warn: (message: string, error: unknown) => void;
  /** Where a turn that was not stored because the client left says so (not an error). */
  info: (message: string) => void;
}

export interface ToolOutput {
  toolCallId: string;
  output: string;
}

export interface TurnRequest {
  chatId: string;
  /** A new user message, or ... */
  message?: string;
  /** ... the outputs of the client tool calls the chat is waiting for. */
  toolOutputs?: ToolOutput[];
  caller?: SkillCaller;
  signal?: AbortSignal;
}

export type TurnOutcome =
  | { kind: 'reply'; reply: string; stored: boolean; state: ChatStateView; finishReason: string | null; usage: Usage | null; modelCalls: number; sources?: string[] }
  | { kind: 'requires_action'; toolCalls: ToolCall[]; stored: boolean; state: ChatStateView };

interface PreparedTurn {
  state: ChatState;
  prompt: ChatMessage[];
  /** What this request adds before the model's messages: the user message, or the posted tool outputs. */
  added: NewMessage[];
  /** Set when resuming: the claim this request holds on the pending calls. */
  claimId?: string;
  pending?: PendingTools;
  maxOutputTokens: number;
}

const toolOutputsRequired = (pending: PendingTools) =>
  new AppError(
    409,
    'tool_outputs_required',
    `This chat is waiting for the outputs of client tool calls ${pending.calls.map((call) => call.id).join(', ')}; ` +
      'post {"toolOutputs": [{"toolCallId", "output"}]} first.',
    { details: { pendingToolCalls: pending.calls } },
  );

const conflict = (message: string) => new AppError(409, 'conflict', message);

/** A stored message as the model sees it again. System messages come from the state row, not from here. */
function promptMessage(message: Pick<StoredMessage, 'role' | 'content' | 'toolCalls' | 'toolCallId'>): ChatMessage | undefined {
  if (message.role === 'user') return { role: 'user', content: message.content };
  if (message.role === 'assistant') return message.toolCalls.length > 0 ? assistantCallMessage(message.content, message.toolCalls) : { role: 'assistant', content: message.content };
  if (message.role === 'tool') return { role: 'tool', tool_call_id: message.toolCallId ?? '', content: message.content };
  return undefined;
}

/**
 * The newest history that fits `room` tokens, oldest first. Messages are dropped whole, and the window never
 * starts with a tool result whose assistant call was left out (the model would reject or misread it).
 * `keepFrom` forces the tail from that index in (a resumed turn's tool calls).
 */
export function historyWindow<M extends { role: string; tokens: number }>(history: M[], room: number, keepFrom = history.length): M[] {
  let used = history.slice(keepFrom).reduce((sum, message) => sum + message.tokens, 0);
  let first = keepFrom;
  while (first > 0 && used + history[first - 1]!.tokens <= room) {
    used += history[first - 1]!.tokens;
    first--;
  }
  while (first < keepFrom && history[first]?.role === 'tool') first++;
  return history.slice(first);
}

function checkOutputs(outputs: ToolOutput[], pending: PendingTools): void {
  const expected = new Set(pending.calls.map((call) => call.id));
  const seen = new Set<string>();
  for (const [index, output] of outputs.entries()) {
    if (!expected.has(output.toolCallId)) {
      throw invalidRequest(`toolOutputs[${index}].toolCallId: "${output.toolCallId}" is not a pending call of this chat; pending: ${[...expected].join(', ')}.`);
    }
    if (seen.has(output.toolCallId)) throw invalidRequest(`toolOutputs[${index}].toolCallId: "${output.toolCallId}" is given twice.`);
    seen.add(output.toolCallId);
  }
  const missing = [...expected].filter((id) => !seen.has(id));
  if (missing.length > 0) throw invalidRequest(`toolOutputs: outputs for ${missing.join(', ')} are missing; post one output per pending call.`);
}

/** The prompt tokens a turn needs before any history, its output allowance, and the room left for history. */
function historyRoom(limits: TurnLimits, systemTokens: number, chatMaxOutputTokens: number | undefined, addedTokens: number) {
  const maxOutputTokens = chatMaxOutputTokens ?? limits.maxOutputTokens;
  const required = REPLY_PRIMING_TOKENS + addedTokens + systemTokens;
  const budget = Math.min(limits.historyTokens, limits.modelContextTokens - maxOutputTokens);
  return { required, maxOutputTokens, room: Math.max(0, budget - required) };
}

/**
 * The history read a new message would make if the chat is still as this process last wrote it, started
 * now, beside the state read; used only when the fresh state agrees (known-states.ts).
 */
function readAhead(deps: TurnDependencies, chatId: string, messageTokens: number): { shape: HistoryShape; room: number; rows: Promise<StoredMessage[]> } | undefined {
  const known = knownState(deps.table.tableName, chatId);
  if (known == null || known.pending) return undefined;
  const { required, maxOutputTokens, room } = historyRoom(deps.limits, known.systemTokens, known.maxOutputTokens, messageTokens);
  if (required + maxOutputTokens > deps.limits.modelContextTokens) return undefined;
  const rows = readRecent(deps.table, known.shape, room);
  // Not awaited when the guess was wrong (or the state read failed): its failure is then nobody's business.
  rows.catch(() => undefined);
  return { shape: known.shape, room, rows };
}

/** Reads the state row and only as much recent history as the token budget takes. 400, 404, 409 and 413 happen here. */
async function prepare(deps: TurnDependencies, request: TurnRequest): Promise<PreparedTurn> {
  if (request.message != null && request.message.length > MAX_MESSAGE_CHARS) {
    throw payloadTooLarge(`message: must be at most ${MAX_MESSAGE_CHARS.toLocaleString('en-US')} characters.`);
  }
  for (const [index, output] of (request.toolOutputs ?? []).entries()) {
    if (output.output.length > MAX_MESSAGE_CHARS) throw payloadTooLarge(`toolOutputs[${index}].output: must be at most ${MAX_MESSAGE_CHARS.toLocaleString('en-US')} characters.`);
  }
  // A new message's history can be read while the state row is (its tokens are known before either read).
  const userMessage: NewMessage | undefined = request.toolOutputs == null ? { role: 'user', content: request.message ?? '', tokens: messageTokens(request.message ?? '') } : undefined;
  const early = userMessage == null ? undefined : readAhead(deps, request.chatId, userMessage.tokens);
  // One read decides existence, ownership and the ETag the commit is conditional on.
  let state = await readState(deps.table, request.chatId);
  if (state == null || !mayUse(state, deps.access)) throw notFound(`Chat "${request.chatId}" does not exist; create it with PUT /api/chats/${request.chatId}.`);
  if (state.sweepPending) {
    const chatId = state.chatId;
    void sweepInBackground(deps.table, chatId, (error) => deps.warn(`Sweeping old rows of chat ${chatId} failed:`, error));
  }
  let added: NewMessage[];
  let claimId: string | undefined;
  const pending = state.pending;
  if (request.toolOutputs == null) {
    if (pending != null) throw toolOutputsRequired(pending);
    added = [userMessage!];
  } else {
    if (pending == null) throw conflict('This chat is not waiting for tool outputs: they were already posted, or no client tool was called.');
    checkOutputs(request.toolOutputs, pending);
    const outputs = new Map(request.toolOutputs.map((output) => [output.toolCallId, output.output]));
    added = pending.calls.map((call): NewMessage => {
      const content = outputs.get(call.id) ?? '';
      return { role: 'tool', content, tokens: messageTokens(content), toolCallId: call.id };
    });
    claimId = randomUUID();
    const claimed = await claimPending(deps.table, state, claimId);
    if (claimed.kind !== 'claimed') throw conflict('Another request is already posting the outputs of these tool calls, or they were posted already.');
    state = claimed.state;
  }
  try {
    const system = state.instructions == null ? [] : [{ role: 'system' as const, content: state.instructions, tokens: state.instructionTokens ?? messageTokens(state.instructions) }];
    const { required, maxOutputTokens, room } = historyRoom(deps.limits, system[0]?.tokens ?? 0, state.tools.maxOutputTokens, added.reduce((sum, message) => sum + message.tokens, 0));
    if (required + maxOutputTokens > deps.limits.modelContextTokens) {
      const { modelContextTokens } = deps.limits;
      throw payloadTooLarge(
        `${request.toolOutputs == null ? 'message' : 'toolOutputs'}: with the instructions it needs ${required} prompt tokens; the model's context (MODEL_CONTEXT_TOKENS=${modelContextTokens}) ` +
          `leaves ${modelContextTokens - maxOutputTokens} after MAX_OUTPUT_TOKENS=${maxOutputTokens}.`,
      );
    }
    const shape = historyShape(state);
    const rows = early != null && early.room === room && sameHistoryShape(early.shape, shape) ? early.rows : readRecent(deps.table, shape, room);
    const history = (await rows).filter((message) => message.role !== 'system');
    // A resumed turn's own tool calls stay in the window whatever the budget: outputs without them mean nothing.
    const callIndex = pending == null || request.toolOutputs == null ? history.length : history.findLastIndex((message) => message.toolCalls.some((call) => call.id === pending.calls[0]?.id));
    const window = historyWindow(history, room, callIndex < 0 ? history.length : callIndex);
    const prompt = [...system, ...window, ...added].flatMap((message) => {
      if (message.role === 'system') return [{ role: 'system' as const, content: message.content }];
      const converted = promptMessage({ role: message.role, content: message.content, toolCalls: 'toolCalls' in message ? (message.toolCalls ?? []) : [], toolCallId: message.toolCallId });
      return converted == null ? [] : [converted];
    });
    return { state, prompt, added, maxOutputTokens, ...(claimId == null ? {} : { claimId }), ...(pending == null ? {} : { pending }) };
  } catch (error: unknown) {
    if (claimId != null) await releaseClaim(deps.table, state);
    throw error;
  }
}

function skillsOf(state: ChatState): Map<string, Skill> {
  return new Map(state.tools.skills.flatMap((name) => {
    const skill = findSkill(name);
    return skill == null ? [] : [[name, skill] as const];
  }));
}

async function commit(deps: TurnDependencies, prepared: PreparedTurn, produced: LoopMessage[], end: LoopEnd): Promise<CommitResult> {
  const messages: NewMessage[] = [...prepared.added, ...produced];
  if (end.kind === 'answer') {
    messages.push({ role: 'assistant', content: end.reply, tokens: messageTokens(end.reply), ...(end.sources == null ? {} : { sources: end.sources }) });
  }
  const paused: PendingTools | undefined =
    end.kind === 'pause' ? { calls: end.pending, rounds: end.roundsUsed, ...(end.sources == null ? {} : { sources: end.sources }) } : undefined;
  const options: CommitOptions = {
    // Set pending calls when pausing; clear them when a resumed turn ends.
    ...(paused != null || prepared.claimId != null ? { pending: { set: paused } } : {}),
    canAppend: prepared.claimId == null ? (current) => current.pending == null : (current) => current.pending?.claim?.id === prepared.claimId,
  };
  return commitTurn(deps.table, prepared.state, messages, end.usage, options);
}

type TurnEvent = StreamEvent | { type: 'outcome'; outcome: TurnOutcome };

/** The turn itself; `stream` decides whether the model is called streaming (and deltas are yielded). */
async function* runTurn(deps: TurnDependencies, request: TurnRequest, stream: boolean): AsyncGenerator<TurnEvent> {
  const prepared = await prepare(deps, request);
  let settled = false;
  let logged = false;
  try {
    const model = await deps.model();
    const { state } = prepared;
    const skills = skillsOf(state);
    const produced: LoopMessage[] = [];
    const budgetBytes = COMMIT_BYTES - prepared.added.reduce((sum, message) => sum + byteSize({ ...message, role: 'tool' }), 0);
    let end: LoopEnd | undefined;
    for await (const event of toolLoop({
      model,
      prompt: prepared.prompt,
      skills,
      clientTools: state.tools.clientTools,
      maxRounds: deps.tools.maxRounds,
      roundsUsed: prepared.pending?.rounds ?? 0,
      stream,
      maxTokens: prepared.maxOutputTokens,
      ...(state.tools.temperature == null ? {} : { temperature: state.tools.temperature }),
      signal: request.signal,
      ...(prepared.pending?.sources == null ? {} : { sources: prepared.pending.sources }),
      run: {
        context: { chatId: request.chatId, caller: request.caller ?? { groups: [] }, services: deps.tools.services },
        timeoutMs: deps.tools.callTimeoutMs,
        log: deps.tools.log,
      },
      budget: { rows: COMMIT_ROWS - prepared.added.length - 1, bytes: budgetBytes },
    })) {
      if (event.type === 'message') produced.push(event.message);
      else if (event.type === 'end') end = event.end;
      else if (stream) yield event;
    }
    if (end == null) throw new Error('tool loop ended without an outcome');
    // Nobody is waiting for this answer any more: keep the chat as it was.
    if (request.signal?.aborted) {
      deps.info(clientLeft(request.chatId));
      logged = true;
      const view = chatStateView(request.chatId, prepared.state, []);
      yield { type: 'outcome', outcome: end.kind === 'answer' ? { kind: 'reply', reply: end.reply, stored: false, state: view, finishReason: end.finishReason, usage: end.usage, modelCalls: end.modelCalls } : { kind: 'requires_action', toolCalls: end.pending, stored: false, state: view } };
      return;
    }
    const result = await commit(deps, prepared, produced, end);
    settled = result.kind === 'committed';
    if (result.kind === 'committed') rememberState(deps.table.tableName, result.state);
    else forgetState(deps.table.tableName, request.chatId);
    if (result.kind === 'failed') deps.warn(`The turn on chat ${request.chatId} was answered but could not be stored:`, result.error);
    const stored = result.kind === 'committed';
    const view = result.kind === 'committed' ? chatStateView(request.chatId, result.state, result.messages) : chatStateView(request.chatId, result.state, []);
    if (end.kind === 'pause') {
      yield { type: 'outcome', outcome: { kind: 'requires_action', toolCalls: end.pending, stored, state: view } };
    } else {
      yield {
        type: 'outcome',
        outcome: { kind: 'reply', reply: end.reply, stored, state: view, finishReason: end.finishReason, usage: end.usage, modelCalls: end.modelCalls, ...(end.sources == null ? {} : { sources: end.sources }) },
      };
    }
  } finally {
    if (!settled && !logged && request.signal?.aborted === true) deps.info(clientLeft(request.chatId));
    // A resume that failed (model error, client gone) gives its claim back: the outputs can be posted again.
    if (!settled && prepared.claimId != null) await releaseClaim(deps.table, prepared.state);
  }
}

const clientLeft = (chatId: string) => `The turn on chat ${chatId} was not stored: the client went away.`;

/** A turn answered in one piece. A failed model call throws and writes nothing. */
export async function chatTurn(deps: TurnDependencies, request: TurnRequest): Promise<TurnOutcome> {
  for await (const event of runTurn(deps, request, false)) {
    if (event.type === 'outcome') return event.outcome;
  }
  throw new Error('turn ended without an outcome');
}

/** The body of a paused turn (API.md § Tools in chats). */
export function requiresActionBody(toolCalls: ToolCall[], stored: boolean): Record<string, unknown> {
  return { status: 'requires_action', toolCalls, ...(stored ? {} : { stored: false }) };
}

/**
 * A turn as stream events: content deltas as the model produces them, tool_call / tool_result as tools run,
 * then `done` carrying the finish reason, usage and the chat state — or `requires_action` when a client tool
 * must run. The turn is committed only after the model finished and only while the consumer is still
 * reading: a client that disconnects stops the generator at its next `yield`, before the commit.
 */
export async function* chatTurnEvents(deps: TurnDependencies, request: TurnRequest): AsyncGenerator<StreamEvent> {
  for await (const event of runTurn(deps, request, true)) {
    if (event.type !== 'outcome') {
      yield event;
      continue;
    }
    const { outcome } = event;
    if (outcome.kind === 'requires_action') {
      yield { type: 'requires_action', data: requiresActionBody(outcome.toolCalls, outcome.stored) };
      return;
    }
    if (!outcome.stored && request.signal?.aborted) return;
    yield {
      type: 'done',
      data: {
        finishReason: outcome.finishReason,
        usage: outcome.usage,
        stored: outcome.stored,
        ...(outcome.modelCalls > 1 ? { modelCalls: outcome.modelCalls } : {}),
        ...(outcome.sources == null ? {} : { sources: outcome.sources }),
        state: outcome.state,
      },
    };
  }
}
