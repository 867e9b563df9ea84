// Azurite's table and blob services started in-process on ephemeral ports, data in a temporary folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);

interface AzuriteServer {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
}
type ServerClass = new (configuration: unknown) => AzuriteServer;
type ConfigurationClass = new (...args: unknown[]) => unknown;

const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface RunningAzurite {
  connectionString: string;
  tablePort: number;
  blobPort: number;
  /** Data folder; pass it (and the ports) to startAzurite again to restart on the same data. */
  dir: string;
  /** `keepData` leaves the data folder for a restart (fault-injection tests). */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

function load<T>(module: string): T {
  return (require(`azurite/dist/src/${module}`) as { default: T }).default;
}

const portOf = (address: string) => Number(new URL(address).port);

/** Starts Azurite on the given ports (0 = any free one), in `dir` (default: a new temporary folder). */
export async function startAzurite(ports: { table?: number; blob?: number; dir?: string } = {}): Promise<RunningAzurite> {
  const dir = ports.dir ?? (await mkdtemp(path.join(tmpdir(), 'azurite-')));
  const TableServer = load<ServerClass>('table/TableServer');
  const TableConfiguration = load<ConfigurationClass>('table/TableConfiguration');
  const BlobServer = load<ServerClass>('blob/BlobServer');
  const BlobConfiguration = load<ConfigurationClass>('blob/BlobConfiguration');
  // Positional arguments as Azurite's own CLI passes them: host, port, keepAlive, db path, ..., loose, skipApiVersionCheck.
  const table = new TableServer(
    new TableConfiguration('127.0.0.1', ports.table ?? 0, 65, path.join(dir, 'table.json'), false, false, undefined, undefined, true, true),
  );
  const blob = new BlobServer(
    new BlobConfiguration('127.0.0.1', ports.blob ?? 0, 65, path.join(dir, 'blob.json'), path.join(dir, 'extent.json'),
      [{ locationId: 'Default', locationPath: path.join(dir, 'blobs'), maxConcurrency: 10 }],
      false, undefined, false, undefined, true, true),
  );
  await table.start();
  await blob.start();
  const tablePort = portOf(table.getHttpServerAddress());
  const blobPort = portOf(blob.getHttpServerAddress());
  return {
    tablePort,
    blobPort,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};` +
      `TableEndpoint=http://127.0.0.1:${tablePort}/${ACCOUNT};BlobEndpoint=http://127.0.0.1:${blobPort}/${ACCOUNT};`,
    dir,
    async stop(options = {}) {
      await table.close();
      await blob.close();
      if (options.keepData !== true) await rm(dir, { recursive: true, force: true });
    },
  };
}
