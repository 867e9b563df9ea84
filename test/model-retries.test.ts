// The retry loop of the model layer (src/model/retries.ts), on its own: what it sleeps, and that a client
// leaving cancels the sleep at once.
import { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { AppError } from '../src/errors/index.js';
import { withRetries } from '../src/model/retries.js';

const throttled = (retryAfter: string) => APIError.generate(429, { error: { message: 'slow down', code: 'rate_limit_exceeded' } }, undefined, new Headers({ 'retry-after': retryAfter }));

describe('withRetries', () => {
  it('a client that leaves during a Retry-After sleep cancels it at once (499), without another attempt', async () => {
    const controller = new AbortController();
    let attempts = 0;
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const outcome = withRetries(
      async () => {
        attempts++;
        throw throttled('10');
      },
      { maxRetries: 2, budgetMs: 60_000, signal: controller.signal },
    );
    await expect(outcome).rejects.toSatisfy((error: unknown) => error instanceof AppError && error.status === 499);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(attempts).toBe(1);
  });

  it('does not sleep a Retry-After longer than the time left: the upstream error comes back at once', async () => {
    let attempts = 0;
    const started = Date.now();
    await expect(
      withRetries(
        async () => {
          attempts++;
          throw throttled('30');
        },
        { maxRetries: 2, budgetMs: 8000 },
      ),
    ).rejects.toBeInstanceOf(APIError);
    expect(attempts).toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('gives each attempt the time that is left', async () => {
    const seen: number[] = [];
    const result = await withRetries(
      async (left) => {
        seen.push(left);
        if (seen.length < 2) throw throttled('0.2');
        return 'ok';
      },
      { maxRetries: 2, budgetMs: 5000 },
    );
    expect(result).toBe('ok');
    expect(seen[0]).toBeLessThanOrEqual(5000);
    expect(seen[1]).toBeLessThanOrEqual(seen[0]! - 200);
  });
});
