// Reading chats: the state row, the recent history a turn needs, and pages of messages for GET. Every read is
// bounded by the state row it starts from: rows past its `totalMessages` are not visible yet.
import type { TableClient } from '@azure/data-tables';
import { tablesSdk } from '../storage/clients.js';
import { storageCall, storageStatus, translateStorageError } from '../errors/storage.js';
import { messageRowKey, partitionKey, stateRowKey } from './keys.js';
import { parseMessage, parseStateRow, type StateRow } from './rows.js';
import type { ChatState, StoredMessage } from './types.js';

/** Rows per history page when the chat's average message size is unknown (no messages, or an older state row). */
export const HISTORY_PAGE_SIZE = 50;
/** Rows a budget-sized page asks for beyond the average's estimate: messages vary in size around the mean. */
const PAGE_SLACK = 1.25;
/** Most messages one GET returns (API.md: `top`, default and maximum 1000; also Table Storage's page limit). */
export const MAX_PAGE_MESSAGES = 1000;

const odata = (): typeof import('@azure/data-tables').odata => tablesSdk().odata;

/** The state row as stored, tombstones included; undefined when there is none. */
export async function readStateRow(table: TableClient, chatId: string): Promise<StateRow | undefined> {
  try {
    const entity = await table.getEntity(partitionKey(chatId), stateRowKey());
    return parseStateRow(chatId, entity);
  } catch (error: unknown) {
    if (storageStatus(error) === 404) return undefined;
    throw translateStorageError(error);
  }
}

/** The chat's state, or undefined when it does not exist (never created, or deleted). */
export async function readState(table: TableClient, chatId: string): Promise<ChatState | undefined> {
  const row = await readStateRow(table, chatId);
  return row?.kind === 'live' ? row.state : undefined;
}

/** Visible messages with sequences in [first, last] (1 <= first <= last), newest first, in pages of `pageSize`. */
function newestFirst(table: TableClient, state: Pick<ChatState, 'chatId' | 'generation' | 'totalMessages'>, pageSize: number, first = 1, last = state.totalMessages) {
  // Keys are inverted sequences: the newest message has the smallest key.
  const newestKey = messageRowKey(state.generation, last);
  const oldestKey = messageRowKey(state.generation, first);
  const filter = odata()`PartitionKey eq ${partitionKey(state.chatId)} and RowKey ge ${newestKey} and RowKey le ${oldestKey}`;
  return table.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: pageSize });
}

/**
 * What reading a turn's history depends on, besides its token budget. Message rows never change once a
 * commit made them visible, so two reads with equal shapes and budgets return the same rows.
 */
export interface HistoryShape {
  chatId: string;
  generation: string;
  totalMessages: number;
  messageTokens: number;
  hasInstructions: boolean;
  instructionTokens?: number;
}

export function historyShape(state: ChatState): HistoryShape {
  const { chatId, generation, totalMessages, messageTokens, instructionTokens } = state;
  return { chatId, generation, totalMessages, messageTokens, hasInstructions: state.instructions != null, ...(instructionTokens == null ? {} : { instructionTokens }) };
}

export function sameHistoryShape(a: HistoryShape, b: HistoryShape): boolean {
  return a.chatId === b.chatId && a.generation === b.generation && a.totalMessages === b.totalMessages && a.messageTokens === b.messageTokens &&
    a.hasInstructions === b.hasInstructions && a.instructionTokens === b.instructionTokens;
}

/**
 * Rows one history page should hold so that one page usually fills `budget`: the budget over the average
 * size of the chat's stored messages (the state row keeps their sum and count, instructions excluded when
 * their count is known), with slack for the spread, plus the one row that crosses the budget. A page is one
 * storage request, so a turn's reads stay at one page whatever the chat's length and its page is no larger
 * than the budget needs. Falls back to HISTORY_PAGE_SIZE when there is no average to go by.
 */
export function historyPageSize(shape: HistoryShape, budget: number): number {
  const system = shape.hasInstructions ? 1 : 0;
  const count = shape.totalMessages - system;
  const tokens = shape.messageTokens - (system === 1 ? (shape.instructionTokens ?? 0) : 0);
  if (count <= 0 || tokens <= 0) return HISTORY_PAGE_SIZE;
  const average = tokens / count;
  const rows = Math.ceil((budget / average) * PAGE_SLACK) + 2;
  return Math.max(1, Math.min(MAX_PAGE_MESSAGES, rows));
}

/**
 * The newest messages whose prompt cost fits `budget` tokens (plus the one that crosses it, for the caller's
 * window to decide), oldest first. Reads one page at a time and stops as soon as the budget is spent, so the
 * cost depends on the budget, never on the chat's length. System messages are left out (the state row has them).
 */
export async function readRecent(table: TableClient, state: HistoryShape, budget: number, pageSize = historyPageSize(state, budget)): Promise<StoredMessage[]> {
  const newest: StoredMessage[] = [];
  if (state.totalMessages === 0) return newest;
  let used = 0;
  await storageCall(async () => {
    for await (const page of newestFirst(table, state, pageSize)) {
      for (const entity of page) {
        const message = parseMessage(entity);
        if (message.role === 'system') continue;
        newest.push(message);
        used += message.tokens;
        if (used > budget) return;
      }
    }
  });
  return newest.reverse();
}

/** One page of GET's messages: oldest first, and where the next page starts when more follow. */
export interface MessagePage {
  messages: StoredMessage[];
  /** Sequence of the first message of the next page, when there is one. */
  next?: number;
}

/**
 * Messages from sequence `first` on, at most `top`, oldest first: one ranged query of at most `top` rows,
 * whatever the chat's length.
 */
export async function readPage(table: TableClient, state: ChatState, first: number, top: number): Promise<MessagePage> {
  if (first > state.totalMessages) return { messages: [] };
  const last = Math.min(state.totalMessages, first + top - 1);
  const newest: StoredMessage[] = [];
  await storageCall(async () => {
    for await (const page of newestFirst(table, state, Math.min(top, MAX_PAGE_MESSAGES), first, last)) {
      for (const entity of page) newest.push(parseMessage(entity));
    }
  });
  return { messages: newest.reverse(), ...(last < state.totalMessages ? { next: last + 1 } : {}) };
}

/**
 * The first sequence created strictly after `after` (createdAt never decreases with the sequence): a binary
 * search with point reads, so finding where "messages since" start costs log2(messages), not the whole chat.
 */
export async function firstSequenceAfter(table: TableClient, state: ChatState, after: Date): Promise<number> {
  const limit = after.getTime();
  if (state.totalMessages === 0 || Date.parse(state.lastUpdatedAt) <= limit) return state.totalMessages + 1;
  let low = 1;
  let high = state.totalMessages + 1;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const createdAt = await createdAtOf(table, state, middle);
    if (createdAt > limit) high = middle;
    else low = middle + 1;
  }
  return low;
}

async function createdAtOf(table: TableClient, state: ChatState, sequence: number): Promise<number> {
  const entity = await storageCall(() =>
    table.getEntity<{ createdAt?: unknown }>(partitionKey(state.chatId), messageRowKey(state.generation, sequence), { queryOptions: { select: ['createdAt'] } }),
  );
  if (typeof entity.createdAt !== 'string') throw new TypeError(`message row ${sequence} of chat ${state.chatId} has no createdAt`);
  return Date.parse(entity.createdAt);
}
