// BPE tokenizers (gpt-tokenizer included) take time quadratic in the length of a single "word": 64,000
// letters without a space cost ~15 s of CPU, blocking every other request. Runs of non-space characters
// longer than LONG_RUN are therefore counted in pieces of PIECE characters. Ordinary text (no such runs) is
// counted exactly as before; a pathological run is counted to within one token per piece, never less than a
// handful, which is all budgets and splitting need.

const LONG_RUN = 200;
/** Pieces a long run is counted in: each counts as at least one token. */
export const COUNTED_PIECE_CHARS = 100;
const PIECE = COUNTED_PIECE_CHARS;
const longRuns = new RegExp(`\\S{${LONG_RUN},}`, 'g');

/** `count(text)`, in linear time whatever the text. */
export function countInPieces(text: string, count: (text: string) => number): number {
  if (text.length < LONG_RUN || !longRuns.test(text)) return count(text);
  longRuns.lastIndex = 0;
  let total = 0;
  let last = 0;
  for (const match of text.matchAll(longRuns)) {
    if (match.index > last) total += count(text.slice(last, match.index));
    const run = match[0];
    // Step by code points so a surrogate pair is never split.
    const characters = Array.from(run);
    for (let index = 0; index < characters.length; index += PIECE) total += count(characters.slice(index, index + PIECE).join(''));
    last = match.index + run.length;
  }
  if (last < text.length) total += count(text.slice(last));
  return total;
}
