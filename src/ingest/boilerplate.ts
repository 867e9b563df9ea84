import type { PageText } from './splitter.js';

// Headers and footers repeated on every page ("Employee Handbook - page 3 of 12") are not content: indexed,
// they match every query that shares a word with the title and dilute each page's own terms. A line is
// boilerplate when, with its numbers ignored, it is among the first or last lines of most pages. Only the
// text changes: each page keeps its number, which is what citations (`file.pdf#page=N`) use.

/** Lines at each end of a page where running headers and footers sit. */
const EDGE_LINES = 2;
/** Share of pages a line must edge to count as boilerplate... */
const MIN_SHARE = 0.6;
/** ...in a document of at least this many pages (with fewer, repetition says nothing). */
const MIN_PAGES = 3;
/** Longer lines are content, whatever repeats them. */
const MAX_LINE_CHARS = 200;

/** The line with its numbers (page numbers, dates) and spacing ignored. */
function shapeOf(line: string): string {
  return line.trim().toLowerCase().replace(/\d+/g, '#').replace(/\s+/g, ' ');
}

function edgeLines(text: string): string[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  return lines.length <= 2 * EDGE_LINES ? lines : [...lines.slice(0, EDGE_LINES), ...lines.slice(-EDGE_LINES)];
}

/** The shapes of lines repeated at the edges of most pages. */
export function boilerplateShapes(pages: PageText[]): Set<string> {
  if (pages.length < MIN_PAGES) return new Set();
  const pagesWith = new Map<string, number>();
  for (const page of pages) {
    const shapes = new Set(edgeLines(page.text).filter((line) => line.length <= MAX_LINE_CHARS).map(shapeOf));
    for (const shape of shapes) if (shape !== '') pagesWith.set(shape, (pagesWith.get(shape) ?? 0) + 1);
  }
  const needed = Math.max(MIN_PAGES, Math.ceil(pages.length * MIN_SHARE));
  return new Set([...pagesWith].filter(([, count]) => count >= needed).map(([shape]) => shape));
}

/** The pages without their repeated headers and footers; page numbers unchanged. */
export function stripBoilerplate(pages: PageText[]): PageText[] {
  const shapes = boilerplateShapes(pages);
  if (shapes.size === 0) return pages;
  const stripped = pages.map((page) => ({
    ...page,
    text: page.text
      .split('\n')
      .filter((line) => !(line.length <= MAX_LINE_CHARS && shapes.has(shapeOf(line))))
      .join('\n'),
  }));
  // A document that is nothing but its repeated lines keeps them: they are its content then.
  return stripped.some((page) => page.text.trim() !== '') ? stripped : pages;
}
