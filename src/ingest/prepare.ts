import { createHash } from 'node:crypto';
import { z } from 'zod';
import { validate } from '../http/body.js';
import { invalidRequest, payloadTooLarge } from '../errors/index.js';
import { countTokens } from '../model/tokens.js';
import type { Chunk } from '../search/types.js';
import { stripBoilerplate } from './boilerplate.js';
import { documentType, loadPages, type DocumentType, type ReadLimits } from './loaders.js';
import { splitPages } from './splitter.js';

// A document's bytes to chunks: validate, read (with its limits), strip boilerplate, split. Pure CPU and no
// side effects, so it can run anywhere: the app runs it in a worker thread (ingest/parse-isolated.ts), tests
// and benchmarks call it directly.

export interface IngestInput {
  name: string;
  bytes: Uint8Array;
  /** Declared media type; the name's extension decides when it is missing or generic. */
  contentType?: string | null;
  category?: string;
}

/** What one document may be: MAX_DOCUMENT_BYTES, MAX_DOCUMENT_PAGES, MAX_DOCUMENT_TEXT_CHARS. */
export interface DocumentLimits extends ReadLimits {
  bytes: number;
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
  /** Each chunk's token count, counted where it was split (the worker), for the embedding batches. */
  tokens: number[];
}

/** The checks that need no parsing (name, size, type): the validated name and type, or the 4xx. */
export function admitDocument(input: IngestInput, maxDocumentBytes: number): { name: string; type: DocumentType } {
  const name = validate(documentName, input.name, 'name');
  if (input.bytes.byteLength > maxDocumentBytes) {
    throw payloadTooLarge(`"${name}" is ${input.bytes.byteLength} bytes; the limit is ${maxDocumentBytes} (MAX_DOCUMENT_BYTES).`);
  }
  if (input.bytes.byteLength === 0) throw invalidRequest(`"${name}" is empty.`);
  return { name, type: documentType(name, input.contentType, input.bytes) };
}

/** Reads and splits a document into chunks (no side effects), in the calling thread. */
export async function prepareChunks(input: IngestInput, limits: DocumentLimits, version = ''): Promise<PreparedDocument> {
  const { name, type } = admitDocument(input, limits.bytes);
  // Running headers and footers are not content; pages keep their numbers (ingest/boilerplate.ts).
  const pages = stripBoilerplate(await loadPages(name, type, input.bytes, limits));
  const chunks = splitPages(pages).map((piece, index) => ({
    id: chunkId(name, index, version),
    content: piece.content,
    sourcepage: sourcePage(name, type, piece.page),
    sourcefile: name,
    ...(input.category == null ? {} : { category: input.category }),
    oids: [],
    groups: [],
  }));
  return { name, type, pages: pages.length, chunks, version, tokens: chunks.map((chunk) => countTokens(chunk.content)) };
}
