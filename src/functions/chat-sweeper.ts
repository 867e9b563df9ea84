import { app, type InvocationContext, type Timer } from '@azure/functions';
import { sweepPendingChats } from '../chats/lifecycle.js';
import { chatTable } from '../services.js';

/**
 * Resumes sweeps that did not finish after the request that made rows stale (a DELETE or reset whose instance
 * stopped mid-sweep): chats flagged `sweepPending` lose their old rows here. The next access to a chat resumes
 * its sweep too; this catches the chats nobody opens again.
 */
export async function sweepChats(_timer: Timer, context: InvocationContext): Promise<void> {
  const removed = await sweepPendingChats(await chatTable());
  if (removed > 0) context.log(`Swept ${removed} stale chat rows.`);
}

// Every 15 minutes. The local host does not run timers; there, sweeps resume on the next access to a chat.
app.timer('sweepChats', { schedule: '0 */15 * * * *', handler: sweepChats });
