// A TCP proxy in front of one Azurite service that injects the faults a real network and a real storage
// service produce: the connection reset after storage applied a request (the client never sees the answer),
// a refused request (reset before it reaches storage), a blackhole (accepted, never answered), slowness, and
// a held request (for killing the app at an exact point around a write). It parses just enough HTTP/1.1 to
// find request boundaries (request line, headers, Content-Length, which the Azure SDKs always send), so each
// request can be matched by method and path and faulted on its own.
import net, { type AddressInfo, type Socket } from 'node:net';

export interface RequestHead {
  method: string;
  /** Path and query as on the request line, e.g. `/devstoreaccount1/$batch`. */
  path: string;
}

export type Fault =
  | 'pass'
  /** Forward the request; when storage answers, reset the client connection instead of forwarding it. */
  | 'reset-after-response'
  /** Reset the client connection without forwarding the request: storage never sees it. */
  | 'refuse'
  /** Accept the request and never answer (the connection stays open). */
  | 'blackhole'
  /** Delay every chunk of the answer. */
  | { slowMs: number }
  /** Forward the request only when `release` resolves to 'forward'; 'drop' resets the connection instead. */
  | { hold: Promise<'forward' | 'drop'> }
  /** Forward the request; run `before` (e.g. kill the app) when storage has answered, before the answer is forwarded. */
  | { beforeResponse: () => Promise<void> | void };

export interface FaultProxy {
  /** Rewrites a connection string's endpoint for this service to go through the proxy. */
  endpoint: string;
  port: number;
  /** Decides each request's fault; replace it at any time. */
  rule: (head: RequestHead) => Fault;
  /** Every request seen, in order, with the fault it got. */
  log: { head: RequestHead; fault: string }[];
  /** Faults injected, by kind. */
  injected: Record<string, number>;
  close(): Promise<void>;
}

const faultName = (fault: Fault) => (typeof fault === 'string' ? fault : Object.keys(fault)[0]!);

/** Starts a proxy to `target` (e.g. `http://127.0.0.1:10002/devstoreaccount1`); `endpoint` is the same URL through the proxy. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstreamUrl = new URL(target);
  const sockets = new Set<Socket>();
  const proxy: FaultProxy = {
    endpoint: '',
    port: 0,
    rule: () => 'pass',
    log: [],
    injected: {},
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const count = (fault: Fault) => {
    if (fault !== 'pass') proxy.injected[faultName(fault)] = (proxy.injected[faultName(fault)] ?? 0) + 1;
  };

  const server = net.createServer((client) => {
    sockets.add(client);
    const upstream = net.connect(Number(upstreamUrl.port), upstreamUrl.hostname);
    sockets.add(upstream);
    const drop = () => {
      if (!client.destroyed) client.resetAndDestroy();
      upstream.destroy();
    };
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => (client.destroyed ? undefined : client.resetAndDestroy()));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());

    // Writes to storage happen in order; a held request delays everything after it on this connection.
    let toUpstream: Promise<void> = Promise.resolve();
    let toClient: Promise<void> = Promise.resolve();
    let blackholed = false;
    let current: Fault = 'pass';
    let remainingBody = 0;
    let gate: Promise<'forward' | 'drop'> = Promise.resolve('forward');
    let buffered = Buffer.alloc(0);

    const forward = (bytes: Buffer) => {
      if (blackholed) return;
      const through = gate;
      toUpstream = toUpstream.then(async () => {
        if ((await through) === 'drop') return drop();
        if (!upstream.destroyed) upstream.write(bytes);
      });
    };

    client.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        if (remainingBody > 0) {
          if (buffered.length === 0) return;
          const piece = buffered.subarray(0, remainingBody);
          buffered = buffered.subarray(piece.length);
          remainingBody -= piece.length;
          forward(piece);
          continue;
        }
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headBytes = buffered.subarray(0, end + 4);
        buffered = buffered.subarray(end + 4);
        const text = headBytes.toString('latin1');
        const [method = '', path = ''] = text.slice(0, text.indexOf('\r\n')).split(' ');
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(text);
        remainingBody = length == null ? 0 : Number(length[1]);
        const head = { method, path };
        current = proxy.rule(head);
        proxy.log.push({ head, fault: faultName(current) });
        count(current);
        gate = typeof current === 'object' && 'hold' in current ? current.hold : Promise.resolve('forward');
        if (current === 'refuse') {
          drop();
          return;
        }
        if (current === 'blackhole') blackholed = true;
        forward(headBytes);
      }
    });

    upstream.on('data', (chunk: Buffer) => {
      const fault = current;
      if (fault === 'reset-after-response') return drop();
      toClient = toClient.then(async () => {
        if (typeof fault === 'object' && 'slowMs' in fault) await new Promise((resolve) => setTimeout(resolve, fault.slowMs));
        if (typeof fault === 'object' && 'beforeResponse' in fault) {
          current = 'pass';
          await fault.beforeResponse();
        }
        if (!client.destroyed) client.write(chunk);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.endpoint = `http://127.0.0.1:${proxy.port}${upstreamUrl.pathname}`;
  return proxy;
}

/** The connection string with the table (and optionally blob) endpoint replaced by proxies'. */
export function throughProxies(connection: string, proxies: { table?: FaultProxy; blob?: FaultProxy }): string {
  let result = connection;
  if (proxies.table != null) result = result.replace(/TableEndpoint=[^;]+/, `TableEndpoint=${proxies.table.endpoint}`);
  if (proxies.blob != null) result = result.replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=${proxies.blob.endpoint}`);
  return result;
}

/** The service endpoint a connection string names, e.g. `endpointOf(connection, 'Table')`. */
export function endpointOf(connection: string, service: 'Table' | 'Blob'): string {
  const match = new RegExp(`${service}Endpoint=([^;]+)`).exec(connection);
  if (match?.[1] == null) throw new Error(`no ${service}Endpoint in the connection string`);
  return match[1];
}
