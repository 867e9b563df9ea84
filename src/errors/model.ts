// openai SDK errors (OpenAI, Azure OpenAI and OpenAI-compatible servers) → API.md errors.
// Imported only by the lazily loaded model client: it pulls in the openai SDK's error classes.
import { APIConnectionTimeoutError, APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { AppError, clientClosedRequest, modelError, modelTimeout, rateLimited } from './app-error.js';
import { retryAfterSeconds } from './retry-after.js';

export function contentFiltered(): AppError {
  return new AppError(400, 'content_filter', 'The model provider filtered this request or its answer under its content policy.');
}

/**
 * Vendor errors become API.md errors here, where the vendor is called. Upstream bodies are not copied into
 * our messages: they can echo prompts or partial keys.
 */
export function translateModelError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  if (error instanceof APIUserAbortError) return clientClosedRequest(error);
  if (error instanceof APIConnectionTimeoutError) {
    return modelTimeout('The model did not answer in time. Try again, or raise MODEL_TIMEOUT_MS.', error);
  }
  if (error instanceof APIConnectionError) {
    return modelError('Could not reach the model service. Check the endpoint setting and that the server is running.', error);
  }
  if (error instanceof APIError) {
    const status = error.status ?? 0;
    const code = typeof error.code === 'string' ? error.code : undefined;
    if (status === 429) {
      return rateLimited('The model service is throttling requests; retry after the time in Retry-After.', retryAfterSeconds(error.headers), error);
    }
    if (code === 'content_filter' || code === 'content_policy_violation') return contentFiltered();
    if (code === 'context_length_exceeded') {
      return new AppError(400, 'context_length_exceeded', 'The conversation is longer than the model accepts; shorten it.', { cause: error });
    }
    if (status === 408 || status === 504) return modelTimeout('The model service timed out.', error);
    if (status === 401 || status === 403) {
      return modelError(`The model service rejected our credentials (${status}). Check the key or the identity's role assignment.`, error);
    }
    if (status === 404) {
      return modelError('The model service does not know the configured model or deployment (404). Check CHAT_MODEL_DEPLOYMENT_NAME.', error);
    }
    return modelError(`The model service failed (${status || 'no status'}).`, error);
  }
  return error;
}
