// Pending client tool calls (API.md § Tools in chats): claiming them for one resuming request, and giving the
// claim back. Moved from store.ts (tools helper) when it was split.
import type { TableClient } from '@azure/data-tables';
import { storageStatus, translateStorageError } from '../errors/storage.js';
import { partitionKey, stateRowKey } from './keys.js';
import { readState } from './reads.js';
import type { ChatState, PendingTools } from './types.js';
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
