/**
 * Polls until `check` returns a value that is not undefined, or fails after `timeoutMs` with `what` in the
 * message. For outcomes that happen after a response (background sweeps): wait for the positive event,
 * never sleep and then assert that nothing changed.
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
