import type { ChatState } from './types.js';

/**
 * Who is asking, for per-user chats (TRUST_CLIENT_PRINCIPAL). A chat created by a signed-in caller belongs to
 * them: to anyone else it is an unknown chat. Chats created anonymously, and every chat without the setting,
 * are shared by everyone holding the function key. The check is made on the very state row an operation then
 * writes conditionally (its ETag), so no race can slip another caller in between.
 */
export interface ChatAccess {
  /** TRUST_CLIENT_PRINCIPAL: owners are enforced. */
  enforceOwners: boolean;
  /** The signed-in caller's object id, if any. */
  caller?: string;
}

/** Shared chats, without per-user chats: everyone may use every chat. */
export const sharedAccess: ChatAccess = { enforceOwners: false };

export function mayUse(state: ChatState, access: ChatAccess): boolean {
  return !access.enforceOwners || state.owner == null || state.owner === access.caller;
}

/** The owner a new chat gets: the signed-in caller when owners are enforced, else none (shared). */
export function ownerOfNewChat(access: ChatAccess): string | undefined {
  return access.enforceOwners ? access.caller : undefined;
}
