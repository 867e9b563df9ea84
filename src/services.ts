import { config } from './config.js';
import type { ModelClient } from './model/types.js';

// Clients are created on first use and reused for the life of the process: constructing SDK clients (and
// importing their modules) per request or at import time would cost every cold start.

/** Memoizes an async factory; a failed attempt is forgotten so the next request tries again. */
export function lazy<T>(create: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= create().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/** The chat/embedding model client; rejects with model_not_configured when no model is set. */
export const modelClient = lazy<ModelClient>(async () => {
  const { createModelClient } = await import('./model/openai-client.js');
  return createModelClient(config());
});

/** The chat table (CHAT_TABLE_NAME on CHAT_STORAGE_CONNECTION), created on first use. */
export const chatTable = lazy<import('@azure/data-tables').TableClient>(async () => {
  const { createTableClient } = await import('./storage/clients.js');
  const { translateStorageError } = await import('./storage/errors.js');
  const settings = config();
  const table = await createTableClient(settings.chatStorage, settings.chatTableName);
  try {
    await table.createTable();
  } catch (error: unknown) {
    throw translateStorageError(error);
  }
  return table;
});
