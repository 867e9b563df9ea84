import type { InvocationContext } from '@azure/functions';
import { errorBody } from './respond.js';

/**
 * Events a streamed response is made of. Services yield them; one writer per wire format turns them into
 * bytes. `done.data` is the payload of the final event (finish reason, usage, chat state).
 */
export type StreamEvent =
  | { type: 'delta'; content: string }
  | { type: 'context'; data: Record<string, unknown> }
  | { type: 'done'; data: Record<string, unknown> }
  /** Chat turns with tools (API.md § Tools in chats): a call starts, a call finished, the turn waits for the client. */
  | { type: 'tool_call' | 'tool_result' | 'requires_action'; data: Record<string, unknown> };

/**
 * Waits for the first event before the response starts, so failures that happen before anything was
 * produced (throttling, bad settings, unknown chat) still get a real status code.
 */
export async function primed<T>(events: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  const iterator = events[Symbol.asyncIterator]();
  const first = await iterator.next();
  return {
    [Symbol.asyncIterator]() {
      let replayed = false;
      return {
        next: () => {
          if (replayed) return iterator.next();
          replayed = true;
          return Promise.resolve(first);
        },
        return: async (value?: unknown) => {
          await iterator.return?.(value);
          return { done: true, value: undefined };
        },
      };
    },
  };
}

const encoder = new TextEncoder();

/** Server-Sent Events for ask, whois and chats (API.md § SSE format). */
export async function* serverSentEvents(
  events: AsyncIterable<StreamEvent>,
  context: InvocationContext,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const event of events) {
      if (event.type === 'delta') yield encoder.encode(`data: ${JSON.stringify({ content: event.content })}\n\n`);
      else if (event.type !== 'context') yield encoder.encode(`event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
    }
  } catch (error: unknown) {
    yield encoder.encode(`event: error\ndata: ${JSON.stringify(errorBody(error, context))}\n\n`);
  }
}

export const eventStreamHeaders = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache',
  'X-Accel-Buffering': 'no',
};

/** True when the client asked for Server-Sent Events. */
export function wantsEventStream(accept: string | null): boolean {
  return accept != null && accept.toLowerCase().includes('text/event-stream');
}

/**
 * Newline-delimited JSON for the Microsoft AI Chat Protocol: the context line, content deltas, then the
 * final line; a thrown error becomes a last `{"error": ...}` line.
 */
export async function* ndjsonLines(events: AsyncIterable<StreamEvent>, context: InvocationContext): AsyncGenerator<Uint8Array> {
  const line = (value: unknown) => encoder.encode(`${JSON.stringify(value)}\n`);
  try {
    for await (const event of events) {
      if (event.type === 'delta') yield line({ delta: { content: event.content } });
      else if (event.type === 'context' || event.type === 'done') yield line({ delta: { role: 'assistant' }, ...event.data });
    }
  } catch (error: unknown) {
    yield line(errorBody(error, context));
  }
}

export const ndjsonHeaders = {
  'Content-Type': 'application/x-ndjson; charset=utf-8',
  'Cache-Control': 'no-cache',
  'X-Accel-Buffering': 'no',
};
