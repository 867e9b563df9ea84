import path from 'node:path';
import { config, type AppConfig } from './config.js';
import type { IngestDependencies } from './ingest/pipeline.js';
import type { ModelClient } from './model/types.js';
import type { SearchIndex } from './search/types.js';
import type { ContentStore } from './storage/content-store.js';

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

/** A table on the chat storage connection, created on first use. */
function lazyTable(name: (settings: AppConfig) => string) {
  return lazy<import('@azure/data-tables').TableClient>(async () => {
    const { createTableClient } = await import('./storage/clients.js');
    const { translateStorageError } = await import('./errors/storage.js');
    const settings = config();
    const table = await createTableClient(settings.chatStorage, name(settings));
    try {
      await table.createTable();
    } catch (error: unknown) {
      throw translateStorageError(error);
    }
    return table;
  });
}

/** The chat table (CHAT_TABLE_NAME on CHAT_STORAGE_CONNECTION). */
export const chatTable = lazyTable((settings) => settings.chatTableName);

/** The todo sample skills' table (CHAT_TODO_TABLE_NAME, beside the chat table). */
export const todoTable = lazyTable((settings) => settings.todoTableName);

/** The search index: Azure AI Search when AZURE_SEARCH_ENDPOINT is set, else the embedded index in .data/. */
export const searchIndex = lazy<SearchIndex>(async () => {
  const settings = config();
  if (settings.search.endpoint != null) {
    const { AzureSearchIndex } = await import('./search/azure-index.js');
    return new AzureSearchIndex({ ...settings.search, endpoint: settings.search.endpoint });
  }
  const { LocalIndex } = await import('./search/local-index.js');
  const index = new LocalIndex(path.resolve('.data'), {
    // A torn or unreadable file was moved aside: index the documents in Blob Storage again, in the background.
    onCorrupt: () => {
      void (async () => {
        const { rebuildIndex } = await import('./ingest/repair.js');
        await rebuildIndex(await ingestDependencies(), (problem) => index.setProblem(problem), (message) => console.log(message));
      })().catch((error: unknown) => index.setProblem(`The local search index could not be rebuilt: ${error instanceof Error ? error.message : String(error)}`));
    },
  });
  return index;
});

/** Source documents in Blob Storage (container `content`), also the documents catalogue. */
export const contentStore = lazy<ContentStore>(async () => {
  const { BlobContentStore } = await import('./storage/content-store.js');
  return new BlobContentStore(config().storage, config().contentContainer);
});

/** What skills may use (src/skills): the process-wide clients and the settings retrieval checks. */
export function skillServices(): import('./skills/types.js').SkillServices {
  const settings = config();
  return {
    model: modelClient,
    searchIndex,
    todoTable,
    settings: {
      embeddingsEnabled: settings.embeddingModel != null,
      rag: { historyTokens: settings.historyTokens, maxOutputTokens: settings.maxOutputTokens, modelContextTokens: settings.modelContextTokens, requireAccessControl: settings.requireAccessControl },
    },
  };
}

/** What the ingestion pipeline needs, from the process-wide clients. */
export async function ingestDependencies(): Promise<IngestDependencies> {
  const settings = config();
  const embed =
    settings.embeddingModel == null
      ? undefined
      : async (texts: string[], signal?: AbortSignal) => (await modelClient()).embed(texts, signal);
  const limits = { bytes: settings.maxDocumentBytes, pages: settings.maxDocumentPages, textChars: settings.maxDocumentTextChars };
  const dependencies = { index: await searchIndex(), store: await contentStore(), embed, limits };
  repairOnce(dependencies);
  return dependencies;
}

let repairStarted = false;

/**
 * Once per process, in the background: repairs documents an interrupted upload or delete left half-changed
 * (the local host also starts it at start-up; in Azure the first documents request does).
 */
export function repairOnce(dependencies: Pick<IngestDependencies, 'index' | 'store'>): void {
  if (repairStarted) return;
  repairStarted = true;
  void import('./ingest/repair.js')
    .then(({ repairInterrupted }) => repairInterrupted(dependencies, (message) => console.log(message)))
    .catch((error: unknown) => {
      repairStarted = false;
      console.error(`Repair of interrupted document changes failed: ${error instanceof Error ? error.message : String(error)}`);
    });
}
