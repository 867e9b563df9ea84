import { invalidRequest } from '../errors/index.js';
import type { ModelClient } from '../model/types.js';
import type { SearchIndex } from '../search/types.js';
import type { RagRequest } from './request.js';
import type { Caller } from '../http/caller.js';

// What a chat-with-your-data request needs and the choices settled before any model call.

export interface RagSettings {
  historyTokens: number;
  maxOutputTokens: number;
  modelContextTokens: number;
  embeddingsEnabled: boolean;
  /** REQUIRE_ACCESS_CONTROL: security filters always apply, from the trusted identity only. */
  requireAccessControl: boolean;
  /** RAG_SYSTEM_PROMPT: the deployment's own answer prompt (a generic one when unset). */
  systemPrompt?: string | undefined;
}

export interface RagDependencies {
  model: ModelClient;
  index: () => Promise<SearchIndex>;
  settings: RagSettings;
  /** From the platform's authentication headers only (never the body); anonymous unless trusted. */
  identity: Caller;
  signal?: AbortSignal;
}

export type RetrievalMode = 'hybrid' | 'text' | 'vectors' | 'none';

export interface RagPlan {
  mode: RetrievalMode;
  top: number;
  temperature: number;
  maxTokens: number;
}

const DEFAULT_TOP = 5;
const DEFAULT_TEMPERATURE = 0.3;

/** Settles every choice that can be refused before any model call. */
export function planRetrieval(request: RagRequest, settings: RagSettings): RagPlan {
  const { overrides } = request;
  const requested = overrides.retrieval_mode ?? (settings.embeddingsEnabled ? 'hybrid' : 'text');
  if (requested === 'vectors' && !settings.embeddingsEnabled) {
    throw invalidRequest('overrides.retrieval_mode: "vectors" needs an embedding model; set EMBEDDING_MODEL_DEPLOYMENT_NAME or use "text".');
  }
  const maxTokens = overrides.max_tokens ?? settings.maxOutputTokens;
  if (maxTokens >= settings.modelContextTokens) {
    throw invalidRequest(`overrides.max_tokens: must be below the model's context window (${settings.modelContextTokens} tokens).`);
  }
  return {
    // Hybrid without embeddings quietly becomes text: it is the default the client may not have chosen.
    mode: requested === 'hybrid' && !settings.embeddingsEnabled ? 'text' : requested,
    top: overrides.top ?? DEFAULT_TOP,
    temperature: overrides.temperature ?? DEFAULT_TEMPERATURE,
    maxTokens,
  };
}
