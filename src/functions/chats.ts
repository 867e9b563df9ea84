import type { HttpRequest, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { config } from '../config.js';
import { abortSignalOf } from '../http/abort.js';
import { invalidRequest, notFound } from '../errors/index.js';
import { callerIdentity } from '../http/caller.js';
import { modelCallResponses } from '../http/openapi.js';
import { defineRoute, jsonBody, registerRoutes } from '../http/route.js';
import { completionDone, sseEventsSchema, usageSchema } from '../http/stream-schemas.js';
import { eventStreamHeaders, primed, serverSentEvents, wantsEventStream } from '../http/streams.js';
import type { TableClient } from '@azure/data-tables';
import { mayUse, type ChatAccess } from '../chats/access.js';
import { chatIdSchema } from '../chats/ids.js';
import { createChat, deleteChat, sweepInBackground } from '../chats/lifecycle.js';
import { pageToken, startOfToken } from '../chats/page-token.js';
import { firstSequenceAfter, MAX_PAGE_MESSAGES, readPage, readStateRow } from '../chats/reads.js';
import { parseTimestamp } from '../chats/timestamp.js';
import { chatTurn, chatTurnEvents, requiresActionBody, type TurnDependencies } from '../chats/turn.js';
import { MAX_MESSAGE_CHARS } from '../limits.js';
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

const toolCallSchema = z.object({ id: z.string(), name: z.string(), arguments: z.string() });

/** GET /api/chats/{chatId} (API.md; compatible with the OpenAI extension's assistant state). */
export const chatStateSchema = z.object({
  id: z.string(),
  exists: z.boolean(),
  createdAt: z.iso.datetime().nullable(),
  lastUpdatedAt: z.iso.datetime().nullable(),
  totalMessages: z.number().int(),
  totalTokens: z.number().int(),
  recentMessages: z.array(
    z.object({
      role: z.enum(['system', 'user', 'assistant', 'tool']),
      content: z.string(),
      toolCalls: z.array(toolCallSchema),
      toolCallId: z.string().optional(),
      sources: z.array(z.string()).optional(),
    }),
  ),
  pendingToolCalls: z.array(toolCallSchema).optional(),
  continuationToken: z.string().optional().describe('present when more messages follow: pass it back to read the next page'),
  usage: usageSchema,
});

/** A paused turn: the client runs these tools and posts their outputs (API.md § Tools in chats). */
const requiresActionSchema = z.object({ status: z.literal('requires_action'), toolCalls: z.array(toolCallSchema), stored: z.literal(false).optional() });

const turnDone = completionDone
  .extend({ stored: z.boolean(), state: chatStateSchema })
  .describe('event: done (stored: false when the reply could not be stored; the chat is unchanged)');
const toolEvent = z.looseObject({}).describe('event: tool_call, tool_result (a skill ran) or requires_action (toolCalls for the client)');

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


const route = 'chats/{chatId}';
const tags = ['chats'];
const storageErrors = {
  400: 'invalid_request: invalid chat id or body',
  503: 'storage_unavailable, storage_auth_failed or configuration_error',
};

export const createChatRoute = defineRoute({
  name: 'createChat',
  method: 'PUT',
  route,
  tags,
  summary: 'Create a chat, or reset an existing one (instructions: missing = default system message, null/blank = none)',
  params: chatParams,
  body: jsonBody(createChatBody, { whenEmpty: {} }),
  responses: {
    202: { description: 'Created or reset', content: { 'application/json': z.object({ chatId: z.string() }) } },
    404: 'not_found: the chat belongs to another caller (TRUST_CLIENT_PRINCIPAL)',
    413: 'payload_too_large: body over MAX_BODY_BYTES',
    ...storageErrors,
  },
  handler: async ({ params: { chatId }, body: { instructions, skills, tools, model }, request, context }) => {
    const systemMessage = instructions === undefined ? DEFAULT_INSTRUCTIONS : instructions?.trim() ? instructions : null;
    const table = await chatTable();
    const chatTools = { skills: skills ?? [], clientTools: tools ?? [], ...model };
    const result = await createChat(table, chatId, systemMessage, chatAccess(request), chatTools);
    if (result.kind === 'hidden') throw unknownChat(chatId);
    if (result.state.sweepPending) sweepLater(table, chatId, context);
    return { status: 202, jsonBody: { chatId } };
  },
});

export const postChatRoute = defineRoute({
  name: 'postChat',
  method: 'POST',
  route,
  tags,
  summary: 'One chat turn: the reply as text/plain, or SSE with Accept: text/event-stream (done event carries the state)',
  params: chatParams,
  query: postChatQuery,
  body: jsonBody(postChatBody, { whenEmpty: {} }),
  responses: {
    200: {
      description: 'The reply (text/plain), a paused turn waiting for client tool outputs (application/json), or the SSE stream of the turn',
      headers: ['x-chat-stored'],
      content: {
        'text/plain': z.string(),
        'application/json': requiresActionSchema,
        'text/event-stream': sseEventsSchema(z.union([turnDone, toolEvent])),
      },
    },
    404: 'not_found: unknown chat',
    409: 'tool_outputs_required: the chat waits for client tool outputs; or conflict',
    413: 'payload_too_large: message over its limit, or body over MAX_BODY_BYTES',
    ...modelCallResponses,
    400: 'invalid_request (no message, bad chat id), content_filter or context_length_exceeded',
    503: 'storage_unavailable, storage_auth_failed, model_not_configured, configuration_error or model_auth_failed',
  },
  handler: async ({ params: { chatId }, query, body, request, context }) => {
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
    const stored: Record<string, string> = { 'x-chat-stored': String(outcome.stored) };
    if (outcome.kind === 'requires_action') return { status: 200, headers: stored, jsonBody: requiresActionBody(outcome.toolCalls, outcome.stored) };
    return { status: 200, headers: { ...stored, 'Content-Type': 'text/plain; charset=utf-8' }, body: outcome.reply };
  },
});

export const getChatRoute = defineRoute({
  name: 'getChatState',
  method: 'GET',
  route,
  tags,
  summary: 'Chat state (OpenAI extension compatible); messages strictly after timestampUTC, at most `top` per page, then `continuationToken`',
  params: chatParams,
  query: chatStateQuery,
  responses: {
    200: { description: 'The state; exists: false for an unknown chat', content: { 'application/json': chatStateSchema } },
    ...storageErrors,
  },
  handler: async ({ params: { chatId }, query: { timestampUTC, top, continuationToken }, request, context }) => {
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
  },
});

export const deleteChatRoute = defineRoute({
  name: 'deleteChat',
  method: 'DELETE',
  route,
  tags,
  summary: 'Delete a chat and all its messages',
  params: chatParams,
  responses: { 204: { description: 'Deleted' }, 404: 'not_found: unknown chat', ...storageErrors },
  handler: async ({ params: { chatId }, request, context }) => {
    const table = await chatTable();
    if ((await deleteChat(table, chatId, chatAccess(request))) === 'not_found') throw unknownChat(chatId);
    sweepLater(table, chatId, context);
    return { status: 204 };
  },
});

registerRoutes([createChatRoute, postChatRoute, getChatRoute, deleteChatRoute]);
