import { z } from 'zod';

// Schemas of what streamed responses are made of (API.md § SSE format, § Chat with your data): one SSE event's
// `data`, one NDJSON line. OpenAPI 3.1 has no per-item schema for streams, so the response schema of a
// text/event-stream or application/x-ndjson body is the union of its events or lines (described as such).

const usage = z.object({ promptTokens: z.number().int(), completionTokens: z.number().int(), totalTokens: z.number().int() });

export const errorEventData = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/** `data:` of the SSE events of ask, whois and chat turns: deltas, then `event: done`, or `event: error`. */
export function sseEventsSchema(done: z.ZodType) {
  return z
    .union([z.object({ content: z.string() }).describe('a content delta (no event name)'), done, errorEventData.describe('event: error')])
    .meta({ description: 'text/event-stream: each `data:` is one of these JSON objects; `event: done` ends it, `event: error` reports a failure after the stream started' });
}

export const completionDone = z
  .object({ finishReason: z.string().nullable(), usage: usage.nullable() })
  .describe('event: done');

export { usage as usageSchema };
