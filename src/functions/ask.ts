import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { config } from '../config.js';
import { abortSignalOf } from '../http/abort.js';
import { modelCallResponses } from '../http/openapi.js';
import { defineRoute, jsonBody, registerRoutes } from '../http/route.js';
import { MAX_PROMPT_CHARS } from '../limits.js';
import { completionDone, sseEventsSchema } from '../http/stream-schemas.js';
import { eventStreamHeaders, primed, serverSentEvents, wantsEventStream } from '../http/streams.js';
import { completionEvents } from '../model/completion.js';
import type { CompletionRequest } from '../model/types.js';
import { modelClient } from '../services.js';

export const askBody = z.object({
  prompt: z.string().min(1, 'must not be empty').max(MAX_PROMPT_CHARS, `must be at most ${MAX_PROMPT_CHARS.toLocaleString('en-US')} characters`),
});

export const whoisParams = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
});

/** The seed's whois keeps answers short. */
export const WHOIS_MAX_TOKENS = 100;

/** 200 of ask and whois: the trimmed answer, or SSE when the client sends Accept: text/event-stream. */
const answered = {
  description: 'The answer as text/plain, or Server-Sent Events with Accept: text/event-stream',
  content: { 'text/plain': z.string(), 'text/event-stream': sseEventsSchema(completionDone) },
};

/** Answers one completion as plain text, or as Server-Sent Events when the client asks for them. */
async function respondWithCompletion(
  request: HttpRequest,
  context: InvocationContext,
  completion: CompletionRequest,
): Promise<HttpResponseInit> {
  const model = await modelClient();
  if (wantsEventStream(request.headers.get('accept'))) {
    const events = await primed(completionEvents(model, completion));
    return { status: 200, headers: eventStreamHeaders, body: serverSentEvents(events, context) };
  }
  const answer = await model.complete(completion);
  return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: answer.content.trim() };
}

export const askRoute = defineRoute({
  name: 'ask',
  method: 'POST',
  route: 'ask',
  tags: ['completions'],
  summary: 'One-shot completion of a prompt (text/plain, or SSE with Accept: text/event-stream)',
  body: jsonBody(askBody),
  responses: { 200: answered, 413: 'payload_too_large: body over MAX_BODY_BYTES', ...modelCallResponses },
  handler: ({ body, request, context }) =>
    respondWithCompletion(request, context, {
      messages: [{ role: 'user', content: body.prompt }],
      maxTokens: config().maxOutputTokens,
      signal: abortSignalOf(request),
    }),
});

export const whoisRoute = defineRoute({
  name: 'whois',
  method: 'GET',
  route: 'whois/{name}',
  tags: ['completions'],
  summary: 'Who is {name}? in at most 100 tokens (text/plain, or SSE with Accept: text/event-stream)',
  params: whoisParams,
  responses: { 200: answered, ...modelCallResponses },
  handler: ({ params, request, context }) =>
    respondWithCompletion(request, context, {
      messages: [{ role: 'user', content: `Who is ${params.name}?` }],
      maxTokens: WHOIS_MAX_TOKENS,
      signal: abortSignalOf(request),
    }),
});

registerRoutes([askRoute, whoisRoute]);
