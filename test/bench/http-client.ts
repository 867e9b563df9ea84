// A timed HTTP client on node:http with one keep-alive agent: records when the request was sent, when each
// body chunk arrived (performance.now(), the same clock as the in-process fake model) and the body.
import { Agent, request as httpRequest } from 'node:http';

export interface TimedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  start: number;
  firstByte: number;
  end: number;
  chunks: { at: number; text: string }[];
  text: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

export function timedRequest(
  url: string,
  /** `body` is sent as JSON; `raw` as it is (set the content type in `headers`). */
  options: { method?: string; headers?: Record<string, string>; body?: unknown; raw?: Uint8Array } = {},
): Promise<TimedResponse> {
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: options.method ?? (payload === undefined ? 'GET' : 'POST'),
      agent,
      headers: {
        ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength }),
        ...options.headers,
      },
    });
    req.setNoDelay(true);
    let start = 0;
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: { at: number; text: string }[] = [];
      res.on('data', (chunk: Buffer) => chunks.push({ at: performance.now(), text: chunk.toString('utf8') }));
      res.on('error', reject);
      res.on('end', () => {
        const end = performance.now();
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          start,
          firstByte: chunks[0]?.at ?? end,
          end,
          chunks,
          text: chunks.map((chunk) => chunk.text).join(''),
        });
      });
    });
    start = performance.now();
    req.end(payload);
  });
}

/** Like timedRequest, but throws on a non-2xx status (with the body, to show in the table). */
export async function ok(url: string, options: Parameters<typeof timedRequest>[1] = {}): Promise<TimedResponse> {
  const response = await timedRequest(url, options);
  if (response.status < 200 || response.status > 299) {
    throw new Error(`${options.method ?? (options.body === undefined && options.raw === undefined ? 'GET' : 'POST')} ${new URL(url).pathname} → ${response.status} ${response.text.slice(0, 200)}`);
  }
  return response;
}

export function closeClient(): void {
  agent.destroy();
}
