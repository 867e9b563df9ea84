// One error type for everything the API answers with a status other than 2xx (API.md § Conventions).
// Domain code (chats, rag, ingest, model, search, storage) throws these; http/ turns them into responses.
import type { ErrorCode } from './codes.js';

export type { ErrorCode } from './codes.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export class AppError extends Error {
  override name = 'AppError';

  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly options: { details?: unknown; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: options.cause });
  }

  toBody(): ErrorBody {
    const { details } = this.options;
    return { error: { code: this.code, message: this.message, ...(details == null ? {} : { details }) } };
  }
}

export const invalidRequest = (message: string, details?: unknown) =>
  new AppError(400, 'invalid_request', message, { details });

export const notFound = (message: string) => new AppError(404, 'not_found', message);

export const payloadTooLarge = (message: string) => new AppError(413, 'payload_too_large', message);

export const unsupportedMediaType = (message: string) => new AppError(415, 'unsupported_media_type', message);

export const rateLimited = (message: string, retryAfterSeconds?: number, cause?: unknown) =>
  new AppError(429, 'rate_limited', message, {
    cause,
    headers: retryAfterSeconds == null ? undefined : { 'Retry-After': String(retryAfterSeconds) },
  });

export const modelError = (message: string, cause?: unknown) => new AppError(502, 'model_error', message, { cause });

export const searchError = (message: string, cause?: unknown) => new AppError(502, 'search_error', message, { cause });

export const modelTimeout = (message: string, cause?: unknown) =>
  new AppError(504, 'model_timeout', message, { cause });

/** The provider's quota or billing limit is exhausted: retrying cannot help, so no Retry-After. */
export const quotaExceeded = (message: string, cause?: unknown) => new AppError(429, 'quota_exceeded', message, { cause });

/** No credential for the model could be obtained, or the model service refused ours. */
export const modelAuthFailed = (message: string, cause?: unknown) => new AppError(503, 'model_auth_failed', message, { cause });

export const modelNotConfigured = (message: string) => new AppError(503, 'model_not_configured', message);

/** A setting is missing or invalid: answered on every route, in Azure as locally; the message names it. */
export const configurationError = (message: string, cause?: unknown) =>
  new AppError(503, 'configuration_error', message, { cause });

/** The caller disconnected; nobody reads this answer, it only keeps aborted calls out of the error logs. */
export const clientClosedRequest = (cause?: unknown) =>
  new AppError(499, 'client_closed_request', 'The client closed the request.', { cause });

export const storageUnavailable = (message: string, cause?: unknown) =>
  new AppError(503, 'storage_unavailable', message, { cause });

/** Storage answered but refused our credential (401/403); the message says what to check. */
export const storageAuthFailed = (message: string, cause?: unknown) =>
  new AppError(503, 'storage_auth_failed', message, { cause });
