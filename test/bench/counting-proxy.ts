// A loopback pass-through in front of Azurite's table service that counts the requests going through it,
// so the benchmark can report storage requests per chat turn.
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  port: number;
  /** Requests forwarded so far. */
  count(): number;
  /** Method and path of every request, newest last. */
  log: string[];
  /** Total ms between a request reaching the proxy and its answer's last byte (time spent in storage). */
  busyMs(): number;
  /** TCP connections the app opened to storage so far (few = keep-alive works). */
  connections(): number;
  stop(): Promise<void>;
}

/** `delayMs`: each answer is held this long before it is sent on, as a storage service across a network would take. */
export async function startCountingProxy(targetPort: number, delayMs = 0): Promise<CountingProxy> {
  const agent = new Agent({ keepAlive: true });
  const log: string[] = [];
  const server: Server = createServer({ noDelay: true }, (req, res) => {
    log.push(`${req.method ?? ''} ${req.url ?? ''}`);
    const started = performance.now();
    res.on('finish', () => (busy += performance.now() - started));
    const upstream = httpRequest(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        const forward = () => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        };
        if (delayMs > 0) setTimeout(forward, delayMs);
        else forward();
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  let connections = 0;
  let busy = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    count: () => log.length,
    connections: () => connections,
    busyMs: () => busy,
    log,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
