// The one Retry-After parser: upstream throttling (model, search) is passed on to our caller in seconds.

/** Anything with a header getter: fetch `Headers`, the Azure SDK's `HttpHeaders`. */
export interface HeaderSource {
  get(name: string): string | null | undefined;
}

/**
 * Seconds to pass on in Retry-After. `retry-after-ms` wins when present (as the openai SDK does); `Retry-After`
 * is either delta-seconds or an HTTP-date (RFC 9110 § 10.2.3). Unparseable or absent: undefined.
 */
export function retryAfterSeconds(headers: HeaderSource | undefined, now: number = Date.now()): number | undefined {
  const millisHeader = headers?.get('retry-after-ms');
  if (millisHeader != null) {
    const millis = Number(millisHeader);
    if (Number.isFinite(millis) && millis >= 0) return Math.ceil(millis / 1000);
  }
  const value = headers?.get('retry-after');
  if (value == null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}
