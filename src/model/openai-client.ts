// Loaded lazily (services.ts): the openai SDK and @azure/identity cost ~100-300 ms to import, which must not
// land on the cold start of routes that never call a model.
import OpenAI, { AzureOpenAI, APIConnectionTimeoutError, APIConnectionError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { AppConfig } from '../config.js';
import { azureCredential } from '../identity.js';
import {
  AppError,
  clientClosedRequest,
  modelError,
  modelNotConfigured,
  modelTimeout,
  rateLimited,
} from '../http/errors.js';
import type { Completion, CompletionEvent, CompletionRequest, ModelClient, ToolCall, Usage } from './types.js';

const AZURE_SCOPE = 'https://cognitiveservices.azure.com/.default';

export const modelSettingsHint =
  'Set AZURE_OPENAI_ENDPOINT (Azure OpenAI; key in AZURE_OPENAI_API_KEY or keyless with Entra ID), or ' +
  'OPENAI_BASE_URL and/or OPENAI_API_KEY (OpenAI or an OpenAI-compatible server such as Ollama, vLLM or ' +
  'llama.cpp), and CHAT_MODEL_DEPLOYMENT_NAME.';

async function createSdkClient(config: AppConfig): Promise<OpenAI> {
  const common = { maxRetries: config.modelMaxRetries, timeout: config.modelTimeoutMs };
  const provider = config.model;
  if (provider.kind === 'azure') {
    if (provider.apiKey != null) {
      return new AzureOpenAI({ ...common, endpoint: provider.endpoint, apiKey: provider.apiKey, apiVersion: provider.apiVersion });
    }
    const { getBearerTokenProvider } = require('@azure/identity') as typeof import('@azure/identity');
    const credential = await azureCredential(provider.clientId);
    return new AzureOpenAI({
      ...common,
      endpoint: provider.endpoint,
      apiVersion: provider.apiVersion,
      azureADTokenProvider: getBearerTokenProvider(credential, AZURE_SCOPE),
    });
  }
  if (provider.kind === 'openai') {
    // Local servers (Ollama, llama.cpp) need no key, but the SDK insists on one.
    return new OpenAI({ ...common, baseURL: provider.baseURL, apiKey: provider.apiKey ?? 'not-needed' });
  }
  throw modelNotConfigured(`No model is configured. ${modelSettingsHint}`);
}

/** Creates the process's model client; throws model_not_configured when settings are missing. */
export async function createModelClient(config: AppConfig): Promise<ModelClient> {
  const chatModel = config.chatModel;
  if (config.model.kind === 'none' || chatModel == null) {
    throw modelNotConfigured(`No chat model is configured. ${modelSettingsHint}`);
  }
  const sdk = await createSdkClient(config);
  return new OpenAIModelClient(sdk, chatModel, config.embeddingModel);
}

class OpenAIModelClient implements ModelClient {
  constructor(
    private readonly sdk: OpenAI,
    readonly chatModel: string,
    readonly embeddingModel?: string,
  ) {}

  private params(request: CompletionRequest) {
    return {
      model: this.chatModel,
      messages: request.messages,
      ...(request.maxTokens == null ? {} : { max_tokens: request.maxTokens }),
      ...(request.temperature == null ? {} : { temperature: request.temperature }),
      ...(request.seed == null ? {} : { seed: request.seed }),
      ...(request.tools == null ? {} : { tools: request.tools }),
      ...(request.toolChoice == null ? {} : { tool_choice: request.toolChoice }),
    };
  }

  async complete(request: CompletionRequest): Promise<Completion> {
    try {
      const response = await this.sdk.chat.completions.create(
        { ...this.params(request), stream: false },
        { signal: request.signal },
      );
      const choice = response.choices[0];
      if (choice == null) throw modelError('The model returned no choices.');
      if (choice.finish_reason === 'content_filter') throw contentFiltered();
      return {
        content: choice.message.content ?? '',
        finishReason: choice.finish_reason,
        usage: toUsage(response.usage),
        toolCalls: (choice.message.tool_calls ?? []).flatMap((call) =>
          call.type === 'function' ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments }] : [],
        ),
      };
    } catch (error: unknown) {
      throw translateModelError(error);
    }
  }

  async *stream(request: CompletionRequest): AsyncGenerator<CompletionEvent> {
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    let chunks: AsyncIterable<ChatCompletionChunk>;
    try {
      chunks = await this.sdk.chat.completions.create(
        { ...this.params(request), stream: true, stream_options: { include_usage: true } },
        { signal: controller.signal },
      );
    } catch (error: unknown) {
      request.signal?.removeEventListener('abort', onAbort);
      throw translateModelError(error);
    }
    let finishReason: string | null = null;
    let usage: Usage | undefined;
    let finished = false;
    const toolCalls = new ToolCallAssembler();
    try {
      for await (const chunk of chunks) {
        if (chunk.usage != null) usage = toUsage(chunk.usage);
        const choice = chunk.choices[0];
        if (choice == null) continue;
        if (choice.finish_reason != null) finishReason = choice.finish_reason;
        if (choice.finish_reason === 'content_filter') throw contentFiltered();
        const content = choice.delta?.content;
        if (content != null && content !== '') yield { type: 'delta', content };
        for (const piece of choice.delta?.tool_calls ?? []) toolCalls.add(piece);
      }
      finished = true;
    } catch (error: unknown) {
      const translated = translateModelError(error);
      // A connection dropped mid-stream surfaces as a bare network error (e.g. undici's "terminated").
      if (translated instanceof AppError) throw translated;
      throw modelError('The model stream broke off before the answer was complete.', error);
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
      // Stops paying for tokens nobody will read when the consumer stops early.
      if (!finished) controller.abort();
    }
    if (finishReason == null) throw modelError('The model stream ended before the answer was complete.');
    yield { type: 'done', finishReason, usage, toolCalls: toolCalls.calls() };
  }

  async embed(inputs: string[], signal?: AbortSignal): Promise<number[][]> {
    if (this.embeddingModel == null) {
      throw modelNotConfigured('No embedding model is configured. Set EMBEDDING_MODEL_DEPLOYMENT_NAME.');
    }
    try {
      const response = await this.sdk.embeddings.create({ model: this.embeddingModel, input: inputs }, { signal });
      return [...response.data].sort((a, b) => a.index - b.index).map((item) => item.embedding);
    } catch (error: unknown) {
      throw translateModelError(error);
    }
  }
}

type ToolCallDelta = NonNullable<ChatCompletionChunk.Choice.Delta['tool_calls']>[number];

/**
 * Streamed tool calls as whole calls. OpenAI and Azure send the id and name in a call's first delta and its
 * arguments in pieces across later chunks, matched by `index`; Ollama sends each call whole in one chunk
 * (several calls in one message get indexes 0, 1, ...). A delta without index but with a new id starts a call.
 */
class ToolCallAssembler {
  private readonly byIndex = new Map<number, ToolCall>();

  add(delta: ToolCallDelta): void {
    const known = [...this.byIndex.values()];
    const index = typeof delta.index === 'number' ? delta.index : delta.id != null && !known.some((call) => call.id === delta.id) ? this.byIndex.size : Math.max(0, this.byIndex.size - 1);
    const call = this.byIndex.get(index) ?? { id: '', name: '', arguments: '' };
    if (delta.id != null && delta.id !== '') call.id = delta.id;
    // Some servers repeat the name in every delta: the first one counts.
    if (delta.function?.name != null && call.name === '') call.name = delta.function.name;
    if (delta.function?.arguments != null) call.arguments += delta.function.arguments;
    this.byIndex.set(index, call);
  }

  calls(): ToolCall[] {
    return [...this.byIndex.entries()].sort(([a], [b]) => a - b).map(([index, call]) => ({ ...call, id: call.id === '' ? `call_${index}` : call.id }));
  }
}

function toUsage(usage: OpenAI.CompletionUsage | null | undefined): Usage | undefined {
  if (usage == null) return undefined;
  return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, totalTokens: usage.total_tokens };
}

function contentFiltered(): AppError {
  return new AppError(400, 'content_filter', 'The model provider filtered this request or its answer under its content policy.');
}

/** Seconds to pass on in Retry-After, from the upstream's headers (retry-after-ms wins, as the SDK does). */
function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const millis = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(millis) && millis >= 0 && headers?.get('retry-after-ms') != null) return Math.ceil(millis / 1000);
  const value = headers?.get('retry-after');
  if (value == null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/**
 * Vendor errors become API.md errors here, where the vendor is called. Upstream bodies are not copied into
 * our messages: they can echo prompts or partial keys.
 */
export function translateModelError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  if (error instanceof APIUserAbortError) return clientClosedRequest(error);
  if (error instanceof APIConnectionTimeoutError) {
    return modelTimeout('The model did not answer in time. Try again, or raise MODEL_TIMEOUT_MS.', error);
  }
  if (error instanceof APIConnectionError) {
    return modelError('Could not reach the model service. Check the endpoint setting and that the server is running.', error);
  }
  if (error instanceof APIError) {
    const status = error.status ?? 0;
    const code = typeof error.code === 'string' ? error.code : undefined;
    if (status === 429) {
      return rateLimited('The model service is throttling requests; retry after the time in Retry-After.', retryAfterSeconds(error.headers), error);
    }
    if (code === 'content_filter' || code === 'content_policy_violation') return contentFiltered();
    if (code === 'context_length_exceeded') {
      return new AppError(400, 'context_length_exceeded', 'The conversation is longer than the model accepts; shorten it.', { cause: error });
    }
    if (status === 408 || status === 504) return modelTimeout('The model service timed out.', error);
    if (status === 401 || status === 403) {
      return modelError(`The model service rejected our credentials (${status}). Check the key or the identity's role assignment.`, error);
    }
    if (status === 404) {
      return modelError('The model service does not know the configured model or deployment (404). Check CHAT_MODEL_DEPLOYMENT_NAME.', error);
    }
    return modelError(`The model service failed (${status || 'no status'}).`, error);
  }
  return error;
}
