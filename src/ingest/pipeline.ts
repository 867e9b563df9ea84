import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { validate } from '../http/body.js';
import { invalidRequest, notFound, payloadTooLarge } from '../errors/index.js';
import type { Chunk, SearchIndex } from '../search/types.js';
import type { ContentStore, DocumentInfo } from '../storage/content-store.js';
import { stripBoilerplate } from './boilerplate.js';
import { embedAll } from './embed.js';
import { documentType, loadPages, type DocumentType } from './loaders.js';
import { splitPages } from './splitter.js';

// load → split → embed → store → index, shared by POST /api/documents, the ingest CLI and the local host's
// first-start sample ingestion. Everything that can reject a file (type, size, parsing) runs before
// anything is written, so a bad file leaves nothing behind.

export interface IngestDependencies {
  index: SearchIndex;
  store: ContentStore;
  /** Present only when an embedding model is configured. */
  embed?: (texts: string[]) => Promise<number[][]>;
  maxDocumentBytes: number;
}

export interface IngestInput {
  name: string;
  bytes: Uint8Array;
  /** Declared media type; the name's extension decides when it is missing or generic. */
  contentType?: string | null;
  category?: string;
}

export interface IngestResult {
  name: string;
  chunks: number;
  pages: number;
  contentType: DocumentType;
}

/**
 * Characters a file name must not hold: path separators and characters that look like them (a name such as
 * `a∕b.pdf` would read as a folder in a citation), control and invisible format characters (bidi overrides
 * such as U+202E make `evil‮fdp.exe` display as `evilexe.pdf`; zero-width characters make two names look
 * identical), line/paragraph separators, lone surrogates (encodeURIComponent throws URIError on them), and
 * `#`/`?`, which end a URL path.
 */
const forbiddenInName = /[/\\#?\u2044\u2215\u2216\u2571\u2572\u29f5\u29f8\u29f9\ufe68\uff0f\uff3c]|[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

/** A document name: a file name (no folders), safe as a blob name and in a URL path. */
export const documentName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .refine(
    (name) => !forbiddenInName.test(name),
    'must be a file name without / \\ # ?, slash or backslash lookalikes (such as ∕ or ／), control, bidi or invisible characters',
  )
  .refine((name) => name !== '.' && name !== '..', 'must be a file name');

export const documentCategory = z.string().trim().min(1).max(100).optional();

/**
 * Deterministic chunk key: readable prefix + hash of the exact name + the ingest version + chunk number (keys
 * allow only [A-Za-z0-9_-=]). The version keeps a re-ingest's new chunks from overwriting the old ones, so
 * the old version stays whole in the index until the new one is committed. Version '' is the key of
 * documents stored before versions existed.
 */
export function chunkId(sourcefile: string, index: number, version = ''): string {
  const readable = sourcefile.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
  const hash = createHash('sha256').update(sourcefile).digest('hex').slice(0, 10);
  return `file-${readable}-${hash}-${version === '' ? '' : `${version}-`}${String(index).padStart(4, '0')}`;
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

/** The citation a chunk is known by: `name#page=N` for PDFs, the name otherwise. */
export function sourcePage(name: string, type: DocumentType, page: number): string {
  return type === 'application/pdf' ? `${name}#page=${page}` : name;
}

export interface PreparedDocument {
  /** The validated name. */
  name: string;
  type: DocumentType;
  pages: number;
  chunks: Chunk[];
  /** The ingest version in the chunk ids. */
  version: string;
}

/** Reads and splits a document into chunks (no side effects). */
export async function prepareChunks(input: IngestInput, maxDocumentBytes: number, version = ''): Promise<PreparedDocument> {
  const name = validate(documentName, input.name, 'name');
  if (input.bytes.byteLength > maxDocumentBytes) {
    throw payloadTooLarge(`"${name}" is ${input.bytes.byteLength} bytes; the limit is ${maxDocumentBytes} (MAX_DOCUMENT_BYTES).`);
  }
  if (input.bytes.byteLength === 0) throw invalidRequest(`"${name}" is empty.`);
  const type = documentType(name, input.contentType);
  // Running headers and footers are not content; pages keep their numbers (ingest/boilerplate.ts).
  const pages = stripBoilerplate(await loadPages(name, type, input.bytes));
  const chunks = splitPages(pages).map((piece, index) => ({
    id: chunkId(name, index, version),
    content: piece.content,
    sourcepage: sourcePage(name, type, piece.page),
    sourcefile: name,
    ...(input.category == null ? {} : { category: input.category }),
    oids: [],
    groups: [],
  }));
  return { name, type, pages: pages.length, chunks, version };
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
export async function ingestDocument(input: IngestInput, dependencies: IngestDependencies): Promise<IngestResult> {
  const version = newVersion();
  const prepared = await prepareChunks(input, dependencies.maxDocumentBytes, version);
  if (dependencies.embed != null && prepared.chunks.length > 0) {
    const vectors = await embedAll(prepared.chunks.map((chunk) => chunk.content), dependencies.embed);
    prepared.chunks.forEach((chunk, index) => (chunk.embedding = vectors[index]));
  }
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
