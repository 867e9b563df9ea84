// The one Retry-After parser: how long an upstream (model, search) asks us to wait, used both to pace our own
// retries and to pass the wait on to our caller in seconds.

/** Anything with a header getter: fetch `Headers`, the Azure SDK's `HttpHeaders`. */
export interface HeaderSource {
  get(name: string): string | null | undefined;
}

/**
 * Milliseconds to wait. `retry-after-ms` wins when present (as the openai SDK and Azure OpenAI do); `Retry-After`
 * is either delta-seconds or an HTTP-date (RFC 9110 § 10.2.3). Unparseable or absent: undefined.
 */
export function retryAfterMs(headers: HeaderSource | undefined, now: number = Date.now()): number | undefined {
  const millis = headers?.get('retry-after-ms');
  if (millis != null && millis.trim() !== '') {
    const value = Number(millis);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const value = headers?.get('retry-after');
  if (value == null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Seconds to pass on in our own Retry-After (rounded up, so a client never retries early). */
export function retryAfterSeconds(headers: HeaderSource | undefined, now: number = Date.now()): number | undefined {
  const millis = retryAfterMs(headers, now);
  return millis == null ? undefined : Math.ceil(millis / 1000);
}
