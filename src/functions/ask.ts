import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { config } from '../config.js';
import { abortSignalOf } from '../http/abort.js';
import { readJson, validate } from '../http/body.js';
import { describeRoute, modelCallResponses } from '../http/openapi.js';
import { withErrors } from '../http/respond.js';
import { eventStreamHeaders, primed, serverSentEvents, wantsEventStream } from '../http/streams.js';
import { completionEvents } from '../model/completion.js';
import type { CompletionRequest } from '../model/types.js';
import { modelClient } from '../services.js';

export const askBody = z.object({
  prompt: z.string().min(1, 'must not be empty').max(32_000, 'must be at most 32,000 characters'),
});

export const whoisParams = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
});

/** The seed's whois keeps answers short. */
export const WHOIS_MAX_TOKENS = 100;

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

export async function ask(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { prompt } = await readJson(request, askBody, { limit: config().maxBodyBytes });
  return respondWithCompletion(request, context, {
    messages: [{ role: 'user', content: prompt }],
    maxTokens: config().maxOutputTokens,
    signal: abortSignalOf(request),
  });
}

export async function whois(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { name } = validate(whoisParams, request.params, 'path');
  return respondWithCompletion(request, context, {
    messages: [{ role: 'user', content: `Who is ${name}?` }],
    maxTokens: WHOIS_MAX_TOKENS,
    signal: abortSignalOf(request),
  });
}

app.http('ask', { route: 'ask', methods: ['POST'], authLevel: 'function', handler: withErrors(ask) });
app.http('whois', { route: 'whois/{name}', methods: ['GET'], authLevel: 'function', handler: withErrors(whois) });

const modelResponses = { 400: 'invalid request', ...modelCallResponses };
describeRoute({
  method: 'POST',
  path: '/ask',
  summary: 'One-shot completion of a prompt (text/plain, or SSE with Accept: text/event-stream)',
  body: askBody,
  responses: { 200: 'the answer', 413: 'body too large', ...modelResponses },
});
describeRoute({
  method: 'GET',
  path: '/whois/{name}',
  summary: 'Who is {name}? in at most 100 tokens',
  params: whoisParams,
  responses: { 200: 'the answer', ...modelResponses },
});
