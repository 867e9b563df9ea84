// The chat store on Table Storage (ARCHITECTURE § Chats on Table Storage). Keys come from keys.ts only.
import { randomBytes } from 'node:crypto';
import type { TableClient, TableEntity, TransactionAction } from '@azure/data-tables';
import { z } from 'zod';
import type { Usage } from '../model/types.js';
import { messageTokens } from '../model/tokens.js';
import { storageStatus, translateStorageError } from '../storage/errors.js';
import { contentProperties, fitRow, joinContent, joinText, textProperties } from './content.js';
import { generationOfRowKey, messageRowKey, messageRowRange, partitionKey, sequenceOfRowKey, stateRowKey } from './keys.js';
import type { ChatState, ChatTools, NewMessage, PendingTools, StoredMessage } from './types.js';
import { toolDefinitionList, toolCallList, stringList } from './tool-rows.js';

/** Rows per history page. A turn reads pages until the token budget is filled, never the whole chat. */
export const HISTORY_PAGE_SIZE = 50;
/** Entity-group transactions hold at most 100 operations. */
const BATCH_LIMIT = 100;
/** Under the 4 MiB a transaction's body may have, with room for the multipart envelope. */
const BATCH_BYTES = 4_000_000;
/** Commit attempts after conflicts with other turns before giving up (each re-reads only the state row). */
const COMMIT_ATTEMPTS = 100;

const odata = (): typeof import('@azure/data-tables').odata => (require('@azure/data-tables') as typeof import('@azure/data-tables')).odata;

/** Runs one storage call; unreachable storage becomes 503 storage_unavailable. */
async function storage<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error: unknown) {
    throw translateStorageError(error);
  }
}

const count = z.number().int().nonnegative().catch(0);
const stateEntity = z.object({
  generation: z.string(),
  hasInstructions: z.boolean(),
  createdAt: z.string(),
  lastUpdatedAt: z.string(),
  totalMessages: count,
  totalTokens: count,
  promptTokensUsed: count,
  completionTokensUsed: count,
  etag: z.string(),
  owner: z.string().optional(),
  temperature: z.number().optional(),
  maxOutputTokens: z.number().int().optional(),
  pendingRounds: count,
  pendingClaim: z.string().optional(),
  pendingClaimedAt: z.string().optional(),
});

const messageEntity = z.object({
  rowKey: z.string(),
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  createdAt: z.string(),
  tokens: count,
  toolCallId: z.string().optional(),
  sources: z.string().optional(),
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
function toolsProperties(tools: ChatTools): Record<string, string | number> {
  return {
    skills: JSON.stringify(tools.skills),
    ...textProperties('clientTools', tools.clientTools.length === 0 ? '' : JSON.stringify(tools.clientTools)),
    ...(tools.temperature == null ? {} : { temperature: tools.temperature }),
    ...(tools.maxOutputTokens == null ? {} : { maxOutputTokens: tools.maxOutputTokens }),
  };
}

function parseState(chatId: string, entity: Record<string, unknown>): ChatState {
  const row = stateEntity.parse(entity);
  const promptTokens = row.promptTokensUsed;
  const completionTokens = row.completionTokensUsed;
  return {
    chatId,
    generation: row.generation,
    instructions: row.hasInstructions ? joinContent(entity) : null,
    createdAt: row.createdAt,
    lastUpdatedAt: row.lastUpdatedAt,
    totalMessages: row.totalMessages,
    totalTokens: row.totalTokens,
    usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
    etag: row.etag,
    ...(row.owner == null ? {} : { owner: row.owner }),
    tools: parseTools(entity, row),
    ...withPending(parsePending(entity, row)),
  };
}

const withPending = (pending: PendingTools | undefined) => (pending == null ? {} : { pending });

function parseMessage(entity: Record<string, unknown>): StoredMessage {
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
  };
}

/** A message row as stored (also used by tests to seed long chats). */
export function messageRow(chatId: string, generation: string, sequence: number, message: NewMessage, createdAt: string): TableEntity {
  const { text, truncated } = fitRow(message.content);
  return {
    partitionKey: partitionKey(chatId),
    rowKey: messageRowKey(generation, sequence),
    role: message.role,
    createdAt,
    tokens: message.tokens,
    ...(truncated ? { truncated: true } : {}),
    ...contentProperties(text),
    // Split like content: a long list of calls never truncates into unreadable JSON.
    ...(message.toolCalls == null || message.toolCalls.length === 0 ? {} : textProperties('toolCalls', JSON.stringify(message.toolCalls), 5)),
    ...(message.toolCallId == null ? {} : { toolCallId: message.toolCallId }),
    ...(message.sources == null ? {} : { sources: JSON.stringify(message.sources) }),
  };
}

/** The state row, or undefined when the chat does not exist. */
export async function readState(table: TableClient, chatId: string): Promise<ChatState | undefined> {
  try {
    const entity = await table.getEntity(partitionKey(chatId), stateRowKey());
    return parseState(chatId, entity);
  } catch (error: unknown) {
    if (storageStatus(error) === 404) return undefined;
    throw translateStorageError(error);
  }
}

/** Newest-first pages of one generation's messages; optionally only the given columns. */
function newestFirst(table: TableClient, state: ChatState, pageSize: number) {
  const { from, to } = messageRowRange(state.generation);
  const filter = odata()`PartitionKey eq ${partitionKey(state.chatId)} and RowKey ge ${from} and RowKey lt ${to}`;
  return table.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: pageSize });
}

/**
 * The newest messages whose prompt cost fits `budget` tokens (plus the one that crosses it, for the caller's
 * window to decide), oldest first. Reads one page at a time and stops as soon as the budget is spent, so the
 * cost depends on the budget, never on the chat's length. System messages are left out (the state row has them).
 */
export async function readRecent(table: TableClient, state: ChatState, budget: number): Promise<StoredMessage[]> {
  const newest: StoredMessage[] = [];
  let used = 0;
  await storage(async () => {
    for await (const page of newestFirst(table, state, HISTORY_PAGE_SIZE)) {
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

/** Every message created strictly after `after` (all of them without it), oldest first. */
export async function readMessages(table: TableClient, state: ChatState, after?: Date): Promise<StoredMessage[]> {
  const newest: StoredMessage[] = [];
  await storage(async () => {
    for await (const page of newestFirst(table, state, 1000)) {
      for (const entity of page) {
        const message = parseMessage(entity);
        // createdAt never decreases with the sequence (commitTime), so the first old message ends the read.
        if (after != null && Date.parse(message.createdAt) <= after.getTime()) return;
        newest.push(message);
      }
    }
  });
  return newest.reverse();
}

function newGeneration(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/**
 * Creates a chat, or resets it: one transaction writes a state row with a new generation (and the system
 * message). Old messages become unreachable in that single write; a turn still in flight finds the state
 * changed when it commits and is not stored (see README § Stateful chats). Old rows are swept afterwards.
 */
export async function createChat(
  table: TableClient,
  chatId: string,
  instructions: string | null,
  owner?: string,
  tools: ChatTools = { skills: [], clientTools: [] },
): Promise<ChatState> {
  const now = new Date().toISOString();
  const generation = newGeneration();
  const hasInstructions = instructions != null;
  const state: TableEntity = {
    partitionKey: partitionKey(chatId),
    rowKey: stateRowKey(),
    generation,
    hasInstructions,
    createdAt: now,
    lastUpdatedAt: now,
    totalMessages: hasInstructions ? 1 : 0,
    totalTokens: 0,
    promptTokensUsed: 0,
    completionTokensUsed: 0,
    ...contentProperties(instructions ?? ''),
    ...(owner == null ? {} : { owner }),
    ...toolsProperties(tools),
  };
  const actions: TransactionAction[] = [['upsert', state, 'Replace']];
  if (instructions != null) {
    const system: NewMessage = { role: 'system', content: instructions, tokens: messageTokens(instructions) };
    actions.push(['create', messageRow(chatId, generation, 1, system, now)]);
  }
  const response = await storage(() => table.submitTransaction(actions));
  const etag = response.getResponseForEntity(stateRowKey())?.etag;
  if (etag != null) return parseState(chatId, { ...state, etag });
  const created = await readState(table, chatId);
  // Gone already: a DELETE landed right after this write. The reset did happen; the delete came later.
  return created ?? parseState(chatId, { ...state, etag: '' });
}

/** Deletes a chat: the state row first (the chat is gone at once), then every other row. False if unknown. */
export async function deleteChat(table: TableClient, chatId: string): Promise<boolean> {
  try {
    await table.deleteEntity(partitionKey(chatId), stateRowKey());
  } catch (error: unknown) {
    if (storageStatus(error) === 404) return false;
    throw translateStorageError(error);
  }
  await sweep(table, chatId);
  return true;
}

/**
 * Removes message rows that no longer belong to the chat's current generation (after a reset or delete), in
 * transactions of at most 100. The current state is re-read per page, so a chat re-created meanwhile keeps
 * its rows.
 */
export async function sweep(table: TableClient, chatId: string): Promise<number> {
  const filter = odata()`PartitionKey eq ${partitionKey(chatId)}`;
  let deleted = 0;
  await storage(async () => {
    const pages = table.listEntities({ queryOptions: { filter, select: ['RowKey'] } }).byPage({ maxPageSize: BATCH_LIMIT });
    for await (const page of pages) {
      const current = await readState(table, chatId);
      const stale = page.flatMap((entity) => {
        const rowKey = entity.rowKey;
        if (rowKey == null) return [];
        const generation = generationOfRowKey(rowKey);
        return generation != null && generation !== current?.generation ? [rowKey] : [];
      });
      if (stale.length === 0) continue;
      try {
        await table.submitTransaction(stale.map((rowKey): TransactionAction => ['delete', { partitionKey: partitionKey(chatId), rowKey }]));
        deleted += stale.length;
      } catch (error: unknown) {
        // Another sweep (a racing DELETE or reset) removed some of these rows first: finish row by row.
        if (storageStatus(error) !== 404) throw error;
        deleted += await deleteEach(table, chatId, stale);
      }
    }
  });
  return deleted;
}

/** Deletes rows one by one, skipping those already gone; the number actually deleted. */
async function deleteEach(table: TableClient, chatId: string, rowKeys: string[]): Promise<number> {
  let deleted = 0;
  for (const rowKey of rowKeys) {
    try {
      await table.deleteEntity(partitionKey(chatId), rowKey);
      deleted += 1;
    } catch (error: unknown) {
      if (storageStatus(error) !== 404) throw error;
    }
  }
  return deleted;
}

/** The outcome of committing a turn. */
export type CommitResult =
  | { kind: 'committed'; state: ChatState; messages: StoredMessage[] }
  /** The chat was reset or deleted while the model answered: the turn belongs to the conversation that ended. */
  | { kind: 'superseded'; state: ChatState | undefined };

/** A commit's moment: never before the state's last update, so createdAt never decreases with the sequence. */
function commitTime(state: ChatState): string {
  return new Date(Math.max(Date.now(), Date.parse(state.lastUpdatedAt))).toISOString();
}

function sizeOf(actions: TransactionAction[]): number {
  return actions.reduce((sum, action) => sum + Buffer.byteLength(JSON.stringify(action[1])) + 600, 0);
}

/**
 * Appends messages in ONE entity-group transaction together with the state row, conditional on the state's
 * ETag. On 412/409 (another turn committed first) it re-reads the state row and appends after the winner,
 * without calling the model again. Sizes are checked before the first attempt: a paid-for turn never fails
 * because of a storage limit.
 */
export interface CommitOptions {
  /** Pending client calls to set (a paused turn) or clear (undefined, when the turn had any). */
  pending?: { set: PendingTools | undefined };
  /**
   * Whether the turn may still append after another write changed the state: a new message must not land
   * between a tool call and its outputs (state has pending calls), and a resume only while it holds the claim.
   */
  canAppend?: (current: ChatState) => boolean;
}

export async function commitTurn(
  table: TableClient,
  read: ChatState,
  messages: NewMessage[],
  usage: Usage | undefined,
  options: CommitOptions = {},
): Promise<CommitResult> {
  let state = read;
  for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
    const createdAt = commitTime(state);
    const rows = messages.map((message, index) =>
      messageRow(state.chatId, state.generation, state.totalMessages + 1 + index, message, createdAt),
    );
    const promptTokens = state.usage.promptTokens + (usage?.promptTokens ?? 0);
    const completionTokens = state.usage.completionTokens + (usage?.completionTokens ?? 0);
    const next = {
      lastUpdatedAt: createdAt,
      totalMessages: state.totalMessages + messages.length,
      totalTokens: usage?.totalTokens ?? state.totalTokens,
    };
    const update: TableEntity = {
      partitionKey: partitionKey(state.chatId),
      rowKey: stateRowKey(),
      ...next,
      promptTokensUsed: promptTokens,
      completionTokensUsed: completionTokens,
      ...(options.pending == null ? {} : pendingProperties(options.pending.set)),
    };
    const actions: TransactionAction[] = [['update', update, 'Merge', { etag: state.etag }], ...rows.map((row): TransactionAction => ['create', row])];
    if (actions.length > BATCH_LIMIT || sizeOf(actions) > BATCH_BYTES) throw new RangeError('turn exceeds one transaction');
    try {
      const response = await table.submitTransaction(actions);
      const committed: ChatState = {
        ...state,
        ...next,
        usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
        etag: response.subResponses[0]?.etag ?? state.etag,
      };
      if (options.pending != null) {
        delete committed.pending;
        if (options.pending.set != null) committed.pending = options.pending.set;
      }
      return { kind: 'committed', state: committed, messages: rows.map((row) => parseMessage(row)) };
    } catch (error: unknown) {
      const status = storageStatus(error);
      if (status !== 412 && status !== 409 && status !== 404) throw translateStorageError(error);
    }
    const current = await readState(table, read.chatId);
    if (current == null || current.generation !== read.generation) return { kind: 'superseded', state: current };
    if (options.canAppend != null && !options.canAppend(current)) return { kind: 'superseded', state: current };
    state = current;
    // A little jitter spreads out turns that keep colliding.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 5 * (attempt + 1))));
  }
  throw translateStorageError(Object.assign(new Error('too many concurrent turns'), { statusCode: 503 }));
}

/** How long a resume may hold pending calls before another request may take them over (a crashed resumer). */
export const CLAIM_TTL_MS = 5 * 60_000;

/**
 * Marks the pending calls as being answered by one request: one conditional write of the state row. The
 * outputs themselves are stored only with the turn's final commit, so a failed resume leaves the calls pending.
 * Returns the claimed state, or why not.
 */
export async function claimPending(
  table: TableClient,
  read: ChatState,
  claimId: string,
): Promise<{ kind: 'claimed'; state: ChatState } | { kind: 'not_pending' | 'claimed_by_other'; state: ChatState | undefined }> {
  let state: ChatState | undefined = read;
  for (let attempt = 0; attempt < 5 && state != null; attempt++) {
    const pending: PendingTools | undefined = state.pending;
    if (pending == null) return { kind: 'not_pending', state };
    if (pending.claim != null && Date.now() - Date.parse(pending.claim.at) < CLAIM_TTL_MS) return { kind: 'claimed_by_other', state };
    const claim = { id: claimId, at: new Date().toISOString() };
    try {
      const response = await table.updateEntity(
        { partitionKey: partitionKey(state.chatId), rowKey: stateRowKey(), pendingClaim: claim.id, pendingClaimedAt: claim.at },
        'Merge',
        { etag: state.etag },
      );
      return { kind: 'claimed', state: { ...state, pending: { ...pending, claim }, etag: response.etag ?? state.etag } };
    } catch (error: unknown) {
      const status = storageStatus(error);
      if (status !== 412 && status !== 404) throw translateStorageError(error);
    }
    state = await readState(table, read.chatId);
    if (state == null || state.generation !== read.generation) return { kind: 'not_pending', state };
  }
  return { kind: 'claimed_by_other', state };
}

/** Gives the claim back after a failed resume, so the caller can post the outputs again. Best effort. */
export async function releaseClaim(table: TableClient, claimed: ChatState): Promise<void> {
  try {
    await table.updateEntity({ partitionKey: partitionKey(claimed.chatId), rowKey: stateRowKey(), pendingClaim: '', pendingClaimedAt: '' }, 'Merge', { etag: claimed.etag });
  } catch {
    // Someone else changed the chat since (a reset); the claim also expires after CLAIM_TTL_MS.
  }
}
