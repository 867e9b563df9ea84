import { createHash } from 'node:crypto';
import { z } from 'zod';
import { validate } from '../http/body.js';
import { invalidRequest, notFound, payloadTooLarge } from '../http/errors.js';
import type { Chunk, SearchIndex } from '../search/types.js';
import type { ContentStore, DocumentInfo } from '../storage/content-store.js';
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

/** Deterministic chunk key: readable prefix + hash of the exact name (keys allow only [A-Za-z0-9_-=]). */
export function chunkId(sourcefile: string, index: number): string {
  const readable = sourcefile.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
  const hash = createHash('sha256').update(sourcefile).digest('hex').slice(0, 10);
  return `file-${readable}-${hash}-${String(index).padStart(4, '0')}`;
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
}

/** Reads and splits a document into chunks (no side effects). */
export async function prepareChunks(input: IngestInput, maxDocumentBytes: number): Promise<PreparedDocument> {
  const name = validate(documentName, input.name, 'name');
  if (input.bytes.byteLength > maxDocumentBytes) {
    throw payloadTooLarge(`"${name}" is ${input.bytes.byteLength} bytes; the limit is ${maxDocumentBytes} (MAX_DOCUMENT_BYTES).`);
  }
  if (input.bytes.byteLength === 0) throw invalidRequest(`"${name}" is empty.`);
  const type = documentType(name, input.contentType);
  const pages = await loadPages(name, type, input.bytes);
  const chunks = splitPages(pages).map((piece, index) => ({
    id: chunkId(name, index),
    content: piece.content,
    sourcepage: sourcePage(name, type, piece.page),
    sourcefile: name,
    ...(input.category == null ? {} : { category: input.category }),
    oids: [],
    groups: [],
  }));
  return { name, type, pages: pages.length, chunks };
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

/** Stores and indexes one document, replacing exactly what an earlier version of it left in the index. */
export async function ingestDocument(input: IngestInput, dependencies: IngestDependencies): Promise<IngestResult> {
  const prepared = await prepareChunks(input, dependencies.maxDocumentBytes);
  if (dependencies.embed != null && prepared.chunks.length > 0) {
    const vectors = await embedAll(prepared.chunks.map((chunk) => chunk.content), dependencies.embed);
    prepared.chunks.forEach((chunk, index) => (chunk.embedding = vectors[index]));
  }
  return oneAtATime(prepared.name, () => storeAndIndex(input, prepared, dependencies));
}

async function storeAndIndex(input: IngestInput, { name, type, pages, chunks }: PreparedDocument, dependencies: IngestDependencies): Promise<IngestResult> {
  const existed = (await dependencies.store.info(name)) != null;
  await dependencies.store.put(name, input.bytes, type, {
    chunks: chunks.length,
    pages,
    indexedAt: new Date().toISOString(),
    ...(input.category == null ? {} : { category: input.category }),
  });
  try {
    await dependencies.index.upsert(chunks);
    await dependencies.index.deleteBySource(name, new Set(chunks.map((chunk) => chunk.id)));
  } catch (error: unknown) {
    // A new file whose chunks could not be indexed is removed again rather than listed as indexed.
    if (!existed) await dependencies.store.remove(name).catch(() => undefined);
    throw error;
  }
  return { name, chunks: chunks.length, pages, contentType: type };
}

/** Removes a document's file and chunks; 404 when neither exists. */
export function deleteDocument(name: string, dependencies: Pick<IngestDependencies, 'index' | 'store'>): Promise<void> {
  return oneAtATime(name, async () => {
    const removedChunks = await dependencies.index.deleteBySource(name);
    const removedFile = await dependencies.store.remove(name);
    if (!removedFile && removedChunks === 0) throw notFound(`No document named "${name}".`);
  });
}

/** The documents catalogue (GET /api/documents), by name. */
export async function listDocuments(store: ContentStore): Promise<DocumentInfo[]> {
  const documents = await store.list();
  return documents.sort((a, b) => a.name.localeCompare(b.name));
}
