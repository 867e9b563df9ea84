import path from 'node:path';
import { invalidRequest, unsupportedMediaType } from '../errors/index.js';
import type { PageText } from './splitter.js';
import { htmlToText } from './html-text.js';

// Loaders turn a file's bytes into text per page (1-based). Anything that cannot be read is a 400 with the
// reason, before anything is stored; a type we cannot read at all is a 415.

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

/** The document type from the declared media type, else the file extension; 415 when neither is readable. */
export function documentType(name: string, declared: string | null | undefined): DocumentType {
  const media = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  const fromMedia = byMediaType[media];
  if (fromMedia != null) {
    // A generic text/plain upload of a .md or .html file keeps the richer type of its name.
    const fromName = byExtension[path.extname(name).toLowerCase()];
    return media === 'text/plain' && fromName != null && fromName !== 'application/pdf' ? fromName : fromMedia;
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

/** Reads the document into pages of text. */
export async function loadPages(name: string, type: DocumentType, bytes: Uint8Array): Promise<PageText[]> {
  const pages = type === 'application/pdf' ? await pdfPages(name, bytes) : await textPages(name, type, bytes);
  if (!pages.some((page) => page.text.trim() !== '')) {
    const hint = type === 'application/pdf' ? ' (a scanned PDF needs OCR first, which this app does not do)' : '';
    throw invalidRequest(`"${name}" contains no text to index${hint}.`);
  }
  return pages;
}

async function pdfPages(name: string, bytes: Uint8Array): Promise<PageText[]> {
  if (Buffer.from(bytes.subarray(0, 1024)).indexOf('%PDF-') < 0) {
    throw invalidRequest(`"${name}" is not a PDF file (no %PDF- header). The file may be corrupt or of another type.`);
  }
  // unpdf is ESM-only; loaded on first use (~3 ms).
  const { extractText, getDocumentProxy } = await import('unpdf');
  let document: Awaited<ReturnType<typeof getDocumentProxy>> | undefined;
  try {
    // pdf.js takes ownership of (detaches) the buffer it gets: hand it a copy.
    document = await getDocumentProxy(new Uint8Array(bytes));
    const { text } = await extractText(document, { mergePages: false });
    return text.map((pageText, index) => ({ page: index + 1, text: normalizePdfText(pageText) }));
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalidRequest(`Could not read "${name}" as a PDF: ${reason}. The file may be corrupt or truncated.`);
  } finally {
    await document?.destroy().catch(() => undefined);
  }
}

/** pdf.js text often carries runs of spaces and stray carriage returns. */
function normalizePdfText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/[ \t]+/g, ' ').replace(/ *\n */g, '\n').trim();
}

async function textPages(name: string, type: DocumentType, bytes: Uint8Array): Promise<PageText[]> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalidRequest(`"${name}" is not valid UTF-8 text. Save it as UTF-8, or upload it with its real type.`);
  }
  if (text.includes('\u0000')) throw invalidRequest(`"${name}" contains binary data, not text.`);
  text = text.replace(/\r\n?/g, '\n');
  if (type === 'text/html') return [{ page: 1, text: await htmlToText(text) }];
  // Form feeds separate pages in plain-text exports (pdftotext, printers): keep them as page numbers.
  return text.split('\f').map((pageText, index) => ({ page: index + 1, text: pageText }));
}
