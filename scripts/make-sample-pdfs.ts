#!/usr/bin/env node
// `npm run make-sample-pdfs`: renders the sample corpus texts in scripts/sample-corpus/*.txt (our own
// fictitious company's documents) into small text PDFs in data/. Pages are separated by a line `===`;
// `# ` starts a heading, `- ` a bullet. Output is deterministic, so the committed PDFs only change with the text.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PDFDocument, StandardFonts, rgb, type PDFFont } from 'pdf-lib';

const repoRoot = path.resolve(__dirname, '../..');
const sourceDir = path.join(repoRoot, 'scripts/sample-corpus');
const outputDir = path.join(repoRoot, 'data');

const PAGE = { width: 612, height: 792, margin: 64 };
const BODY = { size: 11, leading: 16 };
const HEADING = { size: 17, leading: 26 };

/** Splits text into lines no wider than `width` at `size`, breaking only between words. */
function wrap(text: string, font: PDFFont, size: number, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((item) => item !== '')) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (line !== '' && font.widthOfTextAtSize(candidate, size) > width) {
      lines.push(line);
      line = word;
    } else {
      line = candidate;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

async function render(source: string, title: string): Promise<{ bytes: Uint8Array; pages: number }> {
  const document = await PDFDocument.create();
  const regular = await document.embedFont(StandardFonts.Helvetica);
  const bold = await document.embedFont(StandardFonts.HelveticaBold);
  const fixedDate = new Date('2025-03-01T00:00:00Z');
  document.setTitle(title);
  document.setAuthor('Kestrel Ridge Outfitters (fictional sample company)');
  document.setCreator('scripts/make-sample-pdfs.ts');
  document.setProducer('pdf-lib');
  document.setCreationDate(fixedDate);
  document.setModificationDate(fixedDate);
  const pageTexts = source.split(/^===\s*$/m).map((text) => text.trim()).filter((text) => text !== '');
  const usable = PAGE.width - 2 * PAGE.margin;
  for (const pageText of pageTexts) {
    const page = document.addPage([PAGE.width, PAGE.height]);
    let y = PAGE.height - PAGE.margin;
    for (const paragraph of pageText.split('\n').map((line) => line.trim()).filter((line) => line !== '')) {
      const heading = paragraph.startsWith('# ');
      const bullet = paragraph.startsWith('- ');
      const font = heading ? bold : regular;
      const { size, leading } = heading ? HEADING : BODY;
      const indent = bullet ? 14 : 0;
      const text = heading ? paragraph.slice(2) : bullet ? paragraph.slice(2) : paragraph;
      const lines = wrap(text, font, size, usable - indent);
      lines.forEach((line, index) => {
        if (bullet && index === 0) page.drawText('-', { x: PAGE.margin, y, size, font });
        page.drawText(line, { x: PAGE.margin + indent, y, size, font, color: rgb(0.1, 0.1, 0.1) });
        y -= leading;
      });
      y -= heading ? 4 : 6;
      if (y < PAGE.margin) throw new Error(`A page of ${title} overflows; shorten it: ${pageText.slice(0, 60)}...`);
    }
    const footer = `${title} - page ${document.getPageCount()} of ${pageTexts.length}`;
    page.drawText(footer, { x: PAGE.margin, y: PAGE.margin / 2, size: 8, font: regular, color: rgb(0.4, 0.4, 0.4) });
  }
  return { bytes: await document.save({ useObjectStreams: true }), pages: pageTexts.length };
}

async function main(): Promise<void> {
  const sources = (await readdir(sourceDir)).filter((name) => name.endsWith('.txt')).sort();
  for (const name of sources) {
    const source = await readFile(path.join(sourceDir, name), 'utf8');
    const title = /^# (.+)$/m.exec(source)?.[1] ?? name;
    const { bytes, pages } = await render(source, title);
    const target = path.join(outputDir, name.replace(/\.txt$/, '.pdf'));
    await writeFile(target, bytes);
    console.log(`${path.relative(repoRoot, target)}: ${pages} pages, ${bytes.byteLength} bytes`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
