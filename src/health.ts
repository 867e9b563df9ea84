import { config } from './config.js';
import { searchIndex } from './services.js';
import { pingTableService } from './storage/clients.js';

export interface HealthReport {
  /** ok; degraded when an optional part (the model) is missing; unhealthy (503) when storage or the index cannot be used. */
  status: 'ok' | 'degraded' | 'unhealthy';
  model: { provider: 'azure' | 'openai' | 'none'; chatModel: string | null; embeddingModel: string | null };
  storage: { ok: boolean };
  /** `documents` counts indexed chunks (search documents, as Azure AI Search counts them); null when unknown. */
  search: { backend: 'azure' | 'local'; documents: number | null };
  /** What makes the status less than ok and what to do about it. */
  problems: string[];
}

/** What is configured and what answers; names only, never keys or connection strings. */
export async function healthReport(): Promise<HealthReport> {
  const settings = config();
  const [storageOk, documents] = await Promise.all([pingTableService(settings.chatStorage), indexedChunks()]);
  const modelConfigured = settings.model.kind !== 'none' && settings.chatModel != null;
  // The search index cannot be used fully (e.g. it is being rebuilt after its file was found corrupt).
  const indexProblem = (await searchIndex()).condition?.().problem;
  return {
    status: indexProblem != null || !storageOk ? 'unhealthy' : modelConfigured ? 'ok' : 'degraded',
    model: {
      provider: settings.model.kind,
      chatModel: settings.chatModel ?? null,
      embeddingModel: settings.embeddingModel ?? null,
    },
    storage: { ok: storageOk },
    search: { backend: settings.search.endpoint == null ? 'local' : 'azure', documents },
    problems: indexProblem == null ? [] : [indexProblem],
  };
}

/** Chunks in the search index, or null when the index cannot answer within `timeoutMs`. */
async function indexedChunks(timeoutMs = 2000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
  try {
    return await Promise.race([(await searchIndex()).count(), timeout]);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}
