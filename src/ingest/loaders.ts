import path from 'node:path';
import { AppError, invalidRequest, payloadTooLarge, unsupportedMediaType } from '../errors/index.js';
import type { PageText } from './splitter.js';
import { htmlToText } from './html-text.js';

// Loaders turn a file's bytes into text per page (1-based). Anything that cannot be read is a 400 with the
// reason, before anything is stored; a type we cannot read at all is a 415. The page and text limits are
// applied while reading (413 at the first page or character past them), so a document far over them costs
// no more than one at them.

export type DocumentType = 'application/pdf' | 'text/markdown' | 'text/plain' | 'text/html';

const byExtension: Record<string, DocumentType> = {
  '.pdf': 'application/pdf',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.txt': 'text/plain',
  '.text': 'text/plain',
  '.html': 'text/html',
  '.htm': 'text/html',
};

const byMediaType: Record<string, DocumentType> = {
  'application/pdf': 'application/pdf',
  'text/markdown': 'text/markdown',
  'text/x-markdown': 'text/markdown',
  'text/plain': 'text/plain',
  'text/html': 'text/html',
  'application/xhtml+xml': 'text/html',
};

/** Content types that say nothing about the file, so the name's extension decides. */
const genericTypes = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'application/x-www-form-urlencoded']);

export const supportedTypes = Object.keys(byMediaType);

/** True when the bytes carry a PDF header where readers look for one (the first 1 KB). */
export function looksLikePdf(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 1024)).indexOf('%PDF-') >= 0;
}

/**
 * The document type from the declared media type, else the file extension; 415 when neither is readable.
 * `text/plain` is also what a multipart file part without a Content-Type means (RFC 7578), so a `.pdf` declared
 * that way is read as a PDF when its bytes are one.
 */
export function documentType(name: string, declared: string | null | undefined, bytes?: Uint8Array): DocumentType {
  const media = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  const fromMedia = byMediaType[media];
  if (fromMedia != null) {
    // A generic text/plain upload of a .md or .html file keeps the richer type of its name.
    const fromName = byExtension[path.extname(name).toLowerCase()];
    if (media === 'text/plain' && fromName === 'application/pdf') return bytes != null && looksLikePdf(bytes) ? fromName : fromMedia;
    return media === 'text/plain' && fromName != null ? fromName : fromMedia;
  }
  if (genericTypes.has(media)) {
    const fromName = byExtension[path.extname(name).toLowerCase()];
    if (fromName != null) return fromName;
  }
  const what = media === '' || genericTypes.has(media) ? `the file name "${name}"` : `content type "${media}"`;
  throw unsupportedMediaType(
    `Cannot ingest ${what}: supported are PDF (.pdf, application/pdf), Markdown (.md, text/markdown), ` +
      'plain text (.txt, text/plain) and HTML (.html, text/html).',
  );
}

/** MAX_DOCUMENT_PAGES and MAX_DOCUMENT_TEXT_CHARS. */
export interface ReadLimits {
  pages: number;
  textChars: number;
}

const tooManyPages = (name: string, pages: number | string, limit: number) =>
  payloadTooLarge(`"${name}" has ${pages} pages; the limit is ${limit} (MAX_DOCUMENT_PAGES). Split it into smaller documents.`);

const tooMuchText = (name: string, limit: number) =>
  payloadTooLarge(`"${name}" holds more than ${limit} characters of text (MAX_DOCUMENT_TEXT_CHARS). Split it into smaller documents.`);

/** Reads the document into pages of text. */
export async function loadPages(name: string, type: DocumentType, bytes: Uint8Array, limits: ReadLimits): Promise<PageText[]> {
  const pages = type === 'application/pdf' ? await pdfPages(name, bytes, limits) : await textPages(name, type, bytes, limits);
  if (!pages.some((page) => page.text.trim() !== '')) {
    const hint = type === 'application/pdf' ? ' (a scanned PDF needs OCR first, which this app does not do)' : '';
    throw invalidRequest(`"${name}" contains no text to index${hint}.`);
  }
  return pages;
}

async function pdfPages(name: string, bytes: Uint8Array, limits: ReadLimits): Promise<PageText[]> {
  if (!looksLikePdf(bytes)) {
    throw invalidRequest(`"${name}" is not a PDF file (no %PDF- header). The file may be corrupt or of another type.`);
  }
  // unpdf is ESM-only; loaded on first use (~3 ms).
  const { getDocumentProxy } = await import('unpdf');
  let document: Awaited<ReturnType<typeof getDocumentProxy>> | undefined;
  let complete = false;
  try {
    // pdf.js takes ownership of (detaches) the buffer it gets: hand it a copy.
    document = await getDocumentProxy(new Uint8Array(bytes));
    // The page count is in the page tree: a document over the limit is refused before any page is read.
    if (document.numPages > limits.pages) throw tooManyPages(name, document.numPages, limits.pages);
    const pages: PageText[] = [];
    let chars = 0;
    // One page at a time (unpdf's extractText reads every page at once: 20,000 pages took 3.9 GiB).
    for (let number = 1; number <= document.numPages; number++) {
      const page = await document.getPage(number);
      const text = await pageText(page.streamTextContent(), limits.textChars - chars, () => tooMuchText(name, limits.textChars));
      page.cleanup();
      chars += text.length;
      pages.push({ page: number, text: normalizePdfText(text) });
    }
    complete = true;
    return pages;
  } catch (error: unknown) {
    if (error instanceof AppError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw invalidRequest(`Could not read "${name}" as a PDF: ${reason}. The file may be corrupt or truncated.`);
  } finally {
    // After a refusal pdf.js may still be parsing a page, and destroy() would wait for it: the caller (the
    // parsing worker) is thrown away instead.
    const closed = document?.destroy().catch(() => undefined);
    if (complete) await closed;
  }
}

/**
 * A page's text from pdf.js's text stream (what unpdf's extractText joins: each item's string, a newline
 * after items that end a line), stopped as soon as it passes `room` characters: one page of a text bomb
 * never has to be held whole.
 */
async function pageText(stream: ReadableStream<unknown>, room: number, overLimit: () => AppError): Promise<string> {
  const reader = stream.getReader();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text;
      for (const item of textItems(value)) text += item.str + (item.hasEOL === true ? '\n' : '');
      if (text.length > room) throw overLimit();
    }
  } finally {
    // Not awaited: pdf.js settles a cancel only when the page's parse reaches its end, which is the very
    // work (minutes, for a text bomb) a cancel is meant to spare.
    void reader.cancel().catch(() => undefined);
  }
}

/** The text items of one chunk of pdf.js's text stream (marked-content entries have no `str`). */
function textItems(chunk: unknown): { str: string; hasEOL?: boolean }[] {
  const items = (chunk as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) return [];
  return items.filter((item): item is { str: string; hasEOL?: boolean } => typeof (item as { str?: unknown } | null)?.str === 'string');
}

/** pdf.js text often carries runs of spaces and stray carriage returns. */
function normalizePdfText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/[ \t]+/g, ' ').replace(/ *\n */g, '\n').trim();
}

async function textPages(name: string, type: DocumentType, bytes: Uint8Array, limits: ReadLimits): Promise<PageText[]> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalidRequest(`"${name}" is not valid UTF-8 text. Save it as UTF-8, or upload it with its real type.`);
  }
  if (text.includes('\u0000')) throw invalidRequest(`"${name}" contains binary data, not text.`);
  text = text.replace(/\r\n?/g, '\n');
  if (type === 'text/html') return [{ page: 1, text: await htmlToText(text, limits.textChars, () => tooMuchText(name, limits.textChars)) }];
  if (text.length > limits.textChars) throw tooMuchText(name, limits.textChars);
  // Form feeds separate pages in plain-text exports (pdftotext, printers): keep them as page numbers, and
  // stop at the first one past the page limit.
  const pages: PageText[] = [];
  let start = 0;
  for (;;) {
    const end = text.indexOf('\f', start);
    if (pages.length === limits.pages) throw tooManyPages(name, `more than ${limits.pages}`, limits.pages);
    pages.push({ page: pages.length + 1, text: end < 0 ? text.slice(start) : text.slice(start, end) });
    if (end < 0) return pages;
    start = end + 1;
  }
}
