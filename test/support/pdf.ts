import { PDFDocument, StandardFonts } from 'pdf-lib';

/** A small text PDF, one page per string, for loader and upload tests. */
export async function makePdf(pages: string[]): Promise<Uint8Array<ArrayBuffer>> {
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Helvetica);
  for (const text of pages) document.addPage([300, 300]).drawText(text, { x: 20, y: 250, size: 12, font });
  return new Uint8Array(await document.save());
}
