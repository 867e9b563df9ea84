// An HTTP reverse proxy in front of Azurite's blob service that can hold chosen requests, so a test can
// SIGKILL the app at an exact point of a multi-step operation: "hold-request" never forwards the request
// (the write did not happen), "hold-response" forwards it and never answers (the write happened, the app does
// not know). Everything else passes through unchanged (Shared Key signatures cover path and headers, which
// are kept as they are).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Hold {
  method: string;
  /** The request path ends with this (e.g. `/container/name.txt`). */
  pathEnd: string;
  mode: 'hold-request' | 'hold-response';
  /** Resolves when the request arrived and is being held. */
  reached: Promise<void>;
}

export interface HoldingProxy {
  /** Base URL to use as BlobEndpoint (with the account path). */
  url: string;
  hold(method: string, pathEnd: string, mode: Hold['mode']): Hold;
  /** Stops holding new requests (held ones stay held until `close`). */
  clear(): void;
  close(): Promise<void>;
}

export async function startHoldingProxy(target: URL): Promise<HoldingProxy> {
  let holds: (Hold & { resolve: () => void; used: boolean })[] = [];
  const parked: http.ServerResponse[] = [];
  const server = http.createServer((request, response) => {
    const path = decodeURIComponent((request.url ?? '').split('?')[0] ?? '');
    const hold = holds.find((candidate) => !candidate.used && candidate.method === request.method && path.endsWith(candidate.pathEnd));
    if (hold != null) hold.used = true;
    if (hold?.mode === 'hold-request') {
      parked.push(response);
      hold.resolve();
      return;
    }
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        if (hold != null) {
          answer.resume();
          answer.once('end', () => hold.resolve());
          parked.push(response);
          return;
        }
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.once('error', () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    hold(method, pathEnd, mode) {
      let resolve!: () => void;
      const reached = new Promise<void>((done) => (resolve = done));
      const hold = { method, pathEnd, mode, reached, resolve, used: false };
      holds.push(hold);
      return hold;
    },
    clear() {
      holds = [];
    },
    async close() {
      for (const response of parked) response.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
