// A loopback stand-in for the Azure AI Search REST API (the issue allows one for this backend): records every
// request and answers the few operations the app uses — get/create index, index documents, search, count —
// from an in-memory document map, so tests can check index definitions and request shapes without a service.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SearchRequestRecord {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown> | undefined;
}

export class FakeSearchService {
  readonly requests: SearchRequestRecord[] = [];
  readonly documents = new Map<string, Record<string, unknown>>();
  index: Record<string, unknown> | undefined;
  /** Status answered (with Retry-After: 0) to every search request while set. */
  failSearchWith: number | undefined;
  url = '';
  private server: Server | undefined;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const path = decodeURIComponent(url.pathname);
        const text = Buffer.concat(chunks).toString('utf8');
        const body = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
        this.requests.push({ method: req.method ?? '', path, query: url.searchParams, headers: req.headers, body });
        const [status, payload, headers] = this.answer(req.method ?? '', path, body);
        res.writeHead(status, { 'content-type': typeof payload === 'string' ? 'text/plain' : 'application/json; odata.metadata=none', ...headers });
        res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private answer(method: string, path: string, body: Record<string, unknown> | undefined): [number, unknown, Record<string, string>?] {
    const missing: [number, unknown] = [404, { error: { code: 'ResourceNameNotFound', message: 'No index with the name was found.' } }];
    if (method === 'POST' && path === '/indexes') {
      this.index = body;
      return [201, body];
    }
    const match = /^\/indexes\('([^']+)'\)(.*)$/.exec(path);
    if (match == null) return [400, { error: { code: 'Unexpected', message: `${method} ${path}` } }];
    const rest = match[2];
    if (rest === '' && method === 'GET') return this.index == null ? missing : [200, this.index];
    if (this.index == null) return missing;
    if (rest === '/docs/search.index') {
      const actions = (body?.value ?? []) as Record<string, unknown>[];
      for (const { '@search.action': action, ...document } of actions) {
        if (action === 'delete') this.documents.delete(String(document.id));
        else this.documents.set(String(document.id), { ...this.documents.get(String(document.id)), ...document });
      }
      return [200, { value: actions.map((action) => ({ key: action.id, status: true, errorMessage: null, statusCode: 200 })) }];
    }
    if (rest === '/docs/$count') return [200, String(this.documents.size)];
    if (rest === '/docs/search.post.search') {
      if (this.failSearchWith != null) return [this.failSearchWith, { error: { code: 'Throttled', message: 'slow down' } }, { 'retry-after': '0' }];
      const filter = typeof body?.filter === 'string' ? /^sourcefile eq '(.*)'$/.exec(body.filter) : null;
      const sourcefile = filter?.[1]?.replace(/''/g, "'");
      const value = [...this.documents.values()]
        .filter((document) => sourcefile == null || document.sourcefile === sourcefile)
        .map((document, index) => ({
          '@search.score': 1 / (index + 1),
          '@search.rerankerScore': 3 - index,
          '@search.captions': [{ text: `caption ${index}`, highlights: '' }],
          ...Object.fromEntries(Object.entries(document).filter(([key]) => key !== 'embedding')),
        }))
        .slice(0, Number(body?.top ?? 50));
      return [200, { value }];
    }
    return [400, { error: { code: 'Unexpected', message: `${method} ${path}` } }];
  }
}

export function startFakeSearch(): Promise<FakeSearchService> {
  return new FakeSearchService().start();
}
