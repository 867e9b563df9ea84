import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ConfigError } from '../config.js';
import { AppError, clientClosedRequest, configurationError, type ErrorBody } from '../errors/index.js';
import { abortSignalOf } from './abort.js';
import { redactSecrets } from './redact.js';

/** Wraps a handler so every failure becomes the JSON error of API.md, in exactly one place. */
export function withErrors(handler: HttpHandler): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext) => {
    try {
      return await handler(request, context);
    } catch (error: unknown) {
      // Whatever broke after the caller hung up (a body read cut mid-way throws a bare `Error: aborted`) is
      // their leaving, not our fault: a 499 nobody receives, logged as information. After the request's
      // deadline (http/deadline.ts) it is the deadline's 504, whatever the aborted step threw.
      const signal = abortSignalOf(request);
      if (signal?.aborted === true) error = signal.reason instanceof AppError ? signal.reason : clientClosedRequest(error);
      return errorResponse(error, context);
    }
  };
}

export function errorResponse(error: unknown, context: InvocationContext): HttpResponseInit {
  const appError = toAppError(error, context);
  return { status: appError.status, jsonBody: appError.toBody(), headers: appError.options.headers };
}

/** Known errors pass through; anything else is logged with context and answered as a generic 500. */
export function toAppError(error: unknown, context: InvocationContext): AppError {
  // In Azure nothing checks settings before the first request: every route says which setting is wrong.
  if (error instanceof ConfigError) error = configurationError(`${error.message}. Fix the app settings (local.settings.json locally) and restart.`, error);
  if (error instanceof AppError) {
    if (error.status === 499) context.log(`client_closed_request: the client went away before the answer was complete (499)${describeCause(error.cause)}`);
    else if (error.status >= 500) context.warn(redactSecrets(`${error.code}: ${error.message}${describeCause(error.cause)}`));
    return error;
  }
  context.error(redactSecrets(`Unhandled error in ${context.functionName}: ${describe(error)}`));
  return new AppError(
    500,
    'internal_error',
    `An unexpected error occurred. Quote invocation id ${context.invocationId} when reporting it.`,
  );
}

/** Error text for logs: name and message only, never request bodies or headers that may hold keys. */
function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}\n${error.stack ?? ''}`;
  return String(error);
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? ` (cause: ${cause.name}: ${cause.message})` : '';
}

export function errorBody(error: unknown, context: InvocationContext): ErrorBody {
  return toAppError(error, context).toBody();
}
