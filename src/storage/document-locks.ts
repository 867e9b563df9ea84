import type { BlobLeaseClient, ContainerClient } from '@azure/storage-blob';
import { storageUnavailable } from '../errors/index.js';
import { storageStatus, translateStorageError } from '../errors/storage.js';

// A lock per document name that holds across processes and instances: a blob lease on `.locks/<name>` in the
// content container (Blob Storage and Azurite both grant leases; a per-process queue cannot stop two
// instances from interleaving an upload and a delete). The lock blob doubles as the intent record: it exists
// from the moment an ingest or delete starts until it has finished, so one left behind by a crash says
// "this document's index entries may disagree with its blob", and the repair on the next start (or the next
// operation on that name) finds it. Document names cannot contain `/`, so no document is ever under `.locks/`.

export const LOCK_PREFIX = '.locks/';
/** Lease length in seconds (15..60 allowed): how long a crashed holder blocks the name. */
const LEASE_SECONDS = 15;
const RENEW_EVERY_MS = 5_000;
/** How long an operation waits for another holder before answering 503. */
const WAIT_FOR_LOCK_MS = 2 * LEASE_SECONDS * 1000 + 5_000;

export interface DocumentLock {
  readonly name: string;
  /** True once a renewal failed: another holder may have the name, so nothing more may be committed. */
  lost(): boolean;
  /** Work finished: deletes the lock blob (the intent) and its lease. */
  release(): Promise<void>;
  /** Work left unfinished (a failure): frees the lease but keeps the blob, so a repair will look at the name. */
  abandon(): Promise<void>;
}

const lockBlobName = (name: string) => `${LOCK_PREFIX}${name}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class DocumentLocks {
  constructor(private readonly container: () => Promise<ContainerClient>) {}

  /** Waits for the name's lease (up to about two lease periods: a crashed holder's lease runs out), then holds it. */
  async acquire(name: string): Promise<DocumentLock> {
    const deadline = Date.now() + WAIT_FOR_LOCK_MS;
    for (;;) {
      const lock = await this.tryAcquire(name);
      if (lock != null) return lock;
      if (Date.now() > deadline) {
        throw storageUnavailable(`Document "${name}" is being changed by another request that did not finish in time; try again.`);
      }
      await sleep(250 + Math.random() * 250);
    }
  }

  /** The lease now, or undefined when someone else holds it. */
  async tryAcquire(name: string): Promise<DocumentLock | undefined> {
    const container = await this.container();
    const blob = container.getBlockBlobClient(lockBlobName(name));
    try {
      // The lock blob exists while anyone works on the name; create it when it is not there.
      await blob.upload('', 0, { conditions: { ifNoneMatch: '*' } }).catch((error: unknown) => {
        if (storageStatus(error) !== 409 && storageStatus(error) !== 412) throw error;
      });
      const lease = blob.getBlobLeaseClient();
      await lease.acquireLease(LEASE_SECONDS);
      return heldLock(name, lease, blob);
    } catch (error: unknown) {
      const status = storageStatus(error);
      // 409: leased by someone else; 404: its holder just finished and deleted it (try again).
      if (status === 409 || status === 404 || status === 412) return undefined;
      throw translateStorageError(error);
    }
  }

  /** Names whose lock blob is present: an operation is running, or one was interrupted. */
  async pending(): Promise<string[]> {
    const container = await this.container();
    const names: string[] = [];
    try {
      for await (const blob of container.listBlobsFlat({ prefix: LOCK_PREFIX })) names.push(blob.name.slice(LOCK_PREFIX.length));
    } catch (error: unknown) {
      throw translateStorageError(error);
    }
    return names;
  }
}

function heldLock(name: string, lease: BlobLeaseClient, blob: ReturnType<ContainerClient['getBlockBlobClient']>): DocumentLock {
  let lost = false;
  let done = false;
  const renewal = setInterval(() => {
    lease.renewLease().catch(() => (lost = true));
  }, RENEW_EVERY_MS);
  renewal.unref();
  const finish = async (action: () => Promise<unknown>) => {
    if (done) return;
    done = true;
    clearInterval(renewal);
    try {
      await action();
    } catch (error: unknown) {
      // Not fatal: the lease runs out by itself within LEASE_SECONDS, and a kept blob is only repaired again.
      if (storageStatus(error) == null) throw error;
    }
  };
  return {
    name,
    lost: () => lost,
    release: () => finish(() => blob.delete({ conditions: { leaseId: lease.leaseId } })),
    abandon: () => finish(() => lease.releaseLease()),
  };
}
