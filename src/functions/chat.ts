import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { config, type AppConfig } from '../config.js';
import { abortSignalOf } from '../http/abort.js';
import { readBytes, readJson } from '../http/body.js';
import { invalidRequest } from '../http/errors.js';
import { callerIdentity } from '../http/identity.js';
import { describeRoute, modelCallResponses } from '../http/openapi.js';
import { withErrors } from '../http/respond.js';
import { ndjsonHeaders, ndjsonLines, primed } from '../http/streams.js';
import { chatWithData, chatWithDataStream, planRetrieval, type RagDependencies } from '../rag/approach.js';
import { chatRequestBody, readMultipart, toRagRequest, type RagRequest } from '../rag/request.js';
import { modelClient, searchIndex } from '../services.js';

/** JSON text plus the base64 of every image a request may carry; the text alone is checked against MAX_BODY_BYTES after parsing. */
function chatBodyLimit(settings: AppConfig): number {
  return settings.maxBodyBytes + settings.maxImages * Math.ceil((settings.maxImageBytes * 4) / 3);
}

async function readChatRequest(request: HttpRequest): Promise<RagRequest> {
  const settings = config();
  const limits = { maxImageBytes: settings.maxImageBytes, maxImages: settings.maxImages, maxTextBytes: settings.maxBodyBytes };
  const contentType = request.headers.get('content-type') ?? '';
  if (contentType.toLowerCase().startsWith('multipart/form-data')) {
    const bytes = await readBytes(request, chatBodyLimit(settings));
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(bytes), { headers: { 'content-type': contentType } }).formData();
    } catch {
      throw invalidRequest('The multipart/form-data body could not be parsed.');
    }
    const { body, files } = await readMultipart(form);
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

export async function chat(request: HttpRequest): Promise<HttpResponseInit> {
  const ragRequest = await readChatRequest(request);
  const deps = await dependencies(request);
  const plan = planRetrieval(ragRequest, deps.settings);
  return { status: 200, jsonBody: await chatWithData(ragRequest, plan, deps) };
}

export async function chatStream(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const ragRequest = await readChatRequest(request);
  const deps = await dependencies(request);
  const plan = planRetrieval(ragRequest, deps.settings);
  const events = await primed(chatWithDataStream(ragRequest, plan, deps));
  return { status: 200, headers: ndjsonHeaders, body: ndjsonLines(events, context) };
}

app.http('chat', { route: 'chat', methods: ['POST'], authLevel: 'function', handler: withErrors(chat) });
app.http('chatStream', { route: 'chat/stream', methods: ['POST'], authLevel: 'function', handler: withErrors(chatStream) });

const responses = {
  400: 'invalid request (bad JSON, field, image or override)',
  413: 'body, message or image too large',
  ...modelCallResponses,
};
describeRoute({
  method: 'POST',
  path: '/chat',
  summary: 'Chat with your documents (Microsoft AI Chat Protocol): answer with citations, thoughts and follow-ups',
  body: chatRequestBody,
  responses: { 200: 'AI Chat Protocol completion', ...responses },
});
describeRoute({
  method: 'POST',
  path: '/chat/stream',
  summary: 'The same as /chat, streamed as application/x-ndjson lines',
  body: chatRequestBody,
  responses: { 200: 'NDJSON stream of AI Chat Protocol deltas', ...responses },
});
