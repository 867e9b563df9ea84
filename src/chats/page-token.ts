// GET's continuationToken (API.md § paging): opaque to clients; inside, the conversation (generation) it
// belongs to and the sequence the next page starts at. A token of a conversation since reset is a 400.
import { z } from 'zod';
import { invalidRequest } from '../errors/index.js';
import type { ChatState } from './types.js';

const tokenBody = z.object({ g: z.string().regex(/^[A-Za-z0-9]{1,40}$/), s: z.number().int().min(1) });

export function pageToken(state: ChatState, next: number): string {
  return Buffer.from(JSON.stringify({ g: state.generation, s: next })).toString('base64url');
}

/** Where the page a token asks for starts. */
export function startOfToken(token: string, state: ChatState): number {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const parsed = tokenBody.safeParse(decoded);
  if (!parsed.success) throw invalidRequest('continuationToken: is not a token this API issued; pass the one from the previous page unchanged.');
  if (parsed.data.g !== state.generation) {
    throw invalidRequest('continuationToken: the chat was reset since this page was read; read it again without a token.');
  }
  return parsed.data.s;
}
