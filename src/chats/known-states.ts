// What this process last wrote to each chat's state row, kept so the next turn on the chat can start reading
// its history while it reads the state row (two storage round trips at once instead of one after the other).
// Only a guess: the turn still reads the state row, and uses the early history only when the fresh state
// has the same history shape (reads.ts). Another instance's turn, a reset or a delete changes the shape, and
// the turn then reads the history again (one more request), exactly as it would have without the guess.
import { historyShape, type HistoryShape } from './reads.js';
import type { ChatState } from './types.js';

/** Chats remembered per process (a few hundred bytes each, no message text or instructions). */
const MAX_KNOWN = 2000;

export interface KnownState {
  shape: HistoryShape;
  /** Prompt tokens of the instructions (0 without any). */
  systemTokens: number;
  /** The chat's own MAX_OUTPUT_TOKENS override, if any. */
  maxOutputTokens?: number;
  /** Client tool calls were pending: such a turn is refused or resumed, not read ahead. */
  pending: boolean;
}

const known = new Map<string, KnownState>();

const keyOf = (tableName: string, chatId: string) => `${tableName}\n${chatId}`;

/** After this process wrote `state` (a commit, a create or reset). */
export function rememberState(tableName: string, state: ChatState): void {
  const key = keyOf(tableName, state.chatId);
  known.delete(key);
  // An older state row without the instructions' count: not worth tokenizing them here.
  if (state.instructions != null && state.instructionTokens == null) return;
  known.set(key, {
    shape: historyShape(state),
    systemTokens: state.instructions == null ? 0 : (state.instructionTokens ?? 0),
    ...(state.tools.maxOutputTokens == null ? {} : { maxOutputTokens: state.tools.maxOutputTokens }),
    pending: state.pending != null,
  });
  // Oldest written first: dropping it keeps the chats in use.
  if (known.size > MAX_KNOWN) known.delete(known.keys().next().value!);
}

export function knownState(tableName: string, chatId: string): KnownState | undefined {
  return known.get(keyOf(tableName, chatId));
}

export function forgetState(tableName: string, chatId: string): void {
  known.delete(keyOf(tableName, chatId));
}
