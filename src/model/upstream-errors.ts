// The one translator of model-provider failures into API.md errors. Everything the model layer can throw
// passes through `translateModelError`, so no path through it ends in a 500: SDK errors, Entra ID failures,
// bodies that are not completions, our own silence watchdog and network breaks alike.
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, OpenAIError } from 'openai';
import {
  AppError,
  clientClosedRequest,
  modelAuthFailed,
  modelError,
  modelTimeout,
  quotaExceeded,
  rateLimited,
  retryAfterSeconds,
} from '../errors/index.js';
import { redactSecrets } from '../http/redact.js';
import { ToolsUnsupportedError } from './capabilities.js';
import { ModelSilenceError, upstreamBodyOf } from './watchdog-fetch.js';

/** Which call failed: names the right setting in a 404. */
export type ModelOperation = 'chat' | 'embeddings';

/** Longest upstream reason quoted in a message or a log line. */
const REASON_CHARS = 200;


/**
 * The upstream's own reason, short and plain: the JSON error message whatever shape it came in (OpenAI's
 * `{"error":{"message"}}`, vLLM's older `{"object":"error","message"}`, Ollama's `{"error":"..."}`), or the
 * text of an HTML page (a gateway's sign-in or error page), with secrets redacted.
 */
export function shortReason(raw: string | undefined): string | undefined {
  if (raw == null) return undefined;
  const text = raw.trim();
  if (text === '') return undefined;
  let reason: string | undefined;
  try {
    reason = messageOf(JSON.parse(text));
  } catch {
    reason = undefined;
  }
  if (reason == null) {
    const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(text)?.[1];
    reason = (title ?? text)
      .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
      .replace(/<[^>]*>/g, ' ')
      .replace(/&[a-z]+;|&#\d+;/gi, ' ');
  }
  const plain = redactSecrets(reason.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim());
  if (plain === '') return undefined;
  return plain.length > REASON_CHARS ? `${plain.slice(0, REASON_CHARS - 1)}…` : plain;
}

function messageOf(body: unknown): string | undefined {
  if (typeof body === 'string') return body;
  if (typeof body !== 'object' || body == null) return undefined;
  for (const key of ['error', 'message', 'detail']) {
    const value: unknown = key in body ? (body as Record<string, unknown>)[key] : undefined;
    const found = typeof value === 'string' ? value : messageOf(value);
    if (found != null) return found;
  }
  return undefined;
}

/** The fields providers use to say what went wrong, from an SDK error and the raw body we kept. */
function describe(error: APIError): { status?: number; code?: string; type?: string; param?: string; reason?: string } {
  const raw = error.headers == null ? undefined : upstreamBodyOf(error.headers);
  const inner: unknown = error.error;
  const reason = shortReason(raw) ?? shortReason(typeof inner === 'string' ? inner : JSON.stringify(inner ?? null)) ?? undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined);
  // vLLM's older shape carries type/code at the top level of the body.
  let top: Record<string, unknown> = {};
  try {
    const parsed: unknown = raw == null ? undefined : JSON.parse(raw);
    if (typeof parsed === 'object' && parsed != null) top = parsed as Record<string, unknown>;
  } catch {
    top = {};
  }
  return {
    status: error.status,
    code: text(error.code) ?? text(top['code']),
    type: text(error.type) ?? text(top['type']),
    param: text(error.param) ?? text(top['param']),
    reason,
  };
}

const contextOverflow = /maximum context length|context length|context size|context window|context_length_exceeded|exceed_context_size|prompt is too long|too many tokens/i;

/** Is this the provider saying the prompt does not fit? (OpenAI/Azure code, llama.cpp type, vLLM message.) */
function isContextOverflow(fields: ReturnType<typeof describe>): boolean {
  if (fields.code === 'context_length_exceeded' || fields.type === 'exceed_context_size_error') return true;
  return fields.reason != null && contextOverflow.test(fields.reason) && (fields.status == null || fields.status === 400 || fields.status === 413);
}

export function isToolsUnsupported(error: unknown): boolean {
  if (error instanceof ToolsUnsupportedError) return true;
  if (!(error instanceof APIError) || error.status !== 400) return false;
  const reason = describe(error).reason ?? '';
  return /does not support tools|tools? (?:are|is) not supported|tool_choice.*not supported|does not support function/i.test(reason);
}

/** A 400 saying the request used a parameter reasoning models reject (`max_tokens`, a `temperature`). */
export function isReasoningParameterRejection(error: unknown): boolean {
  if (!(error instanceof APIError) || error.status !== 400) return false;
  const fields = describe(error);
  if (/max_completion_tokens/.test(fields.reason ?? '')) return true;
  const rejected = fields.code === 'unsupported_parameter' || fields.code === 'unsupported_value';
  return rejected && (fields.param === 'max_tokens' || fields.param === 'temperature' || fields.param === 'top_p');
}

/** Older Azure API versions reject `stream_options` ("Unrecognized request argument supplied: stream_options"). */
export function isStreamOptionsRejection(error: unknown): boolean {
  if (!(error instanceof APIError) || error.status !== 400) return false;
  const fields = describe(error);
  return fields.param === 'stream_options' || /stream_options/.test(fields.reason ?? '');
}

/** Provider throttling that a retry may cure (not an exhausted quota). */
export function isRetryable(error: unknown): boolean {
  if (error instanceof APIUserAbortError || error instanceof ModelSilenceError) return false;
  if (error instanceof APIConnectionError) return true;
  if (!(error instanceof APIError) || error.status == null) return false;
  const shouldRetry = error.headers?.get('x-should-retry');
  if (shouldRetry === 'false') return false;
  if (isQuota(error)) return false;
  return shouldRetry === 'true' || error.status === 408 || error.status === 409 || error.status === 429 || error.status >= 500;
}

function isQuota(error: APIError): boolean {
  const fields = describe(error);
  return error.status === 429 && (fields.code === 'insufficient_quota' || fields.type === 'insufficient_quota');
}

function isEntraFailure(error: unknown): error is Error {
  return (
    error instanceof Error &&
    ['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError', 'AuthenticationRequiredError'].includes(error.name)
  );
}

/** Short text of any thrown value, for messages and logs (never a whole upstream page). */
function shortMessage(error: unknown): string {
  return shortReason(error instanceof Error ? error.message : String(error)) ?? 'no reason given';
}

/** A plain Error carrying only the short reason: what the error log shows instead of an upstream body. */
function shortCause(error: unknown): Error {
  const cause = new Error(shortMessage(error));
  cause.name = error instanceof Error ? error.name : 'Error';
  return cause;
}

/**
 * Vendor errors become API.md errors here, where the vendor is called. Messages carry the upstream's reason
 * redacted and shortened, never its body.
 */
export function translateModelError(error: unknown, operation: ModelOperation = 'chat'): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof APIUserAbortError) return clientClosedRequest();
  if (error instanceof ModelSilenceError) {
    return modelTimeout(`The model sent nothing for ${error.silentMs} ms. Try again, or raise MODEL_TIMEOUT_MS.`);
  }
  if (error instanceof APIConnectionTimeoutError) {
    return modelTimeout('The model did not answer in time. Try again, or raise MODEL_TIMEOUT_MS.');
  }
  // The SDK wraps what the token provider throws ("Failed to get token from 'apiKey' function") in an
  // OpenAIError whose cause is the Entra ID error.
  if (error instanceof OpenAIError && !(error instanceof APIError) && isEntraFailure(error.cause)) return translateModelError(error.cause, operation);
  if (isEntraFailure(error)) {
    return modelAuthFailed(
      `No Microsoft Entra ID token could be obtained for Azure OpenAI (${shortMessage(error)}). Locally, sign in with ` +
        '`az login`; in Azure, enable a managed identity and set AZURE_CLIENT_ID for a user-assigned one; the identity ' +
        "needs the 'Cognitive Services OpenAI User' role on the resource. Or set AZURE_OPENAI_API_KEY.",
      shortCause(error),
    );
  }
  if (error instanceof APIConnectionError) {
    if (error.cause instanceof ModelSilenceError) return translateModelError(error.cause, operation);
    if (isEntraFailure(error.cause)) return translateModelError(error.cause, operation);
    return modelError('Could not reach the model service. Check the endpoint setting and that the server is running.', shortCause(error));
  }
  if (error instanceof APIError) return translateApiError(error, operation);
  if (error instanceof Error && isNetworkBreak(error)) {
    return modelError('The model service broke off its answer before it was complete.', shortCause(error));
  }
  return modelError(`The model service answered something that is not a valid response (${shortMessage(error)}).`, shortCause(error));
}

function isNetworkBreak(error: Error): boolean {
  return /terminated|socket|ECONNRESET|premature close|aborted/i.test(`${error.message} ${String(error.cause ?? '')}`);
}

function translateApiError(error: APIError, operation: ModelOperation): AppError {
  const fields = describe(error);
  const status = fields.status;
  const because = fields.reason == null ? '' : `: ${fields.reason}`;
  const cause = shortCause(error);
  if (isQuota(error)) {
    return quotaExceeded(`The model provider's quota or billing limit is exhausted${because}. Check the plan or quota of the account.`, cause);
  }
  if (status === 429) {
    return rateLimited('The model service is throttling requests; retry after the time in Retry-After.', retryAfterSeconds(error.headers), cause);
  }
  if (fields.code === 'content_filter' || fields.code === 'content_policy_violation') return contentFiltered();
  if (isContextOverflow(fields)) {
    return new AppError(
      400,
      'context_length_exceeded',
      `The prompt does not fit the model's context window${because}. Shorten it, or lower MODEL_CONTEXT_TOKENS (and CHAT_HISTORY_TOKENS) to the model's real context size.`,
      { cause },
    );
  }
  if (status === 408 || status === 504) return modelTimeout(`The model service timed out${because}.`, cause);
  if (status === 401 || status === 403) {
    return modelAuthFailed(
      `The model service refused our credentials (${status})${because}. Check the API key, or the identity's role assignment ('Cognitive Services OpenAI User').`,
      cause,
    );
  }
  if (status === 404) {
    const setting = operation === 'embeddings' ? 'EMBEDDING_MODEL_DEPLOYMENT_NAME' : 'CHAT_MODEL_DEPLOYMENT_NAME';
    return modelError(`The model service does not know the configured model or deployment (404)${because}. Check ${setting}.`, cause);
  }
  return modelError(`The model service failed (${status ?? 'in its stream'})${because}.`, cause);
}

export function contentFiltered(): AppError {
  return new AppError(400, 'content_filter', 'The model provider filtered this request or its answer under its content policy.');
}
