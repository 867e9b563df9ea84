// Loaded lazily (services.ts): the openai SDK and @azure/identity cost ~100-300 ms to import, which must not
// land on the cold start of routes that never call a model.
import OpenAI, { AzureOpenAI } from 'openai';
import type { AppConfig } from '../config.js';
import { azureCredential } from '../azure-credential.js';
import { clientClosedRequest, modelError, modelNotConfigured } from '../errors/index.js';
import {
  isReasoningModel,
  recordReasoningModel,
  recordStreamOptionsRejected,
  recordToolsUnsupported,
  streamOptionsAccepted,
  ToolsUnsupportedError,
} from './capabilities.js';
import { withRetries } from './retries.js';
import { countTokens, MESSAGE_OVERHEAD_TOKENS, REPLY_PRIMING_TOKENS } from './tokens.js';
import { ToolCallAssembler } from './tool-calls.js';
import type { ChatMessage, Completion, CompletionEvent, CompletionRequest, ModelClient, ToolCall, Usage } from './types.js';
import {
  contentFiltered,
  isReasoningParameterRejection,
  isStreamOptionsRejection,
  isToolsUnsupported,
  shortReason,
  translateModelError,
  type ModelOperation,
} from './upstream-errors.js';
import { checkVectors } from './vectors.js';
import { watchdogFetch } from './watchdog-fetch.js';
import { chunkSchema, completionSchema, embeddingsSchema, type WireCompletion } from './wire.js';

const AZURE_SCOPE = 'https://cognitiveservices.azure.com/.default';

export const modelSettingsHint =
  'Set AZURE_OPENAI_ENDPOINT (Azure OpenAI; key in AZURE_OPENAI_API_KEY or keyless with Entra ID), or ' +
  'OPENAI_BASE_URL and/or OPENAI_API_KEY (OpenAI or an OpenAI-compatible server such as Ollama, vLLM or ' +
  'llama.cpp), and CHAT_MODEL_DEPLOYMENT_NAME.';

async function createSdkClient(config: AppConfig): Promise<OpenAI> {
  // maxRetries 0: retries are ours (retries.ts), bounded by the time a request has left. The fetch watches
  // for silence after the headers, which the SDK's timeout does not cover.
  const common = { maxRetries: 0, timeout: config.modelTimeoutMs, fetch: watchdogFetch(config.modelTimeoutMs) };
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
  const endpoint = config.model.kind === 'azure' ? `${config.model.endpoint}|${config.model.apiVersion}` : (config.model.baseURL ?? 'openai');
  return new OpenAIModelClient(sdk, chatModel, config.embeddingModel, {
    endpoint,
    timeoutMs: config.modelTimeoutMs,
    maxRetries: config.modelMaxRetries,
    reasoning: config.modelReasoning,
    reasoningEffort: config.modelReasoningEffort,
  });
}

interface ClientSettings {
  /** Key for what this process learned about the server (stream_options support). */
  endpoint: string;
  timeoutMs: number;
  maxRetries: number;
  reasoning: AppConfig['modelReasoning'];
  reasoningEffort?: AppConfig['modelReasoningEffort'];
}

/** How one call is shaped; each adaptation to a provider's 400 flips one of these once. */
interface CallShape {
  reasoning: boolean;
  streamOptions: boolean;
}

class OpenAIModelClient implements ModelClient {
  constructor(
    private readonly sdk: OpenAI,
    readonly chatModel: string,
    readonly embeddingModel: string | undefined,
    private readonly settings: ClientSettings,
  ) {}

  /**
   * Reasoning models (o-series, gpt-5) reject `max_tokens` and sampling parameters; every other server
   * (Ollama, vLLM, llama.cpp, older Azure API versions) only knows `max_tokens`.
   */
  private params(request: CompletionRequest, shape: CallShape) {
    const reasoning = shape.reasoning;
    return {
      model: this.chatModel,
      messages: request.messages,
      ...(request.maxTokens == null ? {} : reasoning ? { max_completion_tokens: request.maxTokens } : { max_tokens: request.maxTokens }),
      ...(request.temperature == null || reasoning ? {} : { temperature: request.temperature }),
      ...(reasoning && this.settings.reasoningEffort != null ? { reasoning_effort: this.settings.reasoningEffort } : {}),
      ...(request.seed == null ? {} : { seed: request.seed }),
      ...(request.tools == null ? {} : { tools: request.tools }),
      ...(request.toolChoice == null ? {} : { tool_choice: request.toolChoice }),
    };
  }

  /**
   * Runs one model call with retries, adapting once to each known provider rejection (reasoning parameters,
   * `stream_options`) and remembering it for the process.
   */
  private async send<T>(request: CompletionRequest, call: (shape: CallShape, timeLeftMs: number) => Promise<T>): Promise<T> {
    // Tools are still sent when the model was seen without tool support: callers decide (the RAG rewrite
    // skips them via toolsSupported; the tool loop has its own fallback).
    const deadline = Date.now() + this.settings.timeoutMs;
    for (let adaptations = 0; ; adaptations++) {
      const shape: CallShape = {
        reasoning: isReasoningModel(this.chatModel, this.settings.reasoning),
        streamOptions: streamOptionsAccepted(this.settings.endpoint),
      };
      try {
        return await withRetries((left) => call(shape, left), {
          maxRetries: this.settings.maxRetries,
          budgetMs: Math.max(1, deadline - Date.now()),
          signal: request.signal,
        });
      } catch (error: unknown) {
        if (adaptations < 2 && !shape.reasoning && this.settings.reasoning === 'auto' && isReasoningParameterRejection(error)) {
          recordReasoningModel(this.chatModel);
          continue;
        }
        if (adaptations < 2 && shape.streamOptions && isStreamOptionsRejection(error)) {
          recordStreamOptionsRejected(this.settings.endpoint);
          continue;
        }
        if (request.tools != null && isToolsUnsupported(error)) {
          recordToolsUnsupported(this.chatModel);
          throw new ToolsUnsupportedError(this.chatModel, error);
        }
        throw translateModelError(error, 'chat');
      }
    }
  }

  async complete(request: CompletionRequest): Promise<Completion> {
    const response = await this.send(request, (shape, left) =>
      this.sdk.chat.completions.create({ ...this.params(request, shape), stream: false }, { signal: request.signal, timeout: whole(left) }),
    );
    return toCompletion(request, response);
  }

  async *stream(request: CompletionRequest): AsyncGenerator<CompletionEvent> {
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    let finished = false;
    try {
      const chunks = await this.send(request, (shape, left) =>
        this.sdk.chat.completions.create(
          { ...this.params(request, shape), stream: true, ...(shape.streamOptions ? { stream_options: { include_usage: true } } : {}) },
          { signal: controller.signal, timeout: whole(left) },
        ),
      );
      let finishReason: string | null = null;
      let usage: Usage | undefined;
      let text = '';
      const toolCalls = new ToolCallAssembler();
      try {
        for await (const raw of chunks) {
          const parsed = chunkSchema.safeParse(raw);
          if (!parsed.success) throw notACompletion(raw);
          const chunk = parsed.data;
          if (chunk.usage != null) usage = toUsage(chunk.usage);
          // Usage-only chunks and Azure's first chunk (prompt filter results) have `choices: []` or null.
          const choice = chunk.choices?.[0];
          if (choice == null) continue;
          if (choice.finish_reason != null) finishReason = choice.finish_reason;
          if (choice.finish_reason === 'content_filter') throw contentFiltered();
          // A refusal is the reply: its pieces stream like content.
          for (const content of [choice.delta?.content, choice.delta?.refusal]) {
            if (content == null || content === '') continue;
            text += content;
            yield { type: 'delta', content };
          }
          for (const piece of choice.delta?.tool_calls ?? []) toolCalls.add(piece);
        }
      } catch (error: unknown) {
        throw translateModelError(error, 'chat');
      }
      // The SDK ends a stream quietly when it is aborted; the client left.
      if (request.signal?.aborted) throw clientClosedRequest();
      finished = true;
      if (finishReason == null) throw modelError('The model stream ended before the answer was complete.');
      const calls = toolCalls.calls();
      if (text.trim() === '' && calls.length === 0 && request.tools == null) throw emptyAnswer(finishReason);
      yield { type: 'done', finishReason, usage: usage ?? countedUsage(request.messages, text), toolCalls: calls };
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
      // Stops paying for tokens nobody will read when the consumer stops early.
      if (!finished) controller.abort();
    }
  }

  async embed(inputs: string[], signal?: AbortSignal): Promise<number[][]> {
    const model = this.embeddingModel;
    if (model == null) {
      throw modelNotConfigured('No embedding model is configured. Set EMBEDDING_MODEL_DEPLOYMENT_NAME.');
    }
    return this.embedWith(model, inputs, signal);
  }

  private async embedWith(model: string, inputs: string[], signal: AbortSignal | undefined): Promise<number[][]> {
    const operation: ModelOperation = 'embeddings';
    let response: unknown;
    try {
      // `float`: the SDK otherwise asks for base64 and decodes whatever comes back as base64, which turns
      // the float arrays of servers that ignore encoding_format into garbage.
      response = await withRetries(
        (left) => this.sdk.embeddings.create({ model, input: inputs, encoding_format: 'float' }, { signal, timeout: whole(left) }),
        { maxRetries: this.settings.maxRetries, budgetMs: this.settings.timeoutMs, signal },
      );
    } catch (error: unknown) {
      throw translateModelError(error, operation);
    }
    const parsed = embeddingsSchema.safeParse(response);
    if (!parsed.success) {
      throw modelError(`The embedding model answered something that is not a list of vectors (${describeBody(response)}).`);
    }
    const vectors = [...parsed.data.data].sort((a, b) => a.index - b.index).map((item) => item.embedding);
    if (vectors.length !== inputs.length) {
      throw modelError(`The embedding model returned ${vectors.length} vectors for ${inputs.length} inputs.`);
    }
    checkVectors(vectors, model);
    return vectors;
  }
}

/** SDK timeouts must be positive whole milliseconds. */
const whole = (ms: number) => Math.max(1, Math.floor(ms));

function toCompletion(request: CompletionRequest, response: unknown): Completion {
  const parsed = completionSchema.safeParse(response);
  if (!parsed.success) throw notACompletion(response);
  const choice = parsed.data.choices[0]!;
  if (choice.finish_reason === 'content_filter') throw contentFiltered();
  const content = choice.message.content ?? '';
  // A refusal is the reply (content is null then).
  const text = content.trim() === '' && choice.message.refusal != null ? choice.message.refusal : content;
  const toolCalls = toToolCalls(choice.message.tool_calls);
  if (text.trim() === '' && toolCalls.length === 0 && request.tools == null) throw emptyAnswer(choice.finish_reason ?? null);
  return {
    content: text,
    finishReason: choice.finish_reason ?? null,
    usage: toUsage(parsed.data.usage) ?? countedUsage(request.messages, text),
    toolCalls,
  };
}

function toToolCalls(calls: NonNullable<WireCompletion['choices'][number]['message']['tool_calls']> | null | undefined): ToolCall[] {
  return (calls ?? []).flatMap((call, index) => {
    if (call.type != null && call.type !== 'function') return [];
    const args = call.function.arguments;
    // Some servers (Ollama's native shape) send arguments as an object instead of a JSON string.
    return [{ id: call.id ?? `call_${index}`, name: call.function.name, arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) }];
  });
}

function emptyAnswer(finishReason: string | null) {
  const hint =
    finishReason === 'length'
      ? ' It used all its output tokens first (reasoning models spend them on reasoning): raise MAX_OUTPUT_TOKENS.'
      : '';
  return modelError(`The model returned an empty answer (finish_reason ${finishReason ?? 'none'}).${hint}`);
}

/** What a 200 that is not a completion looked like, short and without markup. */
function describeBody(body: unknown): string {
  return shortReason(typeof body === 'string' ? body : JSON.stringify(body ?? null)) ?? 'an empty body';
}

function notACompletion(body: unknown) {
  return modelError(`The model service answered something that is not a chat completion (${describeBody(body)}). Check the endpoint setting.`);
}

function toUsage(usage: { prompt_tokens: number; completion_tokens: number; total_tokens?: number | null } | null | undefined): Usage | undefined {
  if (usage == null) return undefined;
  return {
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    totalTokens: usage.total_tokens ?? usage.prompt_tokens + usage.completion_tokens,
  };
}

/** Usage counted with our tokenizer, for providers whose streams bring none (Ollama, older Azure versions). */
function countedUsage(messages: ChatMessage[], answer: string): Usage {
  const promptTokens = messages.reduce((sum, message) => sum + countTokens(textOf(message.content)) + MESSAGE_OVERHEAD_TOKENS, REPLY_PRIMING_TOKENS);
  const completionTokens = countTokens(answer);
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}

function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (content == null) return '';
  return content.map((part) => ('text' in part && typeof part.text === 'string' ? part.text : '')).join(' ');
}

export { translateModelError };
