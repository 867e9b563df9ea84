import { COUNTED_PIECE_CHARS } from '../model/long-words.js';
import { countTokens } from '../model/tokens.js';

// Sentence-aware splitting with page tracking. Works on offsets into the document's joined text so that
// coverage, overlap and "never inside a word" can be checked (and are, by property-based tests).

export interface PageText {
  /** 1-based page number (1 for documents without pages). */
  page: number;
  text: string;
}

export interface TextChunk {
  content: string;
  /** The page the chunk starts on. */
  page: number;
  /** Every page the chunk spans, ascending. */
  pages: number[];
  /** Offsets of the chunk in `joinPages(pages)`, before trimming whitespace. */
  start: number;
  end: number;
}

export interface SplitOptions {
  /** Target chunk size in characters. */
  targetChars: number;
  /** Overlap with the previous chunk, in characters (about 10% of the target). */
  overlapChars: number;
  /** Hard cap per chunk. */
  maxTokens: number;
  countTokens: (text: string) => number;
}

export const defaultSplitOptions: SplitOptions = { targetChars: 1000, overlapChars: 100, maxTokens: 500, countTokens };

const PAGE_SEPARATOR = '\n';

/** The text the splitter cuts: pages joined by a newline. */
export function joinPages(pages: PageText[]): string {
  return pages.map((page) => page.text).join(PAGE_SEPARATOR);
}

const isSpace = (char: string | undefined) => char != null && /\s/.test(char);

/** Positions where a cut may fall: sentence ends (after punctuation or a blank line) and word ends. */
function boundaries(text: string): { sentences: number[]; words: number[] } {
  const sentences: number[] = [];
  const words: number[] = [];
  for (let i = 1; i < text.length; i++) {
    if (isSpace(text[i]) && !isSpace(text[i - 1])) words.push(i);
  }
  for (const match of text.matchAll(/[.!?;:]["')\]]*(?=\s)|\n[ \t]*(?=\n)/g)) sentences.push(match.index + match[0].length);
  return { sentences, words };
}

/** Last value in sorted `list` within (low, high], or undefined. */
function lastWithin(list: number[], low: number, high: number): number | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! <= high) lo = mid + 1;
    else hi = mid;
  }
  const candidate = list[lo - 1];
  return candidate != null && candidate > low ? candidate : undefined;
}

/** First value in sorted `list` within [low, high), or undefined. */
function firstWithin(list: number[], low: number, high: number): number | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < low) lo = mid + 1;
    else hi = mid;
  }
  const candidate = list[lo];
  return candidate != null && candidate < high ? candidate : undefined;
}

/** Start of the word at or after `position` (skips whitespace). */
function wordStart(text: string, position: number): number {
  let index = position;
  while (index < text.length && isSpace(text[index])) index++;
  return index;
}

/**
 * Splits pages into chunks of about `targetChars`, preferring page ends, then sentence ends, never cutting inside a word
 * (except a single "word" longer than the token cap, which has no other place to cut), each under
 * `maxTokens`, the next starting about `overlapChars` before the previous ended.
 */
export function splitPages(pages: PageText[], options: SplitOptions = defaultSplitOptions): TextChunk[] {
  const text = joinPages(pages);
  const pageStarts: number[] = [];
  let offset = 0;
  for (const page of pages) {
    pageStarts.push(offset);
    offset += page.text.length + PAGE_SEPARATOR.length;
  }
  // Index (not number) of the page holding a position: binary search, as a document may have 20,000 pages.
  const pageIndexAt = (position: number) => Math.max(0, lastIndexAtOrBelow(pageStarts, position));
  const { sentences, words } = boundaries(text);
  // Page ends are the preferred cuts: a chunk that stays on one page cites that page exactly.
  const pageEnds = pageStarts.slice(1).map((position) => position - PAGE_SEPARATOR.length);
  const isPageEnd = new Set(pageEnds);
  const chunks: TextChunk[] = [];
  let start = wordStart(text, 0);
  while (start < text.length) {
    const limit = start + options.targetChars;
    const pageEnd = limit >= text.length ? undefined : lastWithin(pageEnds, start + Math.floor(options.targetChars / 4), limit);
    // A run longer than (cap + 1) pieces surely exceeds the token cap: never tokenize more than that, so a
    // document that is one enormous "word" costs linear, not quadratic, time.
    let end = Math.min(pageEnd ?? chooseEnd(text, start, limit, sentences, words), start + (options.maxTokens + 1) * COUNTED_PIECE_CHARS);
    // A long piece (a run without boundaries) is measured block by block rather than counted whole.
    if (end - start > 2 * options.targetChars || options.countTokens(text.slice(start, end)) > options.maxTokens) {
      end = fitTokenCap(text, start, end, options, sentences, words);
    }
    const content = text.slice(start, end).trim();
    if (content !== '') {
      const first = wordStart(text, start);
      let last = end - 1;
      while (last > first && isSpace(text[last])) last--;
      const firstIndex = pageIndexAt(first);
      const lastIndex = pageIndexAt(last);
      const spanned = pages.slice(firstIndex, lastIndex + 1).map((page) => page.page);
      chunks.push({ content, page: pages[firstIndex]?.page ?? 1, pages: [...new Set(spanned)].sort((a, b) => a - b), start, end });
    }
    if (end >= text.length) break;
    // No overlap across a page break: the next chunk starts, and cites, the next page.
    start = isPageEnd.has(end) ? wordStart(text, end) : nextStart(text, start, end, options.overlapChars, sentences, words);
  }
  return chunks;
}

/** Characters counted at a time while measuring how far the token cap reaches. */
const MEASURE_CHARS = 100;

/**
 * The cut for a piece [start, end) over the token cap, in linear time: walk forward counting blocks of
 * MEASURE_CHARS until the cap is reached (each character counted once), cut there, at a sentence or word end
 * when one lies in the upper half, else hard. Shrinking the whole piece by a factor and re-counting it
 * (the old way) re-tokenized a 50,000-character piece some 20 times per chunk: 11 s for 150 KB of
 * punctuation without spaces.
 */
function fitTokenCap(text: string, start: number, end: number, options: SplitOptions, sentences: number[], words: number[]): number {
  let reach = start;
  let used = 0;
  while (reach < end) {
    const next = Math.min(end, reach + MEASURE_CHARS);
    const size = options.countTokens(text.slice(reach, next));
    if (used + size > options.maxTokens) break;
    used += size;
    reach = next;
  }
  // The cap is reached inside the block after `reach`: cut at a boundary up to `reach`, or, when not even the
  // first block fits (tiny caps), shrink from that block's end as before.
  const upper = Math.min(end, reach + MEASURE_CHARS);
  let cut = reach >= end ? end : keepSurrogatePair(text, start, reach > start ? chooseEnd(text, start, reach, sentences, words, true) : upper);
  // Counting in blocks can under-count where tokens merge across block edges: shrink until the cap holds
  // (rarely needed, and starting from a close estimate).
  while (cut - start > 1 && options.countTokens(text.slice(start, cut)) > options.maxTokens) {
    cut = keepSurrogatePair(text, start, chooseEnd(text, start, start + Math.floor((cut - start) * 0.8), sentences, words, true));
  }
  return cut;
}

/** Moves a cut that would split a surrogate pair one code unit back (a chunk must be well-formed text). */
function keepSurrogatePair(text: string, start: number, cut: number): number {
  const before = text.charCodeAt(cut - 1);
  return cut - 1 > start && before >= 0xd800 && before <= 0xdbff ? cut - 1 : cut;
}

/** Index of the last value <= `value` in ascending `sorted`, or -1. */
function lastIndexAtOrBelow(sorted: number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** The cut for a chunk starting at `start` that should end near `limit`. */
function chooseEnd(text: string, start: number, limit: number, sentences: number[], words: number[], shrinking = false): number {
  if (limit >= text.length) return text.length;
  const minimum = start + Math.floor((limit - start) / 2);
  const sentenceEnd = lastWithin(sentences, minimum, limit);
  if (sentenceEnd != null) return sentenceEnd;
  const wordEnd = lastWithin(words, start, limit);
  if (wordEnd != null) return wordEnd;
  if (shrinking) return Math.max(start + 1, limit);
  // One word longer than the target: take it whole (the token cap may still cut it).
  return firstWithin(words, limit, text.length) ?? text.length;
}

/** Where the next chunk starts: a sentence (else word) start within the overlap window before `end`. */
function nextStart(text: string, start: number, end: number, overlap: number, sentences: number[], words: number[]): number {
  const windowStart = Math.max(start + 1, end - overlap);
  for (const list of [sentences, words]) {
    let candidate = firstWithin(list, windowStart, end);
    while (candidate != null) {
      const next = wordStart(text, candidate);
      if (next > start && next < end) return next;
      candidate = firstWithin(list, candidate + 1, end);
    }
  }
  return wordStart(text, end);
}
