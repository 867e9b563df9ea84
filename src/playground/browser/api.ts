// Calls to the app's API from the playground: the function key (in Azure), error bodies, and readers for
// the two streaming formats (Server-Sent Events for ask and chats, NDJSON for chat with your data).

const KEY_STORAGE = 'playground.functionKey';

/** The API lives next to the page: `/api/playground` → `/api`. */
const apiBase = location.pathname.replace(/\/playground\/*$/i, '');

export const apiUrl = (path: string) => `${apiBase}/${path}`;

/** Locally no key is needed (as with Core Tools); anywhere else the routes are authLevel 'function'. */
const isLocal = ['localhost', '127.0.0.1', '[::1]'].includes(location.hostname);

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
  override toString(): string {
    return `${this.status} ${this.code}: ${this.message}`;
  }
}

export function functionKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

let pendingKey: Promise<void> | undefined;

/** Shows the key dialog once; concurrent callers wait for the same answer. */
export function askForKey(reason?: string): Promise<void> {
  pendingKey ??= new Promise<void>((resolve) => {
    const dialog = document.getElementById('key-dialog') as HTMLDialogElement;
    const input = document.getElementById('key-input') as HTMLInputElement;
    const reasonText = document.getElementById('key-reason') as HTMLElement;
    if (reason != null) reasonText.textContent = reason;
    input.value = functionKey() ?? '';
    dialog.addEventListener('close', () => {
      if (input.value.trim() !== '') sessionStorage.setItem(KEY_STORAGE, input.value.trim());
      pendingKey = undefined;
      (document.getElementById('key-button') as HTMLElement).hidden = false;
      resolve();
    }, { once: true });
    dialog.showModal();
  });
  return pendingKey;
}

function withKey(init: RequestInit): RequestInit {
  const key = functionKey();
  if (key == null) return init;
  const headers = new Headers(init.headers);
  headers.set('x-functions-key', key);
  return { ...init, headers };
}

/** Headers for a request made with XMLHttpRequest (uploads, for their progress events). */
export function keyHeaders(): Record<string, string> {
  const key = functionKey();
  return key == null ? {} : { 'x-functions-key': key };
}

/** True when the page must ask for the key before its first call (in Azure, none stored yet). */
export function needsKeyFirst(): boolean {
  return !isLocal && functionKey() == null;
}

/** fetch() against the API; asks for the function key first in Azure, and again when it is refused (401). */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  if (needsKeyFirst()) await askForKey();
  let response = await fetch(apiUrl(path), withKey(init));
  if (response.status === 401) {
    await askForKey('The app refused the request (401): enter its function key.');
    response = await fetch(apiUrl(path), withKey(init));
  }
  return response;
}

/** The API's error body `{"error": {"code", "message"}}` as an ApiError, whatever the response holds. */
export async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const parsed: unknown = JSON.parse(text);
    const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
    if (error != null) return new ApiError(response.status, String(error.code ?? 'error'), String(error.message ?? text));
  } catch {
    // not JSON: fall through to the raw text
  }
  return new ApiError(response.status, 'http_error', text.trim() || response.statusText || 'request failed');
}

/** Throws the response's error unless it is a success. */
export async function ensureOk(response: Response): Promise<Response> {
  if (!response.ok) throw await errorOf(response);
  return response;
}

/** An `{"error": {...}}` payload sent inside a stream, as an ApiError. */
export function streamError(payload: unknown): ApiError | undefined {
  if (!isRecord(payload) || !isRecord(payload.error)) return undefined;
  return new ApiError(200, String(payload.error.code ?? 'error'), String(payload.error.message ?? 'the stream failed'));
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function* lines(response: Response, separator: string): AsyncGenerator<string> {
  if (response.body == null) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    // SSE allows CRLF and CR line ends; a CR at the end of a chunk may be the first half of a CRLF.
    buffer += value;
    const normalized = buffer.endsWith('\r') ? buffer.slice(0, -1) : buffer;
    const carry = buffer.length - normalized.length;
    const text = normalized.replace(/\r\n?/g, '\n');
    const parts = text.split(separator);
    buffer = (parts.pop() ?? '') + (carry ? '\r' : '');
    yield* parts;
  }
  if (buffer.trim() !== '') yield buffer.replace(/\r\n?/g, '\n');
}

export interface SseEvent {
  event: string;
  data: unknown;
}

/** Server-Sent Events (WHATWG: `event:` and `data:` fields, `:` comments, blank line ends an event). */
export async function* readSse(response: Response): AsyncGenerator<SseEvent> {
  for await (const block of lines(response, '\n\n')) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0) continue;
    const text = data.join('\n');
    yield { event, data: parseJson(text) };
  }
}

/** NDJSON: one JSON value per line. */
export async function* readNdjson(response: Response): AsyncGenerator<unknown> {
  for await (const line of lines(response, '\n')) {
    if (line.trim() !== '') yield parseJson(line);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
