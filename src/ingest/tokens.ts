// Token counting for the splitter and embedding batches, in one tiny function so it can be swapped for a
// shared model/tokens module later. The encoding costs ~150 ms to load, so it is loaded on first use only.

import { countInPieces } from '../model/long-words.js';

type CountTokens = (text: string) => number;

let counter: CountTokens | undefined;

/** Loads the o200k_base encoding (gpt-4o family, close enough for text-embedding-3 budgets). */
export function tokenCounter(): CountTokens {
  if (counter == null) {
    const encoding = require('gpt-tokenizer/encoding/o200k_base') as typeof import('gpt-tokenizer/encoding/o200k_base');
    // Special-token strings such as <|endoftext|> in documents are counted as plain text, not rejected;
    // a byte-order mark is stripped first (the library counts it as two tokens).
    counter = (text) => countInPieces(text.replace(/\uFEFF/g, ''), (piece) => encoding.countTokens(piece, { disallowedSpecial: new Set() }));
  }
  return counter;
}

export function countTokens(text: string): number {
  return tokenCounter()(text);
}
