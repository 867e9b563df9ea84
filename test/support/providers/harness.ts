// Starts the app against the test model server speaking one provider's dialect, with the settings a user of
// that provider would set (README § Providers), and small helpers to drive every model route.
import { startApp, type RunningApp } from '../app.js';
import { startFakeModel, type FakeModel, type Responder } from '../fake-model.js';
import { profiles, type ProfileName } from './profiles.js';

export interface ProviderApp {
  profile: ProfileName;
  model: FakeModel;
  app: RunningApp;
  chatModel: string;
  stop(): Promise<void>;
}

/** The settings a user of each provider sets; the chat model names are what those users would name. */
export function providerSettings(profile: ProfileName, model: FakeModel): { env: Record<string, string>; chatModel: string } {
  switch (profile) {
    case 'azure':
    case 'azure-old-api':
      return {
        chatModel: 'chat',
        env: {
          AZURE_OPENAI_ENDPOINT: model.origin,
          AZURE_OPENAI_API_KEY: 'azure-test-key-0123456789',
          AZURE_OPENAI_API_VERSION: profile === 'azure' ? '2024-10-21' : '2024-02-01',
          CHAT_MODEL_DEPLOYMENT_NAME: 'chat',
          EMBEDDING_MODEL_DEPLOYMENT_NAME: 'embedding',
        },
      };
    case 'openai':
      return { chatModel: 'gpt-4o-mini', env: { OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'sk-test-0123456789abcdef', CHAT_MODEL_DEPLOYMENT_NAME: 'gpt-4o-mini', EMBEDDING_MODEL_DEPLOYMENT_NAME: 'text-embedding-3-small' } };
    case 'openai-reasoning':
      return { chatModel: 'o4-mini', env: { OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'sk-test-0123456789abcdef', CHAT_MODEL_DEPLOYMENT_NAME: 'o4-mini', EMBEDDING_MODEL_DEPLOYMENT_NAME: 'text-embedding-3-small', MODEL_REASONING_EFFORT: 'low' } };
    case 'ollama':
      return { chatModel: 'llama3.2', env: { OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'llama3.2', EMBEDDING_MODEL_DEPLOYMENT_NAME: 'nomic-embed-text' } };
    case 'llamacpp':
      return { chatModel: 'local', env: { OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'local', EMBEDDING_MODEL_DEPLOYMENT_NAME: 'local-embedding' } };
    case 'vllm':
      return { chatModel: 'Qwen/Qwen3-8B', env: { OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'EMPTY', CHAT_MODEL_DEPLOYMENT_NAME: 'Qwen/Qwen3-8B', EMBEDDING_MODEL_DEPLOYMENT_NAME: 'BAAI/bge-m3' } };
  }
}

/**
 * Echoes the last user message; the RAG rewrite (a request with tools) gets a `search_sources` tool call, so
 * each profile's tool-call shape is exercised.
 */
export const providerResponder: Responder = (body) => {
  if (body.tools != null && body.tools.length > 0) {
    return { toolCalls: [{ name: 'search_sources', arguments: JSON.stringify({ search_query: 'vacation days policy' }) }] };
  }
  const last = [...body.messages].reverse().find((message) => message.role === 'user');
  const text = typeof last?.content === 'string' ? last.content : 'content parts';
  return { content: `Echo: ${text.slice(0, 60)}`, reasoning: 'The user wants an echo.' };
};

export async function startProviderApp(profile: ProfileName, extraEnv: Record<string, string> = {}): Promise<ProviderApp> {
  const model = await startFakeModel({ profile: profiles[profile] });
  model.responder = providerResponder;
  const { env, chatModel } = providerSettings(profile, model);
  const app = await startApp({ MODEL_TIMEOUT_MS: '3000', ...env, ...extraEnv });
  return {
    profile,
    model,
    app,
    chatModel,
    async stop() {
      await app.stop();
      await model.stop();
    },
  };
}

/** Reads an NDJSON body into its objects. */
export function parseNdjson(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
