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
import type { TableClient } from '@azure/data-tables';
import { mayUse, type ChatAccess } from '../chats/access.js';
import { chatIdSchema } from '../chats/ids.js';
import { createChat, deleteChat, sweepInBackground } from '../chats/lifecycle.js';
import { pageToken, startOfToken } from '../chats/page-token.js';
import { firstSequenceAfter, MAX_PAGE_MESSAGES, readPage, readStateRow } from '../chats/reads.js';
import { parseTimestamp } from '../chats/timestamp.js';
import { chatTurn, chatTurnEvents, MAX_MESSAGE_CHARS, requiresActionBody, type TurnDependencies } from '../chats/turn.js';
import { clientToolsField, modelOverridesField, skillsField, toolOutputsField } from '../skills/chat-tools-schema.js';
import { chatStateView } from '../chats/view.js';
import { chatTable, modelClient, skillServices } from '../services.js';

export const chatParams = z.object({ chatId: chatIdSchema });

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
        ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 date-time that exists, e.g. 2024-01-15T22:00:00Z or 2024-01-15 22:00:00' });
        return z.NEVER;
      }
      return parsed;
    }),
  top: z.coerce
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_PAGE_MESSAGES, `must be at most ${MAX_PAGE_MESSAGES}`)
    .default(MAX_PAGE_MESSAGES),
  continuationToken: z.string().max(200, 'is not a token this API issued').optional(),
});

function turnDependencies(request: HttpRequest, context: InvocationContext, table: TableClient): TurnDependencies {
  const { historyTokens, maxOutputTokens, modelContextTokens, maxToolRounds, toolTimeoutMs } = config();
  return {
    table,
    model: modelClient,
    limits: { historyTokens, maxOutputTokens, modelContextTokens },
    access: chatAccess(request),
    warn: (message, error) => context.warn(message, error),
    info: (message) => context.log(message),
    tools: { services: skillServices(), maxRounds: maxToolRounds, callTimeoutMs: toolTimeoutMs, log: (message) => context.warn(message) },
  };
}

/** The caller as chats see them (API.md § per-user chats: identity only from the platform's header). */
function chatAccess(request: HttpRequest): ChatAccess {
  const enforceOwners = config().trustClientPrincipal;
  const caller = callerIdentity(request, enforceOwners).oid;
  return { enforceOwners, ...(caller == null ? {} : { caller }) };
}

const unknownChat = (chatId: string) => notFound(`Chat "${chatId}" does not exist.`);

/** Removing rows a reset or delete made stale happens after the answer, never inside the request. */
function sweepLater(table: TableClient, chatId: string, context: InvocationContext): void {
  void sweepInBackground(table, chatId, (error) => context.warn(`Sweeping old rows of chat ${chatId} failed (the timer retries):`, error));
}

export async function putChat(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { chatId } = validate(chatParams, request.params, 'path');
  const { instructions, skills, tools, model } = await readJson(request, createChatBody, { limit: config().maxBodyBytes, whenEmpty: {} });
  const systemMessage = instructions === undefined ? DEFAULT_INSTRUCTIONS : instructions?.trim() ? instructions : null;
  const table = await chatTable();
  const chatTools = { skills: skills ?? [], clientTools: tools ?? [], ...model };
  const result = await createChat(table, chatId, systemMessage, chatAccess(request), chatTools);
  if (result.kind === 'hidden') throw unknownChat(chatId);
  if (result.state.sweepPending) sweepLater(table, chatId, context);
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
  const dependencies = turnDependencies(request, context, await chatTable());
  if (wantsEventStream(request.headers.get('accept'))) {
    const events = await primed(chatTurnEvents(dependencies, turn));
    return { status: 200, headers: eventStreamHeaders, body: serverSentEvents(events, context) };
  }
  const outcome = await chatTurn(dependencies, turn);
  if (outcome.kind === 'requires_action') return { status: 200, headers: { 'x-chat-stored': String(outcome.stored) }, jsonBody: requiresActionBody(outcome.toolCalls, outcome.stored) };
  return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'x-chat-stored': String(outcome.stored) }, body: outcome.reply };
}

export async function getChat(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { chatId } = validate(chatParams, request.params, 'path');
  const { timestampUTC, top, continuationToken } = validate(chatStateQuery, Object.fromEntries(request.query), 'query');
  const table = await chatTable();
  // One read: the messages come from the very state (and generation) whose owner was checked.
  const row = await readStateRow(table, chatId);
  if (row?.kind === 'tombstone' || (row?.kind === 'live' && row.state.sweepPending)) sweepLater(table, chatId, context);
  const state = row?.kind === 'live' && mayUse(row.state, chatAccess(request)) ? row.state : undefined;
  if (state == null) {
    if (continuationToken != null) throw invalidRequest('continuationToken: the chat no longer exists; read it again without a token.');
    return { status: 200, jsonBody: chatStateView(chatId, undefined, []) };
  }
  const first =
    continuationToken != null
      ? startOfToken(continuationToken, state)
      : timestampUTC == null
        ? 1
        : await firstSequenceAfter(table, state, timestampUTC);
  const page = await readPage(table, state, first, top);
  const token = page.next == null ? undefined : pageToken(state, page.next);
  return { status: 200, jsonBody: chatStateView(chatId, state, page.messages, token) };
}

export async function removeChat(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { chatId } = validate(chatParams, request.params, 'path');
  const table = await chatTable();
  if ((await deleteChat(table, chatId, chatAccess(request))) === 'not_found') throw unknownChat(chatId);
  sweepLater(table, chatId, context);
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
  summary: 'Chat state (OpenAI extension compatible); messages strictly after timestampUTC, at most `top` per page, then `continuationToken`',
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
