// The chat table's rows: what is stored in each property, and the parse back into our own types. Keys come
// from keys.ts; this module decides the columns.
import type { TableEntity } from '@azure/data-tables';
import { z } from 'zod';
import { contentProperties, fitRow, joinContent, joinText, textProperties } from './content.js';
import { stringList, toolCallList, toolDefinitionList } from './tool-rows.js';
import { messageRowKey, partitionKey, sequenceOfRowKey, stateRowKey } from './keys.js';
import type { ChatState, ChatTools, NewMessage, PendingTools, StoredMessage } from './types.js';

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
  /** Tokens of the instructions, counted once by PUT; absent on rows written before it was kept. */
  instructionTokens: z.number().int().nonnegative().optional().catch(undefined),
  promptTokensUsed: count,
  completionTokensUsed: count,
  owner: z.string().optional(),
  sweepPending: flag.optional(),
  temperature: z.number().optional(),
  maxOutputTokens: z.number().int().optional(),
  pendingRounds: count,
  pendingClaim: z.string().optional(),
  pendingClaimedAt: z.string().optional(),
  etag: z.string(),
});

const messageEntity = z.object({
  rowKey: z.string(),
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  createdAt: z.string(),
  tokens: count,
  toolCallId: z.string().optional(),
  sources: z.string().optional(),
  turnId: z.string().optional(),
});

/** JSON kept in (possibly split) properties; a row that does not parse reads as the fallback, never fails the chat. */
function jsonProperty<T>(entity: Record<string, unknown>, name: string, schema: z.ZodType<T>, fallback: T): T {
  const text = joinText(entity, name);
  if (text === '') return fallback;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : fallback;
  } catch {
    return fallback;
  }
}

function parseTools(entity: Record<string, unknown>, row: z.infer<typeof stateEntity>): ChatTools {
  return {
    skills: jsonProperty(entity, 'skills', stringList, []),
    clientTools: jsonProperty(entity, 'clientTools', toolDefinitionList, []),
    ...(row.temperature == null ? {} : { temperature: row.temperature }),
    ...(row.maxOutputTokens == null ? {} : { maxOutputTokens: row.maxOutputTokens }),
  };
}

function parsePending(entity: Record<string, unknown>, row: z.infer<typeof stateEntity>): PendingTools | undefined {
  const calls = jsonProperty(entity, 'pendingToolCalls', toolCallList, []);
  if (calls.length === 0) return undefined;
  const sources = jsonProperty<string[] | undefined>(entity, 'pendingSources', stringList, undefined);
  return {
    calls,
    rounds: row.pendingRounds,
    ...(sources == null ? {} : { sources }),
    ...(row.pendingClaim == null || row.pendingClaim === '' ? {} : { claim: { id: row.pendingClaim, at: row.pendingClaimedAt ?? '' } }),
  };
}

/** State-row properties for a chat's pending client calls; `undefined` clears them (Merge keeps absent properties). */
export function pendingProperties(pending: PendingTools | undefined): Record<string, string | number> {
  return {
    ...textProperties('pendingToolCalls', pending == null ? '' : JSON.stringify(pending.calls)),
    pendingRounds: pending?.rounds ?? 0,
    pendingSources: pending?.sources == null ? '' : JSON.stringify(pending.sources),
    pendingClaim: pending?.claim?.id ?? '',
    pendingClaimedAt: pending?.claim?.at ?? '',
  };
}

/** State-row properties for what PUT configured. */
export function toolsProperties(tools: ChatTools): Record<string, string | number> {
  return {
    skills: JSON.stringify(tools.skills),
    ...textProperties('clientTools', tools.clientTools.length === 0 ? '' : JSON.stringify(tools.clientTools)),
    ...(tools.temperature == null ? {} : { temperature: tools.temperature }),
    ...(tools.maxOutputTokens == null ? {} : { maxOutputTokens: tools.maxOutputTokens }),
  };
}

/** The state row as read: a live chat, or the tombstone of a deleted one whose rows are still being swept. */
export type StateRow =
  | { kind: 'live'; state: ChatState }
  | { kind: 'tombstone'; chatId: string; generation: string; etag: string };

export function parseStateRow(chatId: string, entity: Record<string, unknown>): StateRow {
  const row = stateEntity.parse(entity);
  if (row.deleted === true) return { kind: 'tombstone', chatId, generation: row.generation, etag: row.etag };
  const { promptTokensUsed: promptTokens, completionTokensUsed: completionTokens } = row;
  const pending = parsePending(entity, row);
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
      ...(row.hasInstructions && row.instructionTokens != null ? { instructionTokens: row.instructionTokens } : {}),
      usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
      etag: row.etag,
      ...(row.owner == null ? {} : { owner: row.owner }),
      sweepPending: row.sweepPending === true,
      tools: parseTools(entity, row),
      ...(pending == null ? {} : { pending }),
    },
  };
}

export function parseMessage(entity: Record<string, unknown>): StoredMessage {
  const row = messageEntity.parse(entity);
  const toolCalls = jsonProperty(entity, 'toolCalls', toolCallList, []);
  const sources = row.sources == null ? undefined : jsonProperty<string[] | undefined>(entity, 'sources', stringList, undefined);
  return {
    sequence: sequenceOfRowKey(row.rowKey),
    role: row.role,
    content: joinContent(entity),
    createdAt: row.createdAt,
    tokens: row.tokens,
    toolCalls,
    ...(row.toolCallId == null ? {} : { toolCallId: row.toolCallId }),
    ...(sources == null ? {} : { sources }),
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
    ...(truncated ? { truncated: true } : {}),
    ...contentProperties(text),
    // Split like content: a long list of calls never truncates into unreadable JSON.
    ...(message.toolCalls == null || message.toolCalls.length === 0 ? {} : textProperties('toolCalls', JSON.stringify(message.toolCalls), 5)),
    ...(message.toolCallId == null ? {} : { toolCallId: message.toolCallId }),
    ...(message.sources == null ? {} : { sources: JSON.stringify(message.sources) }),
  };
}

/** The state row of a new or reset chat: a fresh generation, counting its system message if any. */
export function freshStateRow(
  chatId: string,
  fields: { generation: string; instructions: string | null; instructionTokens: number; now: string; owner?: string; sweepPending: boolean; tools: ChatTools },
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
    instructionTokens: hasInstructions ? fields.instructionTokens : 0,
    promptTokensUsed: 0,
    completionTokensUsed: 0,
    sweepPending: fields.sweepPending,
    ...contentProperties(fields.instructions ?? ''),
    ...(fields.owner == null ? {} : { owner: fields.owner }),
    ...toolsProperties(fields.tools),
  };
}

/** The tombstone DELETE writes; `generation` is this delete's own id, so a retried delete recognises it. */
export function tombstoneRow(chatId: string, generation: string, now: string): TableEntity {
  return { partitionKey: partitionKey(chatId), rowKey: stateRowKey(), generation, deleted: true, sweepPending: true, lastUpdatedAt: now };
}
