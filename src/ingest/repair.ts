import type { IngestDependencies } from './pipeline.js';
import { repairDocument } from './pipeline.js';
import { embedChunks } from './embed.js';
import { prepareChunksIsolated } from './parse-isolated.js';

// Bringing the index back in line with the documents in Blob Storage, which are the record:
// - after a crash: names whose lock blob was left behind are repaired (their index entries made to match
//   their blob's metadata), as soon as the crashed holder's lease has run out;
// - after the local index file was found corrupt: every stored document is indexed again.

/** How often names still leased by someone are tried again, and for how long. */
const RETRY_MS = 5_000;
const RETRY_FOR_MS = 120_000;

type Log = (message: string) => void;

/**
 * Repairs every name an interrupted ingest or delete left locked. Names another holder still leases are
 * retried in the background until their lease runs out; resolves when the first pass is done.
 */
export async function repairInterrupted(dependencies: Pick<IngestDependencies, 'index' | 'store'>, log: Log = () => undefined): Promise<number> {
  const pending = await dependencies.store.pendingLocks();
  let repaired = 0;
  const busy: string[] = [];
  for (const name of pending) {
    try {
      if (await repairDocument(name, dependencies)) repaired += 1;
      else busy.push(name);
    } catch (error: unknown) {
      log(`Could not repair the index entries of "${name}": ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (repaired > 0) log(`Repaired the index entries of ${repaired} document(s) left half-changed by an interrupted upload or delete.`);
  if (busy.length > 0) void retryBusy(busy, dependencies, log, Date.now() + RETRY_FOR_MS);
  return repaired;
}

async function retryBusy(names: string[], dependencies: Pick<IngestDependencies, 'index' | 'store'>, log: Log, until: number): Promise<void> {
  let remaining = names;
  while (remaining.length > 0 && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
    const still: string[] = [];
    for (const name of remaining) {
      // A lock blob that is gone was finished by its holder.
      if (!(await dependencies.store.pendingLocks().catch(() => [name])).includes(name)) continue;
      const done = await repairDocument(name, dependencies).catch(() => false);
      if (done) log(`Repaired the index entries of "${name}" after an interrupted upload or delete.`);
      else still.push(name);
    }
    remaining = still;
  }
}

export interface RebuildProgress {
  (message: string | undefined): void;
}

/**
 * Indexes every stored document again (the local index was lost), one at a time under its lock, with the
 * version its blob names, so the result is what the uploads had produced. A document that no longer
 * ingests (a limit lowered since) is reported and skipped. `progress` gets a message while it runs and
 * undefined at the end.
 */
export async function rebuildIndex(dependencies: IngestDependencies, progress: RebuildProgress, log: Log = () => undefined): Promise<void> {
  const documents = await dependencies.store.list();
  const failed: string[] = [];
  for (const [position, document] of documents.entries()) {
    progress(`The local search index file was unreadable (moved aside); it is being rebuilt from Blob Storage: ${position} of ${documents.length} documents done.`);
    const lock = await dependencies.store.lock(document.name);
    try {
      const stored = await dependencies.store.info(document.name);
      const file = stored == null ? undefined : await dependencies.store.read(document.name);
      if (stored == null || file == null) {
        await lock.release();
        continue;
      }
      // Stored files were under MAX_DOCUMENT_BYTES when uploaded; pages and text are checked again.
      const input = { name: stored.name, bytes: file.bytes, contentType: file.contentType, category: stored.category };
      const prepared = await prepareChunksIsolated(input, { ...dependencies.limits, bytes: Number.MAX_SAFE_INTEGER }, stored.version);
      if (dependencies.embed != null) await embedChunks(prepared, dependencies.embed);
      await dependencies.index.upsert(prepared.chunks);
      if (prepared.chunks.length !== stored.chunks || prepared.pages !== stored.pages) {
        // The splitter changed since the upload: the listing must count what the index now holds.
        await dependencies.store.put(stored.name, file.bytes, file.contentType, { ...stored, chunks: prepared.chunks.length, pages: prepared.pages });
      }
      await dependencies.index.deleteBySource(stored.name, new Set(prepared.chunks.map((chunk) => chunk.id)));
      await lock.release();
    } catch (error: unknown) {
      await lock.abandon();
      failed.push(document.name);
      log(`Rebuilding the index: "${document.name}" was skipped: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  log(`The local search index was rebuilt from ${documents.length - failed.length} of ${documents.length} documents in Blob Storage.`);
  progress(failed.length === 0 ? undefined : `The local search index was rebuilt without ${failed.length} document(s) that could not be read again: ${failed.join(', ')}.`);
}
