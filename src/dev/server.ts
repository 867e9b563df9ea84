import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import {
  HttpRequest,
  HttpResponse,
  InvocationContext,
  type HttpMethod,
  type HttpRequestInit,
  type HttpResponseInit,
  type LogLevel,
} from '@azure/functions';
import { attachAbortSignal } from '../http/abort.js';
import type { HttpRegistration } from './functions-core.js';
import { byFunctionName, compileRoute, matchRoutes, type CompiledRoute } from '../http/route-template.js';
import { corsHeaders, preflight, type CorsSettings } from './cors.js';

/** Core Tools' and Azure's default `extensions.http.routePrefix`. */
export const ROUTE_PREFIX = 'api';

export interface HostOptions {
  /** `extensions.http.routePrefix` of host.json ('' serves routes at the root). */
  routePrefix: string;
  /** `Host.CORS` / `Host.CORSCredentials` of local.settings.json; none when not set (as Core Tools). */
  cors?: CorsSettings;
  /**
   * `app.setup({ enableHttpStream })`: without it the Functions worker hands handlers a buffered body and sends
   * responses only when complete; the local host does the same, so removing it breaks streaming locally too.
   */
  enableHttpStream: boolean;
}

/** Hop-by-hop headers a handler may not set (the same list the Functions worker drops). */
const blockedHeaders = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'trailers', 'transfer-encoding', 'upgrade']);

export type Logger = (level: LogLevel, functionName: string, args: unknown[]) => void;

function writeJsonError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ error: { code, message } }));
}

function toHeaders(incoming: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value == null) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

/** Builds the same HttpRequest the worker builds in stream mode: the body stays a stream, never buffered. */
async function toHttpRequest(incoming: IncomingMessage, url: URL, params: Record<string, string>, signal: AbortSignal, stream: boolean): Promise<HttpRequest> {
  const method = incoming.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  // Without enableHttpStream the worker receives the whole body over gRPC before the handler runs.
  const body = !hasBody ? undefined : stream ? (Readable.toWeb(incoming) as ReadableStream<Uint8Array>) : await readWhole(incoming);
  const nativeRequest = new Request(url, {
    method,
    headers: toHeaders(incoming),
    ...(body == null ? {} : { body, duplex: 'half' }),
  } as RequestInit);
  // `nativeRequest` is how the worker itself hands a streaming request to @azure/functions (pinned version).
  const init: HttpRequestInit & { nativeRequest: Request } = { nativeRequest, params };
  const request = new HttpRequest(init);
  attachAbortSignal(request, signal);
  return request;
}

async function readWhole(incoming: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

const nullBodyStatuses = new Set([204, 205, 304]);

/**
 * A body the handler already holds in memory (text, JSON, bytes) is sent in one write with Content-Length,
 * without wrapping it in a web stream first: that wrapping and a separate header write cost more than the
 * rest of the host's work per request (npm run bench, P1/P4).
 */
function inMemoryBody(result: HttpResponseInit | HttpResponse | undefined): { init: HttpResponseInit; bytes: Buffer } | undefined {
  if (result == null || result instanceof HttpResponse || nullBodyStatuses.has(result.status ?? 200)) return undefined;
  const headers = new Headers(result.headers);
  let bytes: Buffer;
  if (result.jsonBody != null) {
    bytes = Buffer.from(JSON.stringify(result.jsonBody));
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  } else if (typeof result.body === 'string') {
    bytes = Buffer.from(result.body);
    if (!headers.has('content-type')) headers.set('content-type', 'text/plain;charset=UTF-8');
  } else if (result.body instanceof Uint8Array) {
    bytes = Buffer.from(result.body.buffer, result.body.byteOffset, result.body.byteLength);
  } else {
    return undefined;
  }
  return { init: { status: result.status, headers, cookies: result.cookies }, bytes };
}

async function writeResponse(
  req: IncomingMessage,
  res: ServerResponse,
  result: HttpResponseInit | HttpResponse | undefined,
  invocationId: string,
  stream: boolean,
): Promise<void> {
  const buffered = inMemoryBody(result) ?? (stream ? undefined : await wholeBody(result));
  const response = result instanceof HttpResponse ? result : new HttpResponse(buffered?.init ?? result ?? {});
  const connection = response.headers.get('connection');
  for (const [name, value] of response.headers.entries()) {
    if (!blockedHeaders.has(name) && !(connection?.toLowerCase().split(',').map((h) => h.trim()).includes(name))) {
      res.setHeader(name, value);
    }
  }
  res.setHeader('x-ms-invocation-id', invocationId);
  // A handler that answered without reading the whole body (413, early 400) leaves bytes on the socket:
  // close it instead of reading an oversized upload to its end.
  if (!req.complete && req.method !== 'GET' && req.method !== 'HEAD') res.setHeader('Connection', 'close');
  res.statusCode = response.status;
  if (buffered != null) {
    res.setHeader('Content-Length', buffered.bytes.length);
    res.end(buffered.bytes);
    return;
  }
  const body = response.body;
  if (body == null) {
    res.end();
    return;
  }
  const reader = body.getReader();
  const onClose = () => {
    // The client went away: cancelling the body runs the producer's `finally`, which aborts upstream calls.
    if (!res.writableFinished) void reader.cancel().catch(() => undefined);
  };
  res.on('close', onClose);
  try {
    res.flushHeaders();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) break;
      if (!res.write(value)) await new Promise<void>((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
    }
    res.end();
  } finally {
    res.off('close', onClose);
    reader.releaseLock();
  }
}

/** Without enableHttpStream the worker sends a response only once its body is complete (no streaming). */
async function wholeBody(result: HttpResponseInit | HttpResponse | undefined): Promise<{ init: HttpResponseInit; bytes: Buffer } | undefined> {
  if (result == null) return undefined;
  const response = result instanceof HttpResponse ? result : new HttpResponse(result);
  if (response.body == null) return undefined;
  const bytes = Buffer.from(await response.arrayBuffer());
  return { init: { status: response.status, headers: response.headers, cookies: response.cookies }, bytes };
}

export interface LocalHost {
  server: Server;
  routes: CompiledRoute<HttpRegistration>[];
}

/** Serves the registered HTTP functions under /api, the way the Functions host routes them. */
export function createLocalHost(registrations: HttpRegistration[], log: Logger, options: HostOptions = { routePrefix: ROUTE_PREFIX, enableHttpStream: true }): LocalHost {
  const routes = registrations.map((registration) => compileRoute(registration.route, registration)).sort(byFunctionName);
  const routePrefix = options.routePrefix.replace(/^\/+|\/+$/g, '');
  const server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, (req, res) => {
    void handle(req, res).catch((error: unknown) => {
      log('error', 'host', ['Unhandled host error:', error]);
      if (!res.headersSent) writeJsonError(res, 500, 'internal_error', 'The local host failed to process the request.');
      else res.destroy();
    });
  });
  // A client that sends its headers too slowly (or broken ones) gets a JSON error like every other answer,
  // instead of Node's bare 408/400.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true) {
      socket.destroy();
      return;
    }
    const [status, code, message] =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request headers were not received in time.']
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'invalid_request', 'The request headers are too large.']
          : [400, 'invalid_request', 'The request is not valid HTTP.'];
    const body = JSON.stringify({ error: { code, message } });
    const reason = status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    if (options.cors != null) {
      for (const [name, value] of Object.entries(corsHeaders(options.cors, req.headers))) res.setHeader(name, value);
      if (preflight(options.cors, req, res)) return;
    }
    const prefix = routePrefix === '' ? '/' : `/${routePrefix}/`;
    if (!url.pathname.toLowerCase().startsWith(prefix) && url.pathname.toLowerCase() !== prefix.slice(0, -1)) {
      writeJsonError(res, 404, 'not_found', `Routes live under ${prefix}; nothing at ${url.pathname}.`);
      return;
    }
    let matches;
    try {
      matches = matchRoutes(routes, url.pathname.slice(prefix.length)).sort((a, b) => byFunctionName(a.route, b.route));
    } catch {
      writeJsonError(res, 400, 'invalid_request', 'The URL path is not valid percent-encoding.');
      return;
    }
    const method = (req.method ?? 'GET').toUpperCase() as HttpMethod;
    const match = matches.find((candidate) => candidate.route.value.methods.includes(method));
    if (match == null) {
      const allowed = [...new Set(matches.flatMap((candidate) => candidate.route.value.methods))];
      const message = allowed.length > 0
        ? `${method} is not supported on ${url.pathname}; use ${allowed.join(', ')}.`
        : `No function matches ${method} ${url.pathname}.`;
      writeJsonError(res, 404, 'not_found', message);
      return;
    }
    const registration = match.route.value;
    const invocationId = randomUUID();
    const aborter = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) aborter.abort();
    });
    const context = new InvocationContext({
      invocationId,
      functionName: registration.name,
      logHandler: (level, ...args) => log(level, registration.name, args),
    });
    const request = await toHttpRequest(req, url, match.params, aborter.signal, options.enableHttpStream);
    const result = await registration.handler(request, context);
    await writeResponse(req, res, result, invocationId, options.enableHttpStream);
  }

  return { server, routes };
}
