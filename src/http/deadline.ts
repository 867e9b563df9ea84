import { config } from '../config.js';
import { modelTimeout, type AppError } from '../errors/index.js';
import { abortSignalOf, attachAbortSignal } from './abort.js';

// Azure's front end ends an HTTP request that has not answered in 230 s, with its own empty error. Each step
// has its own bound (MODEL_TIMEOUT_MS per model call, ~24 s for storage), but a chat turn of 8 tool rounds or a
// RAG request of three model calls adds them up. One deadline per request, REQUEST_DEADLINE_MS, keeps the
// answer ours: the request's signal (the one model calls, tool loops and uploads take) aborts when it passes,
// and the answer is a 504 then even if some step ignores the signal. Only the time before the response starts
// counts: a stream that has started is never cut.

const DEFAULT_DEADLINE_MS = 200_000;

function deadlineMs(): number {
  try {
    return config().requestDeadlineMs;
  } catch {
    // Routes that answer with bad settings (health) still get a deadline.
    return DEFAULT_DEADLINE_MS;
  }
}

export function deadlineExceeded(ms: number): AppError {
  return modelTimeout(`The request did not finish within ${ms} ms (REQUEST_DEADLINE_MS, under the 230 s Azure allows an HTTP request). Try again, or ask for less (fewer tool rounds, a streamed answer).`);
}

/** Runs `work` under the request's deadline; see above. */
export async function withinDeadline<T>(request: object, work: () => Promise<T>): Promise<T> {
  const ms = deadlineMs();
  const deadline = new AbortController();
  const client = abortSignalOf(request);
  attachAbortSignal(request, client == null ? deadline.signal : AbortSignal.any([client, deadline.signal]));
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = deadlineExceeded(ms);
      deadline.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([work(), expired]);
  } finally {
    clearTimeout(timer);
  }
}
