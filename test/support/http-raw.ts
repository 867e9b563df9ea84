// A raw HTTP client for hostile requests: any method, any path bytes (no URL normalisation, unlike fetch),
// any body, bounded concurrency through one keep-alive agent.
import { Agent, request } from 'node:http';

export interface RawRequest {
  method: string;
  /** Path and query as sent on the request line, e.g. `/api/whois/a'b?x=1`. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export function rawClient(baseUrl: string, maxSockets = 8) {
  const origin = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    send(raw: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
      return new Promise((resolve, reject) => {
        const req = request(
          {
            agent,
            host: origin.hostname,
            port: origin.port,
            method: raw.method,
            path: raw.path,
            headers: { ...raw.headers, ...(raw.body == null ? {} : { 'content-length': String(Buffer.byteLength(raw.body)) }) },
            timeout: timeoutMs,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end(raw.body);
      });
    },
    close: () => agent.destroy(),
  };
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function inParallel<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
