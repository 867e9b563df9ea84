// Creating, resetting and deleting chats, and sweeping the rows they leave behind. Each operation is ONE
// conditional write of the state row (insert, or replace with the ETag of the read that checked ownership),
// and idempotent: its state row carries a fresh generation id, so a write retried after a dropped connection
// (412/409 although it landed) recognises itself on re-read. Old rows are swept after the request, never in it.
import { randomBytes } from 'node:crypto';
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { storageUnavailable } from '../errors/index.js';
import { messageTokens } from '../model/tokens.js';
import { tablesSdk } from '../storage/clients.js';
import { forgetState, rememberState } from './known-states.js';
import { storageCall, storageStatus, translateStorageError } from '../errors/storage.js';
import { mayUse, ownerOfNewChat, type ChatAccess } from './access.js';
import { generationOfRowKey, partitionKey, stateRowKey } from './keys.js';
import { readStateRow } from './reads.js';
import { freshStateRow, messageRow, parseStateRow, tombstoneRow, type StateRow } from './rows.js';
import type { ChatState, ChatTools, NewMessage } from './types.js';

/** Entity-group transactions hold at most 100 operations. */
const BATCH_LIMIT = 100;
/** Writes lost to racing writers before giving up (each costs one state read). */
const WRITE_ATTEMPTS = 20;

const odata = (): typeof import('@azure/data-tables').odata => tablesSdk().odata;

function newGeneration(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

const isConflict = (error: unknown) => {
  const status = storageStatus(error);
  return status === 409 || status === 412 || status === 404;
};

/** Writes the state row conditionally on what was read: insert when there was none, else replace with its ETag. */
function stateWrite(entity: Record<string, unknown> & { partitionKey: string; rowKey: string }, read: StateRow | undefined): TransactionAction {
  if (read == null) return ['create', entity];
  const etag = read.kind === 'live' ? read.state.etag : read.etag;
  return ['update', entity, 'Replace', { etag }];
}

/** The outcome of PUT: the chat's new state, or `hidden` when it belongs to someone else (answer 404). */
export type CreateResult = { kind: 'created'; state: ChatState; reset: boolean } | { kind: 'hidden' };

/**
 * Creates a chat, or resets it: one transaction writes a state row with a new generation (and the system
 * message). Old messages become unreachable in that single write; a turn still in flight finds the state
 * changed when it commits and is not stored (docs/reliability.md). The owner is fixed at creation: a reset
 * keeps it, so nobody takes over a chat (a shared one stays shared) by PUT. Old rows are swept afterwards.
 */
export async function createChat(
  table: TableClient,
  chatId: string,
  instructions: string | null,
  access: ChatAccess,
  tools: ChatTools = { skills: [], clientTools: [] },
): Promise<CreateResult> {
  const instructionTokens = instructions == null ? 0 : messageTokens(instructions);
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const read = await readStateRow(table, chatId);
    if (read?.kind === 'live' && !mayUse(read.state, access)) return { kind: 'hidden' };
    const now = new Date().toISOString();
    const generation = newGeneration();
    const owner = read?.kind === 'live' ? read.state.owner : ownerOfNewChat(access);
    const state = freshStateRow(chatId, { generation, instructions, instructionTokens, now, owner, sweepPending: read != null, tools });
    const actions: TransactionAction[] = [stateWrite(state, read)];
    if (instructions != null) {
      const system: NewMessage = { role: 'system', content: instructions, tokens: instructionTokens };
      // Upsert: the row key is new to this generation, so a retried transaction may write it again.
      actions.push(['upsert', messageRow(chatId, generation, 1, system, now), 'Replace']);
    }
    try {
      const response = await table.submitTransaction(actions);
      const etag = response.getResponseForEntity(stateRowKey())?.etag ?? response.subResponses[0]?.etag ?? '';
      const created = parseStateRow(chatId, { ...state, etag });
      if (created.kind === 'live') {
        rememberState(table.tableName, created.state);
        return { kind: 'created', state: created.state, reset: read?.kind === 'live' };
      }
    } catch (error: unknown) {
      if (!isConflict(error)) throw translateStorageError(error);
      const now = await readStateRow(table, chatId);
      // Our own write, retried by the SDK after it landed, or answered 412 after a DELETE of it: either way done.
      if (now?.kind === 'live' && now.state.generation === generation) return { kind: 'created', state: now.state, reset: read?.kind === 'live' };
    }
  }
  throw storageUnavailable('Too many concurrent writes to this chat; try again.');
}

/** The outcome of DELETE: deleted, or not found (unknown, already deleted, or someone else's). */
export type DeleteResult = 'deleted' | 'not_found';

/**
 * Deletes a chat by replacing its state row with a tombstone, conditional on the ETag of the read that checked
 * ownership: the chat is gone at once, its rows are swept afterwards, and the tombstone goes last. A delete
 * retried after its write landed recognises its own tombstone.
 */
export async function deleteChat(table: TableClient, chatId: string, access: ChatAccess): Promise<DeleteResult> {
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const read = await readStateRow(table, chatId);
    if (read?.kind !== 'live' || !mayUse(read.state, access)) return 'not_found';
    forgetState(table.tableName, chatId);
    const generation = newGeneration();
    try {
      await table.updateEntity(tombstoneRow(chatId, generation, new Date().toISOString()), 'Replace', { etag: read.state.etag });
      return 'deleted';
    } catch (error: unknown) {
      if (!isConflict(error)) throw translateStorageError(error);
      const now = await readStateRow(table, chatId);
      if (now?.kind === 'tombstone' && now.generation === generation) return 'deleted';
    }
  }
  throw storageUnavailable('Too many concurrent writes to this chat; try again.');
}

/**
 * Removes message rows that no longer belong to the chat's current generation (after a reset or delete), in
 * transactions of at most 100, then the tombstone of a deleted chat (or the live chat's `sweepPending` flag).
 * The current state is re-read per page, so a chat re-created meanwhile keeps its rows. Safe to run twice at
 * once, and to resume after an interruption: it only ever deletes what is stale.
 */
export async function sweep(table: TableClient, chatId: string): Promise<number> {
  const filter = odata()`PartitionKey eq ${partitionKey(chatId)}`;
  let deleted = 0;
  await storageCall(async () => {
    const pages = table.listEntities({ queryOptions: { filter, select: ['RowKey'] } }).byPage({ maxPageSize: BATCH_LIMIT });
    for await (const page of pages) {
      const current = await readStateRow(table, chatId);
      const keep = current?.kind === 'live' ? current.state.generation : undefined;
      const stale = page.flatMap((entity) => {
        const rowKey = entity.rowKey;
        if (rowKey == null) return [];
        const generation = generationOfRowKey(rowKey);
        return generation != null && generation !== keep ? [rowKey] : [];
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
    await finishSweep(table, chatId);
  });
  return deleted;
}

/** After a complete sweep: the tombstone goes, or the live chat's flag is cleared (both only if unchanged since). */
async function finishSweep(table: TableClient, chatId: string): Promise<void> {
  const current = await readStateRow(table, chatId);
  try {
    if (current?.kind === 'tombstone') await table.deleteEntity(partitionKey(chatId), stateRowKey(), { etag: current.etag });
    else if (current?.kind === 'live' && current.state.sweepPending) {
      await table.updateEntity({ partitionKey: partitionKey(chatId), rowKey: stateRowKey(), sweepPending: false }, 'Merge', { etag: current.state.etag });
    }
  } catch (error: unknown) {
    // Changed meanwhile (a turn, reset or delete): the flag stays, and the next access or timer sweeps again.
    if (!isConflict(error)) throw error;
  }
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

const sweeping = new Map<string, Promise<number>>();

/**
 * Sweeps a chat after the request that made its rows stale has answered (one sweep per chat at a time in this
 * process). A failure is only logged: the flag in the state row (or the tombstone) stays, so the next access
 * to the chat, or the timer function, resumes it.
 */
export function sweepInBackground(table: TableClient, chatId: string, onError: (error: unknown) => void): Promise<number> {
  const running = sweeping.get(chatId);
  if (running != null) return running;
  const work = sweep(table, chatId)
    .catch((error: unknown) => {
      onError(error);
      return 0;
    })
    .finally(() => sweeping.delete(chatId));
  sweeping.set(chatId, work);
  return work;
}

/** Every chat with a sweep due (reset or deleted, not yet swept: e.g. the instance stopped mid-sweep). */
export async function chatsToSweep(table: TableClient): Promise<string[]> {
  const filter = odata()`RowKey eq ${stateRowKey()} and sweepPending eq true`;
  const chatIds: string[] = [];
  await storageCall(async () => {
    for await (const entity of table.listEntities({ queryOptions: { filter, select: ['PartitionKey'] } })) {
      if (entity.partitionKey != null) chatIds.push(entity.partitionKey);
    }
  });
  return chatIds;
}

/** Resumes every pending sweep (the timer function's work); the number of rows removed. */
export async function sweepPendingChats(table: TableClient): Promise<number> {
  let deleted = 0;
  for (const chatId of await chatsToSweep(table)) deleted += await sweep(table, chatId);
  return deleted;
}
