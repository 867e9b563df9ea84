import { describe, expect, it } from 'vitest';
import { AppError } from '../src/errors/index.js';
import { htmlToText } from '../src/ingest/html-text.js';
import { documentType, loadPages } from '../src/ingest/loaders.js';
import { makePdf } from './support/pdf.js';

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(() => undefined, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const limits = { pages: 100, textChars: 100_000 };

describe('loaders', () => {
  it('reads a PDF as text per page with 1-based page numbers', async () => {
    const pages = await loadPages('a.pdf', 'application/pdf', await makePdf(['First page words', 'Second page words', 'Third page']), limits);
    expect(pages).toEqual([
      { page: 1, text: 'First page words' },
      { page: 2, text: 'Second page words' },
      { page: 3, text: 'Third page' },
    ]);
  });

  it('rejects a truncated PDF with a 400 that says so', async () => {
    const bytes = await makePdf(['Some text', 'More text']);
    const error = await rejection(loadPages('broken.pdf', 'application/pdf', bytes.slice(0, Math.floor(bytes.length / 3)), limits));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/broken\.pdf.*(corrupt|truncated)/);
  });

  it('rejects bytes that are not a PDF at all', async () => {
    const error = await rejection(loadPages('fake.pdf', 'application/pdf', new TextEncoder().encode('hello, not a pdf'), limits));
    expect(error.status).toBe(400);
    expect(error.message).toContain('not a PDF');
  });

  it('reads Markdown and plain text as one page, with form feeds as page breaks', async () => {
    const encode = (text: string) => new TextEncoder().encode(text);
    expect(await loadPages('a.md', 'text/markdown', encode('\uFEFF# Title\r\n\r\nBody text.'), limits)).toEqual([{ page: 1, text: '# Title\n\nBody text.' }]);
    expect(await loadPages('a.txt', 'text/plain', encode('one\ftwo'), limits)).toEqual([
      { page: 1, text: 'one' },
      { page: 2, text: 'two' },
    ]);
  });

  it('rejects invalid UTF-8, binary data and empty text', async () => {
    expect((await rejection(loadPages('a.txt', 'text/plain', new Uint8Array([0x66, 0xff, 0xfe, 0x41]), limits))).status).toBe(400);
    expect((await rejection(loadPages('a.txt', 'text/plain', new Uint8Array([0x41, 0, 0x42]), limits))).status).toBe(400);
    expect((await rejection(loadPages('a.md', 'text/markdown', new TextEncoder().encode('  \n '), limits))).message).toContain('no text');
  });

  it('reads HTML as text only: no scripts, styles, comments or tags; entities decoded', async () => {
    const html = '<html><head><title>T</title><style>p{color:red}</style></head><body><h1>Offices</h1><!-- hidden -->' +
      '<p>Fish &amp; chips&nbsp;&#8364;5 &ndash; <b>bold</b></p><script>alert("x")</script><ul><li>One</li><li>Two</li></ul></body></html>';
    const text = await htmlToText(html);
    expect(text).toBe('Offices\n\nFish & chips €5 – bold\n\nOne\n\nTwo');
    expect(await loadPages('a.html', 'text/html', new TextEncoder().encode(html), limits)).toEqual([{ page: 1, text }]);
  });

  it('chooses the type from the media type, else the extension, and answers 415 otherwise', () => {
    expect(documentType('a.pdf', 'application/pdf; charset=binary')).toBe('application/pdf');
    expect(documentType('notes.md', 'text/plain')).toBe('text/markdown');
    expect(documentType('page.htm', 'application/octet-stream')).toBe('text/html');
    expect(documentType('readme.txt', undefined)).toBe('text/plain');
    for (const [name, type] of [['a.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'], ['a.png', undefined], ['a', 'application/octet-stream']] as const) {
      let status: number | undefined;
      try {
        documentType(name, type);
      } catch (error: unknown) {
        status = error instanceof AppError ? error.status : undefined;
      }
      expect(status).toBe(415);
    }
  });
});
