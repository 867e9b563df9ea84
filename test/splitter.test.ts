import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { embedChunks, embeddingBatches } from '../src/ingest/embed.js';
import { prepareChunks } from '../src/ingest/prepare.js';
import { defaultSplitOptions, joinPages, splitPages, type PageText, type SplitOptions } from '../src/ingest/splitter.js';
import { countTokens } from '../src/model/tokens.js';
import { oneWordRun, punctuationRun } from './support/worst-case.js';

const isSpace = (char: string | undefined) => char != null && /\s/.test(char);

/** Pages of prose: words of 1..maxWord letters joined by spaces, sentence ends, line and paragraph breaks. */
const pagesOf = (maxWord: number, maxWords: number) =>
  fc
    .array(
      fc.array(
        fc.tuple(
          fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzé0123456789'), minLength: 1, maxLength: maxWord }),
          fc.constantFrom(' ', ' ', ' ', ' ', '. ', '! ', '\n', '.\n\n', ', '),
        ),
        { maxLength: maxWords },
      ),
      { minLength: 1, maxLength: 5 },
    )
    .map((pages): PageText[] => pages.map((words, index) => ({ page: index + 1, text: words.map(([word, gap]) => word + gap).join('') })));

function pageOf(pages: PageText[], position: number): number {
  let offset = 0;
  for (const page of pages) {
    if (position < offset + page.text.length + 1) return page.page;
    offset += page.text.length + 1;
  }
  return pages.at(-1)!.page;
}

function checkProperties(pages: PageText[], options: SplitOptions) {
  const text = joinPages(pages);
  const chunks = splitPages(pages, options);
  const firstText = text.search(/\S/);
  if (firstText < 0) {
    expect(chunks).toEqual([]);
    return;
  }
  const lastText = text.length - (text.length - text.trimEnd().length);
  // Coverage: no text before the first chunk, after the last, or between two chunks.
  expect(chunks[0]!.start).toBeLessThanOrEqual(firstText);
  expect(chunks.at(-1)!.end).toBeGreaterThanOrEqual(lastText);
  const pageEnds = new Set<number>();
  let offset = 0;
  for (const page of pages.slice(0, -1)) pageEnds.add((offset += page.text.length + 1) - 1);
  chunks.forEach((chunk, index) => {
    // Never inside a word; within the caps; page of the first word.
    expect(chunk.start === 0 || isSpace(text[chunk.start - 1])).toBe(true);
    expect(chunk.end === text.length || isSpace(text[chunk.end])).toBe(true);
    expect(countTokens(chunk.content)).toBeLessThanOrEqual(options.maxTokens);
    expect(chunk.content.length).toBeLessThanOrEqual(options.targetChars);
    expect(chunk.content).toBe(text.slice(chunk.start, chunk.end).trim());
    expect(chunk.page).toBe(pageOf(pages, chunk.start + text.slice(chunk.start).search(/\S/)));
    expect(chunk.pages[0]).toBe(chunk.page);
    const next = chunks[index + 1];
    if (next == null) return;
    if (next.start > chunk.end) expect(text.slice(chunk.end, next.start).trim()).toBe('');
    expect(next.start).toBeGreaterThan(chunk.start);
    // Overlap of at most ~10%, present unless the cut fell on a page break (or nothing but space lies there).
    expect(chunk.end - next.start).toBeLessThanOrEqual(options.overlapChars);
    const windowStart = Math.max(chunk.start + 1, chunk.end - options.overlapChars);
    const wordStartsInWindow = /\s\S/.test(text.slice(windowStart - 1, chunk.end));
    if (!pageEnds.has(chunk.end) && wordStartsInWindow) {
      expect(next.start).toBeLessThan(chunk.end);
    }
  });
}

describe('splitPages', () => {
  it('covers all text, overlaps, respects caps and word boundaries (default sizes)', () => {
    fc.assert(fc.property(pagesOf(12, 400), (pages) => checkProperties(pages, defaultSplitOptions)), { numRuns: 60 });
  });

  it('keeps the properties when the token cap binds before the character target', () => {
    const options: SplitOptions = { targetChars: 160, overlapChars: 16, maxTokens: 20, countTokens };
    fc.assert(fc.property(pagesOf(7, 120), (pages) => checkProperties(pages, options)), { numRuns: 100 });
  });

  it('records the start page and every page a chunk spans', () => {
    const pages = [
      { page: 1, text: 'Alpha beta gamma.' },
      { page: 2, text: 'Delta epsilon.' },
      { page: 3, text: 'Zeta eta theta.' },
    ];
    const [chunk] = splitPages(pages);
    expect(chunk).toMatchObject({ page: 1, pages: [1, 2, 3] });
  });

  it('cuts a single giant word only where the token cap forces it', () => {
    const word = 'x'.repeat(6000);
    const chunks = splitPages([{ page: 1, text: `start ${word} end` }]);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(countTokens(chunk.content)).toBeLessThanOrEqual(500);
    expect(chunks.map((chunk) => chunk.content).join('')).toContain('end');
  });

  it('prefers sentence ends, so a chunk ends with a full sentence', () => {
    const sentence = 'The plan covers one routine exam every twelve months with a small copay. ';
    const chunks = splitPages([{ page: 1, text: sentence.repeat(40) }]);
    for (const chunk of chunks) expect(chunk.content.endsWith('.')).toBe(true);
  });
});

describe('splitPages on worst-case input (issue 12 item 9)', () => {
  /** Splits with a counting tokenizer: how many characters were tokenized in all, versus the text's length. */
  function tokenizedPerCharacter(pages: PageText[]) {
    let counted = 0;
    const options: SplitOptions = { ...defaultSplitOptions, countTokens: (text) => ((counted += text.length), countTokens(text)) };
    const chunks = splitPages(pages, options);
    return { chunks, ratio: counted / joinPages(pages).length };
  }

  it('tokenizes each character a bounded number of times for punctuation and one-word runs without spaces', { timeout: 120_000 }, () => {
    for (const text of [punctuationRun(40_000), oneWordRun(60_000)]) {
      const { chunks, ratio } = tokenizedPerCharacter([{ page: 1, text }]);
      // The shrink-by-0.8 loop re-tokenized each 50,000-character piece ~20 times: a ratio in the hundreds.
      expect(ratio).toBeLessThan(6);
      expect(chunks.map((chunk) => chunk.content).join('')).toBe(text);
      for (const chunk of chunks) {
        expect(countTokens(chunk.content)).toBeLessThanOrEqual(defaultSplitOptions.maxTokens);
        expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(chunk.content)).toBe(false);
      }
    }
  });

  it('splits 20,000 one-line pages with work proportional to the pages', () => {
    const pages = Array.from({ length: 20_000 }, (_, index) => ({ page: index + 1, text: `Line ${index} of the export.` }));
    const { chunks, ratio } = tokenizedPerCharacter(pages);
    expect(ratio).toBeLessThan(3);
    expect(chunks[0]?.page).toBe(1);
    expect(chunks.at(-1)?.pages.at(-1)).toBe(20_000);
  });
});

describe('embeddingBatches', () => {
  it('puts many inputs in one request but stays within the input and token limits', () => {
    const texts = Array.from({ length: 100 }, (_, index) => `text number ${index}`);
    const batches = embeddingBatches(texts, { maxInputs: 32, maxTokens: 1_000_000 });
    expect(batches.map((batch) => batch.length)).toEqual([32, 32, 32, 4]);
    expect(batches.flat()).toEqual(texts);
    const byTokens = embeddingBatches(['a '.repeat(300), 'b '.repeat(300), 'c'], { maxInputs: 64, maxTokens: 400 });
    expect(byTokens.map((batch) => batch.length)).toEqual([1, 2]);
  });

  it('batches by the token counts the parse worker sent, so the request thread does not count them again', async () => {
    // Counting a 4 MB document's chunks on the request thread took ~0.6 s (bench P8); the worker's counts are used.
    const prepared = await prepareChunks({ name: 'notes.txt', bytes: new TextEncoder().encode('word '.repeat(3_000)) }, { bytes: 1 << 20, pages: 10, textChars: 1 << 20 });
    expect(prepared.tokens).toEqual(prepared.chunks.map((chunk) => countTokens(chunk.content)));
    const batches: string[][] = [];
    // Claimed counts that differ from the real ones: batching follows them, and 'a', 'b', 'c' are 1 token each.
    const chunks = ['a', 'b', 'c'].map((content) => ({ ...prepared.chunks[0]!, content }));
    await embedChunks({ chunks, tokens: [300, 300, 1] }, async (batch) => (batches.push(batch), batch.map((text) => [text.charCodeAt(0)])), { maxInputs: 64, maxTokens: 400 });
    expect(batches).toEqual([['a'], ['b', 'c']]);
    expect(chunks.map((chunk) => chunk.embedding)).toEqual([[97], [98], [99]]);
    // A gateway that drops inputs (fewer vectors than texts) must not shift vectors onto the wrong chunks.
    const short = ['a', 'b'].map((content) => ({ ...prepared.chunks[0]!, content, embedding: undefined }));
    await expect(embedChunks({ chunks: short, tokens: [1, 1] }, async () => [[1]])).rejects.toMatchObject({ status: 502, code: 'model_error' });
  });
});
