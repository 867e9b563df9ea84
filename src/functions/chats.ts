import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { config } from '../config.js';
import { abortSignalOf } from '../http/abort.js';
import { invalidRequest, notFound } from '../http/errors.js';
import { callerIdentity } from '../http/identity.js';
import { readJson, validate } from '../http/body.js';
import { describeRoute } from '../http/openapi.js';
import { withErrors } from '../http/respond.js';
import { eventStreamHeaders, primed, serverSentEvents, wantsEventStream } from '../http/streams.js';
import { createChat, deleteChat, readMessages, readState, sweep } from '../chats/store.js';
import { chatTurn, chatTurnEvents, MAX_MESSAGE_CHARS, requiresActionBody, type TurnDependencies } from '../chats/turn.js';
import { clientToolsField, modelOverridesField, skillsField, toolOutputsField } from '../skills/chat-tools-schema.js';
import type { ChatState } from '../chats/types.js';
import { chatStateView } from '../chats/view.js';
import { chatTable, modelClient, skillServices } from '../services.js';

/** API.md: 1..128 characters that are safe as a Table key and can never break an OData filter. */
export const chatParams = z.object({
  chatId: z.string().regex(/^[A-Za-z0-9_\-.:@]{1,128}$/, 'must be 1-128 characters from A-Z a-z 0-9 _ - . : @'),
});

/** The system message a chat gets when PUT does not mention `instructions` (as the OpenAI extension). */
export const DEFAULT_INSTRUCTIONS = 'You are a helpful assistant.';

export const createChatBody = z.looseObject({
  instructions: z.string().max(MAX_MESSAGE_CHARS, `must be at most ${MAX_MESSAGE_CHARS} characters`).nullable().optional(),
  skills: skillsField.optional(),
  tools: clientToolsField.optional(),
  model: modelOverridesField.optional(),
});

export const postChatBody = z.looseObject({
  message: z.string().min(1, 'must not be empty').optional(),
  toolOutputs: toolOutputsField.optional(),
});
export const postChatQuery = z.object({ message: z.string().min(1, 'must not be empty').optional() });

export const chatStateQuery = z.object({
  timestampUTC: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value == null || value.trim() === '') return undefined;
      const parsed = parseTimestamp(value);
      if (parsed == null) {
        ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 date-time, e.g. 2024-01-15T22:00:00Z' });
        return z.NEVER;
      }
      return parsed;
    }),
});

/** ISO-8601; without an offset the time is UTC. A `+` decoded to a space by the query string is put back. */
function parseTimestamp(raw: string): Date | undefined {
  const text = raw.trim().replace(' ', '+');
  const match = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(text);
  if (match == null) return undefined;
  const withZone = text.includes('T') && match[1] == null ? `${text}Z` : text;
  const time = Date.parse(withZone.replace(',', '.'));
  return Number.isNaN(time) ? undefined : new Date(time);
}

/**
 * With TRUST_CLIENT_PRINCIPAL, a chat created by a signed-in caller belongs to them: to anyone else it is an
 * unknown chat (404; GET answers exists: false). Without the setting, or for chats created anonymously,
 * chats are shared by everyone holding the function key.
 */
function ownedByCaller(request: HttpRequest, state: ChatState): boolean {
  return state.owner == null || state.owner === callerIdentity(request, true).oid;
}

/** The chat as this caller may see it: someone else's chat is unknown. */
async function visibleState(request: HttpRequest, table: TurnDependencies['table'], chatId: string): Promise<ChatState | undefined> {
  const state = await readState(table, chatId);
  return state == null || !config().trustClientPrincipal || ownedByCaller(request, state) ? state : undefined;
}

/** 404 when the chat exists but belongs to someone else (only checked when identities are trusted). */
async function requireVisible(request: HttpRequest, table: TurnDependencies['table'], chatId: string): Promise<void> {
  if (!config().trustClientPrincipal) return;
  const state = await readState(table, chatId);
  if (state != null && !ownedByCaller(request, state)) throw notFound(`Chat "${chatId}" does not exist.`);
}

function turnDependencies(table: TurnDependencies['table'], context: InvocationContext): TurnDependencies {
  const { historyTokens, maxOutputTokens, modelContextTokens, maxToolRounds, toolTimeoutMs } = config();
  return {
    table,
    model: modelClient,
    limits: { historyTokens, maxOutputTokens, modelContextTokens },
    tools: { services: skillServices(), maxRounds: maxToolRounds, callTimeoutMs: toolTimeoutMs, log: (message) => context.warn(message) },
  };
}

export async function putChat(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { chatId } = validate(chatParams, request.params, 'path');
  const { instructions, skills, tools, model } = await readJson(request, createChatBody, { limit: config().maxBodyBytes, whenEmpty: {} });
  const systemMessage = instructions === undefined ? DEFAULT_INSTRUCTIONS : instructions?.trim() ? instructions : null;
  const table = await chatTable();
  await requireVisible(request, table, chatId);
  const chatTools = { skills: skills ?? [], clientTools: tools ?? [], ...model };
  await createChat(table, chatId, systemMessage, callerIdentity(request, config().trustClientPrincipal).oid, chatTools);
  // A reset leaves the old generation's rows unreachable; removing them is housekeeping, not part of the reset.
  await sweep(table, chatId).catch((error: unknown) => context.warn(`Sweeping old messages of chat ${chatId} failed:`, error));
  return { status: 202, jsonBody: { chatId } };
}

export async function postChat(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { chatId } = validate(chatParams, request.params, 'path');
  const query = validate(postChatQuery, Object.fromEntries(request.query), 'query');
  const body = await readJson(request, postChatBody, { limit: config().maxBodyBytes, whenEmpty: {} });
  const message = body.message ?? query.message;
  const { toolOutputs } = body;
  if (message != null && toolOutputs != null) throw invalidRequest('toolOutputs: send either a message or toolOutputs, not both.');
  if (message == null && toolOutputs == null) {
    throw invalidRequest('message: send {"message": "..."} as the body or ?message= in the URL (or {"toolOutputs": [...]} to continue a paused turn).');
  }
  const settings = config();
  const turn = {
    chatId,
    ...(toolOutputs == null ? { message } : { toolOutputs }),
    caller: callerIdentity(request, settings.trustClientPrincipal),
    signal: abortSignalOf(request),
  };
  const table = await chatTable();
  await requireVisible(request, table, chatId);
  const dependencies = turnDependencies(table, context);
  if (wantsEventStream(request.headers.get('accept'))) {
    const events = await primed(chatTurnEvents(dependencies, turn));
    return { status: 200, headers: eventStreamHeaders, body: serverSentEvents(events, context) };
  }
  const outcome = await chatTurn(dependencies, turn);
  if (outcome.kind === 'requires_action') return { status: 200, jsonBody: requiresActionBody(outcome.toolCalls, outcome.stored) };
  return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: outcome.reply };
}

export async function getChat(request: HttpRequest): Promise<HttpResponseInit> {
  const { chatId } = validate(chatParams, request.params, 'path');
  const { timestampUTC } = validate(chatStateQuery, Object.fromEntries(request.query), 'query');
  const table = await chatTable();
  const state = await visibleState(request, table, chatId);
  const messages = state == null ? [] : await readMessages(table, state, timestampUTC);
  return { status: 200, jsonBody: chatStateView(chatId, state, messages) };
}

export async function removeChat(request: HttpRequest): Promise<HttpResponseInit> {
  const { chatId } = validate(chatParams, request.params, 'path');
  const table = await chatTable();
  await requireVisible(request, table, chatId);
  if (!(await deleteChat(table, chatId))) throw notFound(`Chat "${chatId}" does not exist.`);
  return { status: 204 };
}

const route = 'chats/{chatId}';
app.http('createChat', { route, methods: ['PUT'], authLevel: 'function', handler: withErrors(putChat) });
app.http('postChat', { route, methods: ['POST'], authLevel: 'function', handler: withErrors(postChat) });
app.http('getChatState', { route, methods: ['GET'], authLevel: 'function', handler: withErrors(getChat) });
app.http('deleteChat', { route, methods: ['DELETE'], authLevel: 'function', handler: withErrors(removeChat) });

const path = '/chats/{chatId}';
const storageResponses = { 400: 'invalid chat id or request', 503: 'storage unavailable' };
describeRoute({
  method: 'PUT',
  path,
  summary: 'Create a chat, or reset an existing one (instructions: missing = default system message, null/blank = none)',
  params: chatParams,
  body: createChatBody,
  responses: { 202: '{"chatId"}', 413: 'body too large', ...storageResponses },
});
describeRoute({
  method: 'POST',
  path,
  summary: 'One chat turn: the reply as text/plain, or SSE with Accept: text/event-stream (done event carries the state)',
  params: chatParams,
  query: postChatQuery,
  body: postChatBody,
  responses: {
    200: 'the reply',
    404: 'unknown chat',
    413: 'message too large',
    429: 'model throttled',
    502: 'model failed',
    504: 'model timed out',
    ...storageResponses,
  },
});
describeRoute({
  method: 'GET',
  path,
  summary: 'Chat state (OpenAI extension compatible); messages strictly after timestampUTC',
  params: chatParams,
  query: chatStateQuery,
  responses: { 200: 'the state (exists:false for unknown chats)', ...storageResponses },
});
describeRoute({
  method: 'DELETE',
  path,
  summary: 'Delete a chat and all its messages',
  params: chatParams,
  responses: { 204: 'deleted', 404: 'unknown chat', ...storageResponses },
});
