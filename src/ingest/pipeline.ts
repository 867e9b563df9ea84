import { randomBytes } from 'node:crypto';
import { notFound } from '../errors/index.js';
import type { SearchIndex } from '../search/types.js';
import type { ContentStore, DocumentInfo } from '../storage/content-store.js';
import { embedChunks } from './embed.js';
import type { DocumentType } from './loaders.js';
import { prepareChunksIsolated } from './parse-isolated.js';
import { chunkId, type DocumentLimits, type IngestInput, type PreparedDocument } from './prepare.js';

// load → split → embed → store → index, shared by POST /api/documents, the ingest CLI and the local host's
// first-start sample ingestion. Everything that can reject a file (type, size, parsing, its limits) runs
// before anything is written, so a bad file leaves nothing behind; the parsing runs in a worker thread
// (ingest/parse-isolated.ts).

export interface IngestDependencies {
  index: SearchIndex;
  store: ContentStore;
  /** Present only when an embedding model is configured. */
  embed?: (texts: string[], signal?: AbortSignal) => Promise<number[][]>;
  limits: DocumentLimits;
}

export interface IngestResult {
  name: string;
  chunks: number;
  pages: number;
  contentType: DocumentType;
}

/** The chunk ids a stored document's metadata says the index holds. */
export function committedIds(document: Pick<DocumentInfo, 'name' | 'chunks' | 'version'> | undefined): Set<string> {
  if (document == null) return new Set();
  return new Set(Array.from({ length: document.chunks }, (_, index) => chunkId(document.name, index, document.version)));
}

/** A new ingest version: sortable by time, unique across instances. */
function newVersion(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

const pendingByName = new Map<string, Promise<unknown>>();

/** Runs operations on one document name one after another (two uploads of a name must not interleave). */
function oneAtATime<T>(name: string, operation: () => Promise<T>): Promise<T> {
  const previous = pendingByName.get(name) ?? Promise.resolve();
  const next = previous.then(operation, operation);
  const settled = next.catch(() => undefined);
  pendingByName.set(name, settled);
  void settled.then(() => {
    if (pendingByName.get(name) === settled) pendingByName.delete(name);
  });
  return next;
}

/**
 * Stores and indexes one document, replacing exactly what an earlier version of it left in the index.
 *
 * Crash safety: the blob (with its metadata) is the commit point, and the index is derived from it.
 *   1. take the name's lock; its blob records that the name is being changed (see storage/document-locks.ts)
 *   2. add the new version's chunks (new ids: the old version stays whole and searchable)
 *   3. write the blob with the new version in its metadata: listing, /api/content and the index now agree
 *   4. remove every other chunk of the name (the old version, leftovers of an interrupted ingest)
 *   5. delete the lock blob
 * A crash before 3 leaves the old version listed and served, with extra chunks in the index; a crash after it
 * leaves the new version with extra chunks. Either way the lock blob is left behind, and `repairDocument`
 * (on the next start, or the next operation on the name) removes the chunks the blob does not name.
 */
export async function ingestDocument(input: IngestInput, dependencies: IngestDependencies, signal?: AbortSignal): Promise<IngestResult> {
  const version = newVersion();
  const prepared = await prepareChunksIsolated(input, dependencies.limits, version);
  const { embed } = dependencies;
  if (embed != null) await embedChunks(prepared, (batch) => embed(batch, signal));
  // A request that ended (its deadline passed, or the client left) has had its answer: storing the document
  // after it would contradict that answer. Nothing is written before this point.
  if (signal?.aborted === true) throw signal.reason;
  return underLock(prepared.name, dependencies, () => storeAndIndex(input, prepared, dependencies));
}

async function storeAndIndex(input: IngestInput, { name, type, pages, chunks, version }: PreparedDocument, dependencies: IngestDependencies): Promise<IngestResult> {
  await dependencies.index.upsert(chunks);
  await dependencies.store.put(name, input.bytes, type, {
    chunks: chunks.length,
    pages,
    indexedAt: new Date().toISOString(),
    version,
    ...(input.category == null ? {} : { category: input.category }),
  });
  await dependencies.index.deleteBySource(name, new Set(chunks.map((chunk) => chunk.id)));
  return { name, chunks: chunks.length, pages, contentType: type };
}

/** Removes a document's file and chunks; 404 when neither exists. The blob goes first (the commit point). */
export function deleteDocument(name: string, dependencies: Pick<IngestDependencies, 'index' | 'store'>): Promise<void> {
  return underLock(name, dependencies, async () => {
    const removedFile = await dependencies.store.remove(name);
    const removedChunks = await dependencies.index.deleteBySource(name);
    if (!removedFile && removedChunks === 0) throw notFound(`No document named "${name}".`);
  });
}

/**
 * Runs `operation` holding the name's lock: one at a time within this process (no polling of the lease), and
 * across processes by the lease. On success the lock blob is deleted; on a failure the index is first put back
 * to what the blob says, and the lock blob is kept only when even that failed (the next repair retries it).
 */
function underLock<T>(name: string, dependencies: Pick<IngestDependencies, 'index' | 'store'>, operation: () => Promise<T>): Promise<T> {
  return oneAtATime(name, async () => {
    const lock = await dependencies.store.lock(name);
    let result: T;
    try {
      result = await operation();
    } catch (error: unknown) {
      const repaired = await repairIndex(name, dependencies).then(() => true, () => false);
      await (repaired ? lock.release() : lock.abandon());
      throw error;
    }
    await lock.release();
    return result;
  });
}

/** Makes the index hold exactly the chunks the stored blob names (none when there is no blob). */
async function repairIndex(name: string, dependencies: Pick<IngestDependencies, 'index' | 'store'>): Promise<number> {
  const stored = await dependencies.store.info(name);
  return dependencies.index.deleteBySource(name, committedIds(stored));
}

/**
 * Repairs one name left locked by an interrupted operation, if its lease is free: the lock blob is the proof
 * that the operation did not finish. Returns false when someone holds the name (still running, or a crashed
 * holder's lease has not run out yet).
 */
export async function repairDocument(name: string, dependencies: Pick<IngestDependencies, 'index' | 'store'>): Promise<boolean> {
  return oneAtATime(name, async () => {
    const lock = await dependencies.store.tryLock(name);
    if (lock == null) return false;
    try {
      await repairIndex(name, dependencies);
    } catch (error: unknown) {
      await lock.abandon();
      throw error;
    }
    await lock.release();
    return true;
  });
}

/** The documents catalogue (GET /api/documents), by name. */
export async function listDocuments(store: ContentStore): Promise<Omit<DocumentInfo, 'version'>[]> {
  const documents = await store.list();
  return documents.sort((a, b) => a.name.localeCompare(b.name)).map(({ version: _version, ...document }) => document);
}
