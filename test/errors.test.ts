import { describe, expect, it } from 'vitest';
import { AppError, errorCodes, errorStatuses, retryAfterMs, retryAfterSeconds, statusOf } from '../src/errors/index.js';
import { translateSearchError } from '../src/errors/search.js';
import { translateStorageError } from '../src/errors/storage.js';

const headers = (values: Record<string, string>) => new Headers(values);

describe('retryAfterSeconds (the one Retry-After parser)', () => {
  it('reads delta-seconds, rounding fractions up', () => {
    expect(retryAfterSeconds(headers({ 'retry-after': '7' }))).toBe(7);
    expect(retryAfterSeconds(headers({ 'retry-after': '0.2' }))).toBe(1);
  });
  it('prefers retry-after-ms, as the openai SDK does', () => {
    expect(retryAfterSeconds(headers({ 'retry-after-ms': '1500', 'retry-after': '30' }))).toBe(2);
  });
  it('reads an HTTP-date relative to now', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterSeconds(headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:42 GMT' }), now)).toBe(42);
    expect(retryAfterSeconds(headers({ 'retry-after': 'Wed, 31 Dec 2025 23:00:00 GMT' }), now)).toBe(0);
  });
  it('gives undefined for absent, empty or garbage values', () => {
    expect(retryAfterSeconds(undefined)).toBeUndefined();
    expect(retryAfterSeconds(headers({}))).toBeUndefined();
    expect(retryAfterSeconds(headers({ 'retry-after': ' ' }))).toBeUndefined();
    expect(retryAfterSeconds(headers({ 'retry-after': 'soon, maybe' }))).toBeUndefined();
  });
  it('keeps millisecond precision for pacing our own retries (the model retry loop reads this)', () => {
    expect(retryAfterMs(headers({ 'retry-after-ms': '250' }))).toBe(250);
    expect(retryAfterMs(headers({ 'retry-after': '0.5' }))).toBe(500);
  });
  it('ignores a blank or negative retry-after-ms and falls back to Retry-After', () => {
    expect(retryAfterMs(headers({ 'retry-after-ms': ' ', 'retry-after': '3' }))).toBe(3000);
    expect(retryAfterMs(headers({ 'retry-after-ms': '-5', 'retry-after': '3' }))).toBe(3000);
  });
  it('reads the Azure SDK header bag as well as fetch Headers', () => {
    const azureHeaders = { get: (name: string) => (name === 'retry-after' ? '9' : undefined) };
    expect(retryAfterSeconds(azureHeaders)).toBe(9);
  });
});

describe('statusOf (the one status extractor)', () => {
  it('reads Azure SDK statusCode and openai status, nothing else', () => {
    expect(statusOf(Object.assign(new Error('rest'), { statusCode: 412 }))).toBe(412);
    expect(statusOf(Object.assign(new Error('api'), { status: 429 }))).toBe(429);
    expect(statusOf(Object.assign(new Error('odd'), { statusCode: '404' }))).toBeUndefined();
    expect(statusOf(new TypeError('x is undefined'))).toBeUndefined();
    expect(statusOf(null)).toBeUndefined();
  });
});

describe('vendor translators', () => {
  it('search: 429 passes Retry-After on from the SDK response headers', () => {
    const sdkError = Object.assign(new Error('throttled'), {
      statusCode: 429,
      response: { headers: { get: (name: string) => (name === 'retry-after' ? '12' : undefined) } },
    });
    const translated = translateSearchError(sdkError, 'search');
    expect(translated).toBeInstanceOf(AppError);
    if (!(translated instanceof AppError)) return;
    expect(translated.code).toBe('rate_limited');
    expect(translated.options.headers).toEqual({ 'Retry-After': '12' });
  });
  it('storage: 5xx and unreachable become storage_unavailable; 404 is left for the caller', () => {
    // What @azure/core-rest-pipeline throws: a RestError (name 'RestError'), with statusCode when storage answered.
    const restError = (message: string, fields: object) => Object.assign(new Error(message), { name: 'RestError' }, fields);
    const unreachable = translateStorageError(restError('connect ECONNREFUSED', { code: 'ECONNREFUSED' }));
    expect(unreachable instanceof AppError && unreachable.code).toBe('storage_unavailable');
    const failing = translateStorageError(restError('busy', { statusCode: 503 }));
    expect(failing instanceof AppError && failing.code).toBe('storage_unavailable');
    const refused = translateStorageError(restError('forbidden', { statusCode: 403 }));
    expect(refused instanceof AppError && refused.code).toBe('storage_auth_failed');
    const bug = new TypeError('x is undefined');
    expect(translateStorageError(bug)).toBe(bug);
    const missing = restError('gone', { statusCode: 404 });
    expect(translateStorageError(missing)).toBe(missing);
  });
});

it('every code of the error table has one status', () => {
  expect(errorCodes.length).toBeGreaterThanOrEqual(22);
  for (const code of errorCodes) expect(errorStatuses[code]).toBeGreaterThanOrEqual(400);
});
