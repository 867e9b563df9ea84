// Citations are `[sourcepage]` markers in the answer. Only sources we actually retrieved may be cited: an
// invented or mistyped one is removed rather than shown as a dead link (the scanner in answer-filter.ts
// decides what counts as a citation). Markdown links `[text](url)` are left alone.

export { keepValidCitations, looksLikeSourceReference } from './answer-filter.js';

const CITATION = /\[([^[\]\n]{1,300})\](?!\()/g;

/** Citations in the order they appear, each once. */
export function citationsIn(text: string): string[] {
  return [...new Set([...text.matchAll(CITATION)].map((match) => match[1]!.trim()))];
}
