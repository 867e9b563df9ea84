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
import { compileRoute, matchRoutes, type CompiledRoute } from './routes.js';

export const ROUTE_PREFIX = 'api';

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
function toHttpRequest(incoming: IncomingMessage, url: URL, params: Record<string, string>, signal: AbortSignal): HttpRequest {
  const method = incoming.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const nativeRequest = new Request(url, {
    method,
    headers: toHeaders(incoming),
    ...(hasBody ? { body: Readable.toWeb(incoming) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  } as RequestInit);
  // `nativeRequest` is how the worker itself hands a streaming request to @azure/functions (pinned version).
  const init: HttpRequestInit & { nativeRequest: Request } = { nativeRequest, params };
  const request = new HttpRequest(init);
  attachAbortSignal(request, signal);
  return request;
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

async function writeResponse(req: IncomingMessage, res: ServerResponse, result: HttpResponseInit | HttpResponse | undefined, invocationId: string): Promise<void> {
  const buffered = inMemoryBody(result);
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

export interface LocalHost {
  server: Server;
  routes: CompiledRoute<HttpRegistration>[];
}

/** Serves the registered HTTP functions under /api, the way the Functions host routes them. */
export function createLocalHost(registrations: HttpRegistration[], log: Logger): LocalHost {
  const routes = registrations.map((registration) => compileRoute(registration.route, registration));
  const server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, (req, res) => {
    void handle(req, res).catch((error: unknown) => {
      log('error', 'host', ['Unhandled host error:', error]);
      if (!res.headersSent) writeJsonError(res, 500, 'internal_error', 'The local host failed to process the request.');
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const prefix = `/${ROUTE_PREFIX}/`;
    if (!url.pathname.toLowerCase().startsWith(prefix)) {
      writeJsonError(res, 404, 'not_found', `Routes live under ${prefix}; nothing at ${url.pathname}.`);
      return;
    }
    let matches;
    try {
      matches = matchRoutes(routes, url.pathname.slice(prefix.length));
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
    const request = toHttpRequest(req, url, match.params, aborter.signal);
    const result = await registration.handler(request, context);
    await writeResponse(req, res, result, invocationId);
  }

  return { server, routes };
}
