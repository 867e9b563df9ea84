import type { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import { config, type AppConfig } from '../config.js';
import { abortSignalOf } from '../http/abort.js';
import { readJson } from '../http/body.js';
import { callerIdentity } from '../http/caller.js';
import { isMultipart, readForm } from '../http/multipart.js';
import { modelCallResponses } from '../http/openapi.js';
import { defineRoute, handlerBody, registerRoutes } from '../http/route.js';
import { errorEventData } from '../http/stream-schemas.js';
import { ndjsonHeaders, ndjsonLines, primed } from '../http/streams.js';
import { chatWithData, chatWithDataStream, planRetrieval, type RagDependencies } from '../rag/approach.js';
import { chatFormBody, chatFormLimits, chatRequestBody, toRagRequest, type RagRequest } from '../rag/request.js';
import { modelClient, searchIndex } from '../services.js';

/** JSON text plus the base64 of every image a request may carry; the text alone is checked against MAX_BODY_BYTES after parsing. */
function chatBodyLimit(settings: AppConfig): number {
  return settings.maxBodyBytes + settings.maxImages * Math.ceil((settings.maxImageBytes * 4) / 3);
}

async function readChatRequest(request: HttpRequest): Promise<RagRequest> {
  const settings = config();
  const limits = { maxImageBytes: settings.maxImageBytes, maxImages: settings.maxImages, maxTextBytes: settings.maxBodyBytes };
  if (isMultipart(request)) {
    const { body, files } = chatFormBody(await readForm(request, chatFormLimits(limits)));
    return toRagRequest(body, files, limits);
  }
  const body = await readJson(request, z.unknown(), { limit: chatBodyLimit(settings) });
  return toRagRequest(body, new Map(), limits);
}

async function dependencies(request: HttpRequest): Promise<RagDependencies> {
  const settings = config();
  return {
    model: await modelClient(),
    index: searchIndex,
    settings: {
      historyTokens: settings.historyTokens,
      maxOutputTokens: settings.maxOutputTokens,
      modelContextTokens: settings.modelContextTokens,
      embeddingsEnabled: settings.embeddingModel != null,
      requireAccessControl: settings.requireAccessControl,
      systemPrompt: settings.ragSystemPrompt,
    },
    identity: callerIdentity(request, settings.trustClientPrincipal),
    signal: abortSignalOf(request),
  };
}

const thought = z.object({ title: z.string(), description: z.unknown(), props: z.record(z.string(), z.unknown()).optional() });
const dataPoints = z.object({ text: z.array(z.string()), citations: z.array(z.string()) });
const sessionState = z.unknown().describe('the request\'s session_state (or sessionState, in the spelling the client used), echoed');

/** POST /api/chat (Microsoft AI Chat Protocol completion, API.md). */
export const chatCompletionSchema = z.looseObject({
  message: z.object({ role: z.literal('assistant'), content: z.string() }),
  context: z.object({
    data_points: dataPoints,
    thoughts: z.array(thought),
    followup_questions: z.array(z.string()).nullable(),
  }),
  session_state: sessionState.optional(),
});

/** One line of POST /api/chat/stream: context first, content deltas, the final line, or an error. */
export const chatStreamLineSchema = z
  .union([
    z.looseObject({
      delta: z.object({ role: z.literal('assistant') }),
      context: z.object({ data_points: dataPoints, thoughts: z.array(thought) }),
      session_state: sessionState.optional(),
    }).describe('first line: the sources and thoughts'),
    z.object({ delta: z.object({ content: z.string() }) }).describe('a content delta'),
    z.object({
      delta: z.object({ role: z.literal('assistant') }),
      context: z.object({ followup_questions: z.array(z.string()).nullable(), thoughts: z.array(thought) }),
    }).describe('last line: follow-up questions and thoughts with usage'),
    errorEventData.describe('a failure after the stream started'),
  ])
  .meta({ description: 'application/x-ndjson: one of these JSON objects per line' });

/** The body is JSON or multipart (a `json` part and image files), read by `readChatRequest`. */
const chatBody = handlerBody({
  'application/json': chatRequestBody,
  'multipart/form-data': z.object({
    json: z.string().describe('the chat request as JSON'),
  }).catchall(z.string().describe('image files named messages[i].files[j]')),
});

const responses = {
  ...modelCallResponses,
  400: 'invalid_request (bad JSON, field, image or override, or a malformed multipart form), content_filter or context_length_exceeded',
  413: 'payload_too_large: body, message or image too large',
  502: 'model_error or search_error',
  503: 'model_not_configured, configuration_error, model_auth_failed or storage_unavailable',
};
const tags = ['chat-with-data'];

export const chatRoute = defineRoute({
  name: 'chat',
  method: 'POST',
  route: 'chat',
  tags,
  summary: 'Chat with your documents (Microsoft AI Chat Protocol): answer with citations, thoughts and follow-ups',
  body: chatBody,
  responses: { 200: { description: 'AI Chat Protocol completion', content: { 'application/json': chatCompletionSchema } }, ...responses },
  handler: async ({ request }) => {
    const ragRequest = await readChatRequest(request);
    const deps = await dependencies(request);
    const plan = planRetrieval(ragRequest, deps.settings);
    return { status: 200, jsonBody: await chatWithData(ragRequest, plan, deps) };
  },
});

export const chatStreamRoute = defineRoute({
  name: 'chatStream',
  method: 'POST',
  route: 'chat/stream',
  tags,
  summary: 'The same as /chat, streamed as application/x-ndjson lines',
  body: chatBody,
  responses: {
    200: { description: 'NDJSON stream of AI Chat Protocol deltas', content: { 'application/x-ndjson': chatStreamLineSchema } },
    ...responses,
  },
  handler: async ({ request, context }) => {
    const ragRequest = await readChatRequest(request);
    const deps = await dependencies(request);
    const plan = planRetrieval(ragRequest, deps.settings);
    const events = await primed(chatWithDataStream(ragRequest, plan, deps));
    return { status: 200, headers: ndjsonHeaders, body: ndjsonLines(events, context) };
  },
});

registerRoutes([chatRoute, chatStreamRoute]);
