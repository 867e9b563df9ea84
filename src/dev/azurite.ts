import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';

export const AZURITE_PORTS = { blob: 10000, table: 10002 } as const;

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntilListening(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode != null) throw new Error(`Azurite exited with code ${child.exitCode} before listening on ${port}.`);
    if (await isListening(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Azurite did not listen on port ${port} within ${timeoutMs} ms.`);
}

/**
 * Starts Azurite's table and blob services as child processes (data in `location`) for whichever of
 * their ports is free; returns the children it started so the host can stop them.
 */
export async function startAzurite(location: string): Promise<{ children: ChildProcess[]; started: string[] }> {
  let entry: (service: 'blob' | 'table') => string;
  try {
    entry = (service) => require.resolve(`azurite/dist/src/${service}/main.js`);
    entry('table');
  } catch {
    throw new Error('Azurite is not installed (it is a dev dependency): run `npm ci`, or point AzureWebJobsStorage at a storage account.');
  }
  await mkdir(location, { recursive: true });
  const children: ChildProcess[] = [];
  const started: string[] = [];
  for (const service of ['table', 'blob'] as const) {
    const port = AZURITE_PORTS[service];
    if (await isListening(port)) continue;
    const child = spawn(
      process.execPath,
      [entry(service), '--location', location, '--disableTelemetry', '--skipApiVersionCheck', '--loose', '--silent',
        `--${service}Host`, '127.0.0.1', `--${service}Port`, String(port)],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    children.push(child);
    await waitUntilListening(port, child, 15_000);
    started.push(`${service} :${port}`);
  }
  return { children, started };
}
