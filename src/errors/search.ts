// Azure AI Search SDK errors → API.md errors.
import { AppError, rateLimited, searchError } from './app-error.js';
import { retryAfterSeconds, type HeaderSource } from './retry-after.js';
import { statusOf } from './status.js';

function responseHeaders(error: object): HeaderSource | undefined {
  if (!('response' in error) || typeof error.response !== 'object' || error.response == null) return undefined;
  const { response } = error;
  if (!('headers' in response) || typeof response.headers !== 'object' || response.headers == null) return undefined;
  const { headers } = response;
  if (!('get' in headers) || typeof headers.get !== 'function') return undefined;
  const get = headers.get.bind(headers);
  return {
    get: (name) => {
      const value: unknown = get(name);
      return typeof value === 'string' ? value : undefined;
    },
  };
}

/** Search service errors → API.md errors, where the service is called. */
export function translateSearchError(error: unknown, action: string): unknown {
  if (error instanceof AppError) return error;
  if (error instanceof Error && error.name === 'AbortError') return error;
  const status = statusOf(error);
  if (status === 429 || status === 503) {
    const headers = typeof error === 'object' && error != null ? responseHeaders(error) : undefined;
    return rateLimited(`Azure AI Search throttled the ${action}; try again later.`, retryAfterSeconds(headers), error);
  }
  return searchError(`Azure AI Search failed during ${action}${status == null ? '' : ` (status ${status})`}.`, error);
}
