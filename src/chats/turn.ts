// One chat turn: window → model → atomic commit (ARCHITECTURE § Chats on Table Storage).
import type { TableClient } from '@azure/data-tables';
import { notFound, payloadTooLarge } from '../http/errors.js';
import type { StreamEvent } from '../http/streams.js';
import { fitHistory, messageTokens, REPLY_PRIMING_TOKENS } from '../model/tokens.js';
import type { ChatMessage, ModelClient, Usage } from '../model/types.js';
import { mayUse, type ChatAccess } from './access.js';
import { commitTurn, newTurnId, type CommitResult } from './commit.js';
import { sweepInBackground } from './lifecycle.js';
import { readRecent, readState } from './reads.js';
import type { ChatState, NewMessage } from './types.js';
import { chatStateView, type ChatStateView } from './view.js';

/** Longest user message or instructions, in UTF-16 code units; longer ones are 413 before the model is called. */
export const MAX_MESSAGE_CHARS = 100_000;

export interface TurnLimits {
  /** CHAT_HISTORY_TOKENS: prompt budget for system message + history + new message. */
  historyTokens: number;
  maxOutputTokens: number;
  modelContextTokens: number;
}

export interface TurnDependencies {
  table: TableClient;
  /** Asked for only once the chat is known to exist and the message fits. */
  model: () => Promise<ModelClient>;
  limits: TurnLimits;
  /** Who asks: someone else's chat is an unknown chat. */
  access: ChatAccess;
  /** Where background work (a resumed sweep) reports a failure. */
  warn: (message: string, error: unknown) => void;
  /** Where a turn that was not stored says so (a client that went away is not an error). */
  info: (message: string) => void;
}

export interface TurnRequest {
  chatId: string;
  message: string;
  signal?: AbortSignal;
}

export interface TurnOutcome {
  reply: string;
  /**
   * False when the client went away, the chat was reset or deleted while the model answered, or storage kept
   * failing (the reply is still answered: API.md, a paid reply is never lost).
   */
  stored: boolean;
  state: ChatStateView;
}

interface PreparedTurn {
  state: ChatState;
  prompt: ChatMessage[];
  user: NewMessage;
}

interface WindowMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  tokens: number;
}

/** Reads the state row and only as much recent history as the token budget takes. 404 and 413 happen here. */
async function prepare(deps: TurnDependencies, request: TurnRequest): Promise<PreparedTurn> {
  if (request.message.length > MAX_MESSAGE_CHARS) {
    throw payloadTooLarge(`message: must be at most ${MAX_MESSAGE_CHARS.toLocaleString('en-US')} characters.`);
  }
  // One read decides everything: existence, ownership, and the ETag the commit is conditional on.
  const state = await readState(deps.table, request.chatId);
  if (state == null || !mayUse(state, deps.access)) {
    throw notFound(`Chat "${request.chatId}" does not exist; create it with PUT /api/chats/${request.chatId}.`);
  }
  if (state.sweepPending) void sweepInBackground(deps.table, state.chatId, (error) => deps.warn(`Sweeping old rows of chat ${state.chatId} failed:`, error));
  const { historyTokens, maxOutputTokens, modelContextTokens } = deps.limits;
  const user: NewMessage = { role: 'user', content: request.message, tokens: messageTokens(request.message) };
  const system: WindowMessage[] = state.instructions == null ? [] : [{ role: 'system', content: state.instructions, tokens: messageTokens(state.instructions) }];
  const required = REPLY_PRIMING_TOKENS + user.tokens + (system[0]?.tokens ?? 0);
  if (required + maxOutputTokens > modelContextTokens) {
    throw payloadTooLarge(
      `message: with the instructions it needs ${required} prompt tokens; the model's context (MODEL_CONTEXT_TOKENS=${modelContextTokens}) ` +
        `leaves ${modelContextTokens - maxOutputTokens} after MAX_OUTPUT_TOKENS=${maxOutputTokens}.`,
    );
  }
  const budget = Math.min(historyTokens, modelContextTokens - maxOutputTokens);
  const history = await readRecent(deps.table, state, Math.max(0, budget - required));
  const conversation: WindowMessage[] = [
    ...system,
    ...history.flatMap((message): WindowMessage[] =>
      message.role === 'user' || message.role === 'assistant' ? [{ role: message.role, content: message.content, tokens: message.tokens }] : [],
    ),
    { role: 'user', content: user.content, tokens: user.tokens },
  ];
  const window = fitHistory(conversation, { budget, tokensOf: (message) => message.tokens });
  return { state, user, prompt: window.map(({ role, content }) => ({ role, content })) };
}

async function commit(deps: TurnDependencies, prepared: PreparedTurn, reply: string, usage: Usage | undefined): Promise<{ stored: boolean; state: ChatStateView }> {
  const assistant: NewMessage = { role: 'assistant', content: reply, tokens: messageTokens(reply) };
  const result: CommitResult = await commitTurn(deps.table, prepared.state, { turnId: newTurnId(), messages: [prepared.user, assistant], usage });
  if (result.kind === 'committed') return { stored: true, state: chatStateView(prepared.state.chatId, result.state, result.messages) };
  if (result.kind === 'failed') deps.warn(`The turn on chat ${prepared.state.chatId} was answered but could not be stored:`, result.error);
  return { stored: false, state: chatStateView(prepared.state.chatId, result.state, []) };
}

/** A turn answered in one piece. A failed model call throws and writes nothing. */
export async function chatTurn(deps: TurnDependencies, request: TurnRequest): Promise<TurnOutcome> {
  const prepared = await prepare(deps, request);
  const model = await deps.model();
  const completion = await model.complete({ messages: prepared.prompt, maxTokens: deps.limits.maxOutputTokens, signal: request.signal });
  const reply = completion.content.trim();
  // Nobody is waiting for this answer any more: keep the chat as it was.
  if (request.signal?.aborted) {
    deps.info(clientLeft(request.chatId));
    return { reply, stored: false, state: chatStateView(request.chatId, prepared.state, []) };
  }
  return { reply, ...(await commit(deps, prepared, reply, completion.usage)) };
}

/**
 * A turn as stream events: content deltas as the model produces them, then `done` carrying the finish reason,
 * usage and the chat state. The turn is committed only after the model finished and only while the consumer
 * is still reading: a client that disconnects stops the generator at its next `yield`, before the commit.
 */
export async function* chatTurnEvents(deps: TurnDependencies, request: TurnRequest): AsyncGenerator<StreamEvent> {
  const prepared = await prepare(deps, request);
  const model = await deps.model();
  let reply = '';
  let finishReason: string | null = null;
  let usage: Usage | undefined;
  let committed = false;
  try {
    for await (const event of model.stream({ messages: prepared.prompt, maxTokens: deps.limits.maxOutputTokens, signal: request.signal })) {
      if (event.type === 'delta') {
        reply += event.content;
        yield event;
      } else {
        finishReason = event.finishReason;
        usage = event.usage;
      }
    }
    if (request.signal?.aborted) return;
    const { stored, state } = await commit(deps, prepared, reply.trim(), usage);
    committed = true;
    yield { type: 'done', data: { finishReason, usage: usage ?? null, stored, state } };
  } finally {
    if (!committed && request.signal?.aborted === true) deps.info(clientLeft(request.chatId));
  }
}

const clientLeft = (chatId: string) => `The turn on chat ${chatId} was not stored: the client went away.`;
