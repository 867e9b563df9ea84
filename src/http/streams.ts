import type { InvocationContext } from '@azure/functions';
import { config } from '../config.js';
import type { StreamEvent } from '../streaming/events.js';
import { errorBody } from './respond.js';

export type { StreamEvent } from '../streaming/events.js';

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

/**
 * Ends a response body whose reader stopped asking for more. Backpressure pauses the model stream while a
 * client does not read, but a paused stream stays open as long as the client's socket does (100 unread answers
 * held 76 model streams open). When the consumer has not asked for the next chunk within `stallMs` (the
 * MODEL_TIMEOUT_MS we would also wait for the model), the producer is ended: its `finally` cancels the model
 * call, and the response ends where it was.
 */
export async function* endWhenUnread(chunks: AsyncGenerator<Uint8Array>, stallMs: number, context: InvocationContext): AsyncGenerator<Uint8Array> {
  let stalled = false;
  try {
    for (;;) {
      const next = await chunks.next();
      if (next.done === true) return;
      const timer = setTimeout(() => {
        stalled = true;
        context.log(`client_closed_request: the client read nothing for ${stallMs} ms; its stream was ended (499)`);
        void chunks.return(undefined).catch(() => undefined);
      }, stallMs);
      try {
        yield next.value;
      } finally {
        clearTimeout(timer);
      }
      if (stalled) return;
    }
  } finally {
    if (!stalled) await chunks.return(undefined);
  }
}

/** Server-Sent Events for ask, whois and chats (API.md § SSE format). */
export function serverSentEvents(events: AsyncIterable<StreamEvent>, context: InvocationContext): AsyncGenerator<Uint8Array> {
  return endWhenUnread(sseChunks(events, context), config().modelTimeoutMs, context);
}

async function* sseChunks(events: AsyncIterable<StreamEvent>, context: InvocationContext): AsyncGenerator<Uint8Array> {
  try {
    for await (const event of events) {
      if (event.type === 'delta') yield encoder.encode(`data: ${JSON.stringify({ content: event.content })}\n\n`);
      else if (event.type === 'error') throw event.error;
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
export function ndjsonLines(events: AsyncIterable<StreamEvent>, context: InvocationContext): AsyncGenerator<Uint8Array> {
  return endWhenUnread(ndjsonChunks(events, context), config().modelTimeoutMs, context);
}

async function* ndjsonChunks(events: AsyncIterable<StreamEvent>, context: InvocationContext): AsyncGenerator<Uint8Array> {
  const line = (value: unknown) => encoder.encode(`${JSON.stringify(value)}\n`);
  try {
    for await (const event of events) {
      if (event.type === 'delta') yield line({ delta: { content: event.content } });
      else if (event.type === 'error') throw event.error;
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
