// The chat table's rows: what is stored in each property, and the parse back into our own types. Keys come
// from keys.ts; this module decides the columns.
import type { TableEntity } from '@azure/data-tables';
import { z } from 'zod';
import { contentProperties, fitRow, joinContent } from './content.js';
import { messageRowKey, partitionKey, sequenceOfRowKey, stateRowKey } from './keys.js';
import type { ChatState, NewMessage, StoredMessage } from './types.js';

const count = z.number().int().nonnegative().catch(0);
const flag = z.boolean().catch(false);

/**
 * The state row. `deleted` marks a tombstone: DELETE replaces the state row with one, so the chat is gone at
 * once while its rows are swept afterwards; the sweep removes the tombstone last.
 */
const stateEntity = z.object({
  generation: z.string(),
  deleted: flag.optional(),
  hasInstructions: flag,
  createdAt: z.string().catch(''),
  lastUpdatedAt: z.string().catch(''),
  totalMessages: count,
  totalTokens: count,
  messageTokens: count,
  promptTokensUsed: count,
  completionTokensUsed: count,
  owner: z.string().optional(),
  sweepPending: flag.optional(),
  etag: z.string(),
});

const messageEntity = z.object({
  rowKey: z.string(),
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  createdAt: z.string(),
  tokens: count,
  toolCalls: z.string().optional(),
  turnId: z.string().optional(),
});

const toolCallList = z.array(z.object({ id: z.string(), name: z.string(), arguments: z.string() }));

/** The state row as read: a live chat, or the tombstone of a deleted one whose rows are still being swept. */
export type StateRow =
  | { kind: 'live'; state: ChatState }
  | { kind: 'tombstone'; chatId: string; generation: string; etag: string };

export function parseStateRow(chatId: string, entity: Record<string, unknown>): StateRow {
  const row = stateEntity.parse(entity);
  if (row.deleted === true) return { kind: 'tombstone', chatId, generation: row.generation, etag: row.etag };
  const { promptTokensUsed: promptTokens, completionTokensUsed: completionTokens } = row;
  return {
    kind: 'live',
    state: {
      chatId,
      generation: row.generation,
      instructions: row.hasInstructions ? joinContent(entity) : null,
      createdAt: row.createdAt,
      lastUpdatedAt: row.lastUpdatedAt,
      totalMessages: row.totalMessages,
      totalTokens: row.totalTokens,
      messageTokens: row.messageTokens,
      usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
      etag: row.etag,
      ...(row.owner == null ? {} : { owner: row.owner }),
      sweepPending: row.sweepPending === true,
    },
  };
}

export function parseMessage(entity: Record<string, unknown>): StoredMessage {
  const row = messageEntity.parse(entity);
  const toolCalls = row.toolCalls == null ? [] : toolCallList.catch([]).parse(JSON.parse(row.toolCalls));
  return {
    sequence: sequenceOfRowKey(row.rowKey),
    role: row.role,
    content: joinContent(entity),
    createdAt: row.createdAt,
    tokens: row.tokens,
    toolCalls,
    ...(row.turnId == null ? {} : { turnId: row.turnId }),
  };
}

/** A message row as stored (also used by tests to seed long chats). `turnId` lets a commit recognise its own rows. */
export function messageRow(
  chatId: string,
  generation: string,
  sequence: number,
  message: NewMessage,
  createdAt: string,
  turnId?: string,
): TableEntity {
  const { text, truncated } = fitRow(message.content);
  return {
    partitionKey: partitionKey(chatId),
    rowKey: messageRowKey(generation, sequence),
    role: message.role,
    createdAt,
    tokens: message.tokens,
    ...(turnId == null ? {} : { turnId }),
    ...(message.toolCalls == null || message.toolCalls.length === 0 ? {} : { toolCalls: JSON.stringify(message.toolCalls) }),
    ...(truncated ? { truncated: true } : {}),
    ...contentProperties(text),
  };
}

/** The state row of a new or reset chat: a fresh generation, counting its system message if any. */
export function freshStateRow(
  chatId: string,
  fields: { generation: string; instructions: string | null; instructionTokens: number; now: string; owner?: string; sweepPending: boolean },
): TableEntity {
  const hasInstructions = fields.instructions != null;
  return {
    partitionKey: partitionKey(chatId),
    rowKey: stateRowKey(),
    generation: fields.generation,
    hasInstructions,
    createdAt: fields.now,
    lastUpdatedAt: fields.now,
    totalMessages: hasInstructions ? 1 : 0,
    totalTokens: 0,
    messageTokens: hasInstructions ? fields.instructionTokens : 0,
    promptTokensUsed: 0,
    completionTokensUsed: 0,
    sweepPending: fields.sweepPending,
    ...contentProperties(fields.instructions ?? ''),
    ...(fields.owner == null ? {} : { owner: fields.owner }),
  };
}

/** The tombstone DELETE writes; `generation` is this delete's own id, so a retried delete recognises it. */
export function tombstoneRow(chatId: string, generation: string, now: string): TableEntity {
  return { partitionKey: partitionKey(chatId), rowKey: stateRowKey(), generation, deleted: true, sweepPending: true, lastUpdatedAt: now };
}
