// Worst-case documents, generated at test time from a seeded generator (never 'x'.repeat(n), the easiest input
// a tokenizer or regex ever sees): the inputs that made parsers and the splitter super-linear (issue 12 item 9).

/** A small deterministic PRNG (mulberry32), so a failure can be reproduced. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (next: () => number, alphabet: string[]) => alphabet[Math.floor(next() * alphabet.length)]!;

/** `length` characters drawn from `alphabet`, no whitespace. */
export function run(length: number, alphabet: string, seed = 1): string {
  const next = random(seed);
  const characters = Array.from(alphabet);
  let text = '';
  while (text.length < length) text += pick(next, characters);
  return text;
}

/** Punctuation without a single space: no sentence or word boundary anywhere. */
export const punctuationRun = (length: number, seed = 1) => run(length, '.,;:!?-—()[]{}\'"/\\|@#$%^&*+=<>~`', seed);

/** One "word" of mixed letters, digits and non-Latin scripts (including astral characters). */
export const oneWordRun = (length: number, seed = 2) => run(length, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789éßжλ中文𝒜😀', seed);

/** Unclosed tags that never close (`<p<p<p…`, and a mix of tag names and attributes). */
export function unclosedTags(length: number, seed = 3): string {
  const next = random(seed);
  const openers = ['<p', '<div', '<a href="x', '<span class=', '<p<', '<!--', '<script', '<'];
  let html = '';
  while (html.length < length) html += next() < 0.5 ? '<p' : pick(next, openers);
  return html;
}
