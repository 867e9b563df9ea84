import { once } from 'node:events';
import { createDeflate } from 'node:zlib';
import { PDFDocument, StandardFonts } from 'pdf-lib';

/** A small text PDF, one page per string, for loader and upload tests. */
export async function makePdf(pages: string[]): Promise<Uint8Array<ArrayBuffer>> {
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Helvetica);
  for (const text of pages) document.addPage([300, 300]).drawText(text, { x: 20, y: 250, size: 12, font });
  return new Uint8Array(await document.save());
}

/** Like makePdf, with each page's text wrapped in small type, so a page holds about 2,000 characters. */
export async function makeWrappedPdf(pages: string[]): Promise<Uint8Array<ArrayBuffer>> {
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Helvetica);
  for (const text of pages) document.addPage([300, 400]).drawText(text, { x: 10, y: 385, size: 7, lineHeight: 8, maxWidth: 280, font });
  return new Uint8Array(await document.save());
}

/** One indirect object's body, or a stream: its dictionary entries and its (already encoded) bytes. */
type PdfObject = string | { dictionary: string; stream: Uint8Array };

/** A PDF written object by object (pdf-lib takes seconds for 20,000 pages): object 1 is the catalog. */
function writePdf(objects: PdfObject[]): Uint8Array<ArrayBuffer> {
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n')];
  let length = parts[0]!.length;
  const push = (part: Buffer) => {
    parts.push(part);
    length += part.length;
  };
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(length);
    if (typeof object === 'string') {
      push(Buffer.from(`${index + 1} 0 obj\n${object}\nendobj\n`));
    } else {
      push(Buffer.from(`${index + 1} 0 obj\n<< ${object.dictionary} /Length ${object.stream.byteLength} >>\nstream\n`));
      push(Buffer.from(object.stream));
      push(Buffer.from('\nendstream\nendobj\n'));
    }
  });
  const xref = length;
  const entries = offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  push(Buffer.from(`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${entries}`));
  push(Buffer.from(`trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`));
  return new Uint8Array(Buffer.concat(parts));
}

/** Pages given as content-stream references, sharing one Helvetica font: catalog 1, pages 2, font 3. */
function pagesPdf(contents: string[], extra: PdfObject[]): Uint8Array<ArrayBuffer> {
  const first = 4 + extra.length;
  const kids = contents.map((_, index) => `${first + index} 0 R`).join(' ');
  return writePdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${kids}] /Count ${contents.length} >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    ...extra,
    ...contents.map((content) => `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Resources << /Font << /F1 3 0 R >> >> /Contents ${content} >>`),
  ]);
}

/** `pages` pages of one short line each (the 2.7 MB PDF had 20,000). */
export function oneLinePagesPdf(pages: number): Uint8Array<ArrayBuffer> {
  const streams: PdfObject[] = Array.from({ length: pages }, (_, index) => ({
    dictionary: '',
    stream: Buffer.from(`BT /F1 12 Tf 20 250 Td (Page ${index + 1} says one line.) Tj ET`),
  }));
  return pagesPdf(streams.map((_, index) => `${4 + index} 0 R`), streams);
}

/** zlib (FlateDecode) data that inflates to `bytes` bytes of `fill`, compressed as it is produced: little memory. */
export async function deflatedRun(bytes: number, fill: string | number = 0): Promise<Buffer> {
  const deflate = createDeflate({ level: 9, memLevel: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => out.push(chunk));
  // Whole repetitions of `fill` per block, so no operator is cut at a block's edge.
  const unit = typeof fill === 'string' ? Buffer.byteLength(fill) : 1;
  const block = Buffer.alloc(Math.max(unit, Math.floor(Math.min(bytes, 16 * 1024 * 1024) / unit) * unit), fill);
  for (let written = 0; written < bytes; written += block.length) {
    if (!deflate.write(block)) await once(deflate, 'drain');
  }
  deflate.end();
  await once(deflate, 'end');
  return Buffer.concat(out);
}

/**
 * A decompression bomb: one page whose content is `references` references to one FlateDecode stream
 * inflating to `inflatedBytes` of zeros (whitespace to a PDF lexer: no text, all memory). 256 MB × 8 is a
 * 250 KB file that inflates to 2 GB.
 */
export async function inflationBombPdf(inflatedBytes: number, references: number): Promise<Uint8Array<ArrayBuffer>> {
  const bomb: PdfObject = { dictionary: '/Filter /FlateDecode', stream: await deflatedRun(inflatedBytes) };
  return pagesPdf([`[${Array.from({ length: references }, () => '4 0 R').join(' ')}]`], [bomb]);
}

/** One page whose FlateDecode content inflates to `inflatedBytes` of text-showing operators: a text bomb. */
export async function textBombPdf(inflatedBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const shown: PdfObject = { dictionary: '/Filter /FlateDecode', stream: await deflatedRun(inflatedBytes, '1 0 0 1 20 250 Tm (Words that never end.) Tj ') };
  const begin: PdfObject = { dictionary: '', stream: Buffer.from('BT /F1 12 Tf 14 TL 20 250 Td ') };
  const end: PdfObject = { dictionary: '', stream: Buffer.from(' ET') };
  return pagesPdf(['[5 0 R 4 0 R 6 0 R]'], [shown, begin, end]);
}
