// Every key of the chat table is built here, by exactly one function each (ARCHITECTURE § Chats).
//
// Partition = chat id. One `state` row. One row per message, keyed `m_<generation>_<inverted sequence>`:
// the inverted, zero-padded sequence sorts the newest message first, so "the newest N messages" is one ranged
// query read with byPage({ maxPageSize }). The generation changes on every reset, which makes a reset a single
// write of the state row: the old generation's rows become unreachable at once and are swept afterwards.

/** Largest sequence number a chat can reach (12 digits); far beyond any chat's length. */
export const MAX_SEQUENCE = 999_999_999_999;
const SEQUENCE_DIGITS = 12;

/** The partition of a chat: its id, already validated against API.md's character set. */
export function partitionKey(chatId: string): string {
  return chatId;
}

/** The state row of a chat. Sorts after every message row ('s' > 'm'). */
export function stateRowKey(): string {
  return 'state';
}

/** A message row; smaller keys are newer messages. */
export function messageRowKey(generation: string, sequence: number): string {
  if (!Number.isInteger(sequence) || sequence < 1 || sequence > MAX_SEQUENCE) throw new RangeError(`bad sequence ${sequence}`);
  return `${messagePrefix(generation)}${String(MAX_SEQUENCE - sequence).padStart(SEQUENCE_DIGITS, '0')}`;
}

/** The key range [from, to) holding every message row of one generation, newest first. */
export function messageRowRange(generation: string): { from: string; to: string } {
  const prefix = messagePrefix(generation);
  // '`' is the character after '_': the range covers exactly the keys starting with the prefix.
  return { from: prefix, to: `${prefix.slice(0, -1)}\`` };
}

/** The generation a message row key belongs to, or undefined for rows that are not messages. */
export function generationOfRowKey(rowKey: string): string | undefined {
  const match = /^m_([A-Za-z0-9]+)_\d+$/.exec(rowKey);
  return match?.[1];
}

/** The sequence number a message row key encodes. */
export function sequenceOfRowKey(rowKey: string): number {
  return MAX_SEQUENCE - Number(rowKey.slice(rowKey.lastIndexOf('_') + 1));
}

function messagePrefix(generation: string): string {
  if (!/^[A-Za-z0-9]+$/.test(generation)) throw new RangeError('bad generation');
  return `m_${generation}_`;
}
