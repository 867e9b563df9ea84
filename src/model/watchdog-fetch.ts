// The `fetch` the openai SDK is given. The SDK's own `timeout` stops at the response headers: a server that
// sends headers and then nothing (a stalled plain answer, or a stream after one delta) would hold the request
// forever. This fetch watches the body: every read from upstream must bring bytes within `silenceMs`, or the
// body fails with ModelSilenceError (504 model_timeout). A stream that keeps producing is never cut, because
// only silence counts. It also keeps the raw text of error responses (bounded), because the SDK drops reasons
// that are not in OpenAI's `{"error": {...}}` shape (vLLM's `{"object":"error","message"}`), and it turns the
// `error:` SSE field older llama.cpp builds send at HTTP 200 into the `data:` line the SDK understands.

/** The upstream sent nothing for `silentMs` while we waited for more of its answer. */
export class ModelSilenceError extends Error {
  override name = 'ModelSilenceError';
  constructor(readonly silentMs: number) {
    super(`The model sent nothing for ${silentMs} ms.`);
  }
}

/** Raw error bodies by the Headers object of the response the SDK sees (APIError.headers is that object). */
const errorBodies = new WeakMap<Headers, string>();

/** Most of an error body kept for the translator (it is shortened again before any message or log). */
const MAX_ERROR_BODY_CHARS = 16_384;

/** The raw text of the error response these headers belong to, if this fetch saw it. */
export function upstreamBodyOf(headers: Headers): string | undefined {
  return errorBodies.get(headers);
}

type Fetch = typeof globalThis.fetch;

/** A fetch whose response bodies fail after `silenceMs` without bytes. */
export function watchdogFetch(silenceMs: number, inner: Fetch = globalThis.fetch): Fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    if (!response.ok) {
      const text = (await readBounded(response, silenceMs)).slice(0, MAX_ERROR_BODY_CHARS);
      const copy = new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
      errorBodies.set(copy.headers, text);
      return copy;
    }
    if (response.body == null) return response;
    const eventStream = (response.headers.get('content-type') ?? '').includes('text/event-stream');
    let body = watched(response.body, silenceMs);
    if (eventStream) body = body.pipeThrough(errorFieldAsData());
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** The body, read under the same silence rule. */
async function readBounded(response: Response, silenceMs: number): Promise<string> {
  if (response.body == null) return '';
  try {
    return await new Response(watched(response.body, silenceMs)).text();
  } catch (error: unknown) {
    if (error instanceof ModelSilenceError) throw error;
    return '';
  }
}

/** `source`, failing with ModelSilenceError when one read from upstream waits longer than `silenceMs`. */
function watched(source: ReadableStream<Uint8Array>, silenceMs: number): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timer: NodeJS.Timeout | undefined;
      const silence = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ModelSilenceError(silenceMs)), silenceMs);
      });
      try {
        const { done, value } = await Promise.race([reader.read(), silence]);
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error: unknown) {
        // Stop the upstream read too: nobody will wait for it any longer.
        reader.cancel(error).catch(() => undefined);
        controller.error(error);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/**
 * Rewrites SSE lines `error: {...}` (llama.cpp before its errors moved into `data:`) as `data: {...}`, so the
 * SDK raises them as APIError instead of ignoring an unknown field. Every other byte passes unchanged.
 */
function errorFieldAsData(): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = '';
  // The field's value is the error object itself; wrapped as `{"error": ...}` the SDK throws it as an APIError.
  const rewrite = (text: string) => text.replace(/^error:[ ]?(.*)$/gm, (_, value: string) => `data: {"error":${value.trim() === '' ? 'null' : value}}`);
  return new TransformStream({
    transform(chunk, controller) {
      pending += decoder.decode(chunk, { stream: true });
      const lastBreak = Math.max(pending.lastIndexOf('\n'), pending.lastIndexOf('\r'));
      if (lastBreak < 0) return;
      const complete = pending.slice(0, lastBreak + 1);
      pending = pending.slice(lastBreak + 1);
      controller.enqueue(encoder.encode(rewrite(complete)));
    },
    flush(controller) {
      pending += decoder.decode();
      if (pending !== '') controller.enqueue(encoder.encode(rewrite(pending)));
    },
  });
}
