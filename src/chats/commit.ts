// Committing a turn: its messages and the state row in ONE entity-group transaction, conditional on the state
// row's ETag, and idempotent. Every row carries the turn's id, so when a transaction's outcome is unknown (the
// connection dropped after storage applied it and the SDK's retry then failed the ETag condition), one point
// read of the turn's first row tells "my own commit landed" from "another turn committed first".
import { randomUUID } from 'node:crypto';
import type { TableClient, TableEntity, TransactionAction } from '@azure/data-tables';
import type { Usage } from '../model/types.js';
import { trackTries } from '../storage/clients.js';
import { isStorageSdkError, storageStatus, translateStorageError } from '../errors/storage.js';
import { AppError, storageUnavailable } from '../errors/index.js';
import { messageRowKey, partitionKey, stateRowKey } from './keys.js';
import { readState } from './reads.js';
import { messageRow, parseMessage } from './rows.js';
import { pendingProperties } from './rows.js';
import type { ChatState, NewMessage, PendingTools, StoredMessage } from './types.js';

/** Entity-group transactions hold at most 100 operations: the state row and up to 99 messages. */
export const MAX_TURN_MESSAGES = 99;
/** Under the 4 MiB a transaction's body may have, with room for the multipart envelope. */
const BATCH_BYTES = 4_000_000;
/** Commit attempts after conflicts with other turns before giving up (each re-reads only the state row). */
const CONFLICT_ATTEMPTS = 100;
/** Extra attempts after storage failed (after the SDK's own retries): a paid reply is worth a short wait. */
const FAILURE_RETRIES = 2;
const FAILURE_BACKOFF_MS = [250, 1000];

export interface CommitOptions {
  /** Pending client calls to set (a paused turn) or clear (undefined, when the turn had any). */
  pending?: { set: PendingTools | undefined };
  /**
   * Whether the turn may still append after another write changed the state: a new message must not land
   * between a tool call and its outputs (state has pending calls), and a resume only while it holds the claim.
   */
  canAppend?: (current: ChatState) => boolean;
}

/** What one turn stores. The id is fixed before the first attempt and kept by every retry. */
export interface TurnCommit {
  turnId: string;
  messages: NewMessage[];
  usage?: Usage;
}

/** A new turn id: unique per turn, never reused by a retry. */
export function newTurnId(): string {
  return randomUUID().replaceAll('-', '');
}

/** The outcome of committing a turn. */
export type CommitResult =
  | { kind: 'committed'; state: ChatState; messages: StoredMessage[] }
  /** The chat was reset or deleted while the model answered: the turn belongs to the conversation that ended. */
  | { kind: 'superseded'; state: ChatState | undefined }
  /** Storage kept failing: nothing of the turn is visible (or, if the last attempt did land, all of it). */
  | { kind: 'failed'; state: ChatState; error: AppError };

/** A commit's moment: never before the state's last update, so createdAt never decreases with the sequence. */
function commitTime(state: ChatState): string {
  return new Date(Math.max(Date.now(), Date.parse(state.lastUpdatedAt))).toISOString();
}

function sizeOf(actions: TransactionAction[]): number {
  return actions.reduce((sum, action) => sum + Buffer.byteLength(JSON.stringify(action[1])) + 600, 0);
}

interface Attempt {
  state: ChatState;
  next: ChatState;
  rows: TableEntity[];
  actions: TransactionAction[];
}

/** The transaction appending `turn` after `state`. */
function attemptAfter(state: ChatState, turn: TurnCommit, options: CommitOptions = {}): Attempt {
  const createdAt = commitTime(state);
  const rows = turn.messages.map((message, index) =>
    messageRow(state.chatId, state.generation, state.totalMessages + 1 + index, message, createdAt, turn.turnId),
  );
  const promptTokens = state.usage.promptTokens + (turn.usage?.promptTokens ?? 0);
  const completionTokens = state.usage.completionTokens + (turn.usage?.completionTokens ?? 0);
  const next: ChatState = {
    ...state,
    lastUpdatedAt: createdAt,
    totalMessages: state.totalMessages + turn.messages.length,
    totalTokens: turn.usage?.totalTokens ?? state.totalTokens,
    messageTokens: state.messageTokens + turn.messages.reduce((sum, message) => sum + message.tokens, 0),
    usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
  };
  const update: TableEntity = {
    partitionKey: partitionKey(state.chatId),
    rowKey: stateRowKey(),
    lastUpdatedAt: next.lastUpdatedAt,
    totalMessages: next.totalMessages,
    totalTokens: next.totalTokens,
    messageTokens: next.messageTokens,
    promptTokensUsed: promptTokens,
    completionTokensUsed: completionTokens,
    ...(options.pending == null ? {} : pendingProperties(options.pending.set)),
  };
  if (options.pending != null) {
    delete next.pending;
    if (options.pending.set != null) next.pending = options.pending.set;
  }
  const actions: TransactionAction[] = [['update', update, 'Merge', { etag: state.etag }], ...rows.map((row): TransactionAction => ['create', row])];
  return { state, next, rows, actions };
}

/** True when the attempt's first row exists and is this turn's: the transaction landed (all of it, or nothing). */
async function landed(table: TableClient, attempt: Attempt, turnId: string): Promise<boolean> {
  const sequence = attempt.state.totalMessages + 1;
  try {
    const entity = await table.getEntity(partitionKey(attempt.state.chatId), messageRowKey(attempt.state.generation, sequence), {
      queryOptions: { select: ['turnId'] },
    });
    return entity.turnId === turnId;
  } catch (error: unknown) {
    if (storageStatus(error) === 404) return false;
    throw translateStorageError(error);
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Appends a turn's messages after the chat's newest message, together with the state row, in one transaction
 * conditional on the state's ETag. On 412/409 (another turn committed first) it re-reads the state row and
 * appends after the winner, without calling the model again; a retried transaction that already landed is
 * recognised by its turn id and never appended twice. When storage keeps failing it retries briefly and then
 * answers `failed` (the caller still has the reply). Sizes are checked before the first attempt: a paid-for
 * turn never fails because of a storage limit.
 */
export async function commitTurn(
  table: TableClient,
  read: ChatState,
  messages: NewMessage[],
  usage: Usage | undefined,
  options: CommitOptions = {},
): Promise<CommitResult> {
  const turn: TurnCommit = { turnId: newTurnId(), messages, ...(usage == null ? {} : { usage }) };
  if (turn.messages.length > MAX_TURN_MESSAGES || sizeOf(attemptAfter(read, turn, options).actions) > BATCH_BYTES) {
    throw new RangeError('turn exceeds one transaction');
  }
  let state = read;
  let failures = 0;
  let conflicts = 0;
  for (;;) {
    const attempt = attemptAfter(state, turn, options);
    const committed = (): CommitResult => ({ kind: 'committed', state: attempt.next, messages: attempt.rows.map((row) => parseMessage(row)) });
    let conflict: boolean;
    const submitted = trackTries((abortSignal) => table.submitTransaction(attempt.actions, { abortSignal }));
    try {
      const response = await submitted.result;
      return { ...committed(), state: { ...attempt.next, etag: response.subResponses[0]?.etag ?? state.etag } };
    } catch (error: unknown) {
      const status = storageStatus(error);
      conflict = status === 412 || status === 409 || status === 404;
      if (!conflict && !isTransient(error)) throw translateStorageError(error);
    }
    try {
      // After a retried or failed try the outcome is unknown: the conflict may be our own earlier try, applied
      // before its connection dropped. A conflict on the first and only try is another turn's.
      const unknown = !conflict || submitted.tries() > 1 || failures > 0;
      if (unknown && (await landed(table, attempt, turn.turnId))) return committed();
      if (conflict) {
        const current = await readState(table, read.chatId);
        if (current == null || current.generation !== read.generation) return { kind: 'superseded', state: current };
        if (options.canAppend != null && !options.canAppend(current)) return { kind: 'superseded', state: current };
        state = current;
        conflicts += 1;
        if (conflicts >= CONFLICT_ATTEMPTS) return { kind: 'failed', state, error: storageUnavailable('Too many concurrent turns on this chat; the turn could not be stored.') };
        // A little jitter spreads out turns that keep colliding.
        await pause(Math.random() * Math.min(50, 5 * conflicts));
        continue;
      }
    } catch (error: unknown) {
      if (!isTransient(error)) throw translateStorageError(error);
    }
    // Storage failed (after the SDK's own retries): try the same transaction again, briefly.
    if (failures >= FAILURE_RETRIES) return { kind: 'failed', state, error: storageUnavailable('Storage failed while storing the turn; it was not stored.') };
    await pause(FAILURE_BACKOFF_MS[failures] ?? 1000);
    failures += 1;
  }
}

/** A storage failure that says nothing about the data (raw, or already translated to 503 storage_unavailable). */
function isTransient(error: unknown): boolean {
  if (error instanceof AppError) return error.code === 'storage_unavailable';
  if (!isStorageSdkError(error)) return false;
  const status = error.statusCode;
  return status == null || status >= 500 || status === 408;
}
