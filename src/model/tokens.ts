// Token counting for history budgets. The o200k_base encoding (gpt-4o, gpt-4.1, gpt-5) is required on first
// use, not at import time: loading it costs ~150-250 ms, which must not land on cold start of routes that
// never count tokens.
import { countInPieces } from './long-words.js';

type Encoding = typeof import('gpt-tokenizer/encoding/o200k_base');

let encoding: Encoding | undefined;

function tokenizer(): Encoding {
  encoding ??= require('gpt-tokenizer/encoding/o200k_base') as Encoding;
  return encoding;
}

/** User text may contain special-token strings (`<|endoftext|>`); they are counted as the plain text they are. */
const plainText = { disallowedSpecial: new Set<string>() };

/** Tokens in a text as the chat model counts it. A byte-order mark is stripped first (it is not content). */
export function countTokens(text: string): number {
  const cleaned = text.includes('\uFEFF') ? text.replaceAll('\uFEFF', '') : text;
  if (cleaned === '') return 0;
  return countInPieces(cleaned, (piece) => tokenizer().countTokens(piece, plainText));
}

/** What every message costs besides its content (`<|im_start|>role<|im_sep|>…<|im_end|>`), as OpenAI counts gpt-4o. */
export const MESSAGE_OVERHEAD_TOKENS = 4;

/** Tokens the model adds to every prompt to prime its reply. */
export const REPLY_PRIMING_TOKENS = 3;

/** Tokens one chat message costs in a prompt. */
export function messageTokens(content: string): number {
  return countTokens(content) + MESSAGE_OVERHEAD_TOKENS;
}

export interface FitOptions<M> {
  /** Prompt budget in tokens (system message, history and the newest message together). */
  budget: number;
  /** Tokens a message costs; pass stored counts to avoid re-tokenizing history. */
  tokensOf: (message: M) => number;
}

/**
 * The window of a conversation the model is sent: leading system messages always, the newest message always
 * (it is the question), and then as many of the messages before it as fit the budget, newest first. Older
 * messages are dropped whole, never cut, so the model never sees half a message. Order is kept.
 */
export function fitHistory<M extends { role: string }>(messages: readonly M[], options: FitOptions<M>): M[] {
  let start = 0;
  while (start < messages.length && messages[start]?.role === 'system') start++;
  const system = messages.slice(0, start);
  const rest = messages.slice(start);
  const newest = rest.at(-1);
  if (newest == null) return [...system];
  let used = REPLY_PRIMING_TOKENS + [...system, newest].reduce((sum, message) => sum + options.tokensOf(message), 0);
  let first = rest.length - 1;
  while (first > 0) {
    const candidate = rest[first - 1]!;
    const cost = options.tokensOf(candidate);
    if (used + cost > options.budget) break;
    used += cost;
    first--;
  }
  return [...system, ...rest.slice(first)];
}
