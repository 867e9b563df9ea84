import { config } from './config.js';
import { pingTableService } from './storage/clients.js';

export interface HealthReport {
  status: 'ok' | 'degraded';
  model: { provider: 'azure' | 'openai' | 'none'; chatModel: string | null; embeddingModel: string | null };
  storage: { ok: boolean };
  search: { backend: 'azure' | 'local'; documents: number | null };
}

/** What is configured and what answers; names only, never keys or connection strings. */
export async function healthReport(): Promise<HealthReport> {
  const settings = config();
  const storageOk = await pingTableService(settings.chatStorage);
  const modelConfigured = settings.model.kind !== 'none' && settings.chatModel != null;
  return {
    status: storageOk && modelConfigured ? 'ok' : 'degraded',
    model: {
      provider: settings.model.kind,
      chatModel: settings.chatModel ?? null,
      embeddingModel: settings.embeddingModel ?? null,
    },
    storage: { ok: storageOk },
    search: { backend: settings.search.endpoint == null ? 'local' : 'azure', documents: null },
  };
}
