// Retries of model calls, in one place. The SDK's own loop (maxRetries) sleeps through any Retry-After
// (`retry-after: 30` held a request for a minute with an 8 s MODEL_TIMEOUT_MS), cannot be cancelled while it
// sleeps, and retries an exhausted quota; so the SDK is built with maxRetries 0 and this loop replaces it.
// Each call has MODEL_TIMEOUT_MS until its answer starts: every attempt gets what is left as its SDK timeout,
// a wait longer than what is left is not slept (429: answered at once with the upstream's Retry-After), and a
// client that leaves cancels the sleep.
import { clientClosedRequest, modelTimeout, retryAfterMs } from '../errors/index.js';
import { APIError } from 'openai';
import { isRetryable } from './upstream-errors.js';

export interface RetryOptions {
  maxRetries: number;
  /** Time the call has until its answer starts. */
  budgetMs: number;
  signal?: AbortSignal;
}

/** The SDK's backoff (0.5 s doubling up to 8 s, up to 25 % jitter off), so behaviour matches its docs. */
function backoffMs(retry: number): number {
  return Math.min(500 * 2 ** retry, 8000) * (1 - Math.random() * 0.25);
}

/**
 * Runs `attempt(timeLeftMs)` until it succeeds, a failure is final, or the time is up. The final failure is
 * thrown as it came (callers look at it before `translateModelError` turns it into ours).
 */
export async function withRetries<T>(attempt: (timeLeftMs: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const deadline = Date.now() + options.budgetMs;
  for (let retry = 0; ; retry++) {
    if (options.signal?.aborted) throw clientClosedRequest();
    const left = deadline - Date.now();
    if (left <= 0) throw modelTimeout('The model did not answer in time, retries included. Try again, or raise MODEL_TIMEOUT_MS.');
    try {
      return await attempt(left);
    } catch (error: unknown) {
      if (retry >= options.maxRetries || !isRetryable(error)) throw error;
      const wait = (error instanceof APIError ? retryAfterMs(error.headers) : undefined) ?? backoffMs(retry);
      // Waiting past the deadline helps nobody: say now what the upstream said (429 keeps its Retry-After).
      if (wait >= deadline - Date.now()) throw error;
      await sleep(wait, options.signal);
    }
  }
}

/** Sleeps `ms`, or rejects with client_closed_request as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(clientClosedRequest());
    const onAbort = () => {
      clearTimeout(timer);
      reject(clientClosedRequest());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
