// Provider profiles for the test model server: how each real provider shapes a completion, a stream, an
// embeddings answer and its errors on the wire. Each shape names where it comes from; when a provider
// changes, change the profile and cite the new source.
//
// Sources:
// - OpenAI: the API reference (chat object, chunk object, include_usage), openai-node's tests
//   (tests/lib/ChatCompletionStream.test.ts, tests/api-resources/embeddings.test.ts) and error bodies
//   quoted in openai/openai-python issues (insufficient_quota, unsupported_parameter).
// - Azure OpenAI: MicrosoftDocs/azure-ai-docs articles/ai-services/openai/concepts/content-filter*.md and
//   content-streaming.md (prompt_filter_results, the `choices: []` first chunk, content_filter_results,
//   asynchronous-filter annotation chunks), reference.md (retry-after-ms on 429).
// - Ollama: docs/openai.md (OpenAI compatibility: fields, no usage in streams in the versions it describes,
//   tool calls sent whole) and ollama/ollama#5793 (the 400 "does not support tools" body).
// - llama.cpp: tools/server/README.md and server.cpp (`timings`, `exceed_context_size_error` with
//   n_prompt_tokens/n_ctx; older builds: no `id`, no `[DONE]`, errors as an `error:` SSE field at 200).
// - vLLM: vllm/entrypoints/openai/protocol.py (ErrorResponse `{"object":"error",...}` in older releases,
//   `{"error":{...}}` since 0.9; `reasoning_content` from reasoning parsers; tool calls with content null).

export type ProfileName = 'azure' | 'azure-old-api' | 'openai' | 'openai-reasoning' | 'ollama' | 'llamacpp' | 'vllm';

export const profileNames: ProfileName[] = ['azure', 'azure-old-api', 'openai', 'openai-reasoning', 'ollama', 'llamacpp', 'vllm'];

export interface WireRequest {
  model: string;
  messages: unknown[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  reasoning_effort?: string;
  tools?: unknown[];
}

export interface WireToolCall {
  name: string;
  arguments: string;
}

export interface WireReply {
  content: string;
  /** Streamed content deltas. */
  pieces: string[];
  toolCalls: WireToolCall[];
  refusal?: string;
  /** Reasoning text (vLLM's reasoning_content); never part of the answer. */
  reasoning?: string;
  finishReason: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** A complete HTTP answer: status, headers, body. */
export interface WireError {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** One SSE frame as written; `content` marks frames that carry answer text (stall/cut counts them). */
export interface Frame {
  text: string;
  content: boolean;
}

export type ProviderFailure = 'context_overflow' | 'throttle' | 'quota' | 'no_tools' | 'not_found' | 'content_filter';

export interface ProviderProfile {
  name: ProfileName | 'plain';
  /** A 4xx the real server gives this request whatever else is planned (reasoning models, old API versions). */
  reject(request: WireRequest, options: { toolsSupported: boolean }): WireError | undefined;
  completion(request: WireRequest, reply: WireReply): unknown;
  frames(request: WireRequest, reply: WireReply): Frame[];
  /** Embeddings answer; `encoding_format` is honoured only by servers that know it. */
  embeddings(model: string, vectors: number[][], encodingFormat: string | undefined): unknown;
  /** How this provider reports a failure: a plain error, or (llama.cpp before 2025) frames at HTTP 200. */
  failure(kind: ProviderFailure, options: { retryAfterSeconds?: number; stream: boolean }): WireError | { frames: string[] };
}

const now = () => Math.floor(Date.now() / 1000);
const sse = (value: unknown, newline = '\n') => `data: ${typeof value === 'string' ? value : JSON.stringify(value)}${newline}${newline}`;

/** OpenAI float32 little-endian base64, as the API returns for `encoding_format: "base64"`. */
function base64Vector(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

function embeddingList(model: string, vectors: number[][], asBase64: boolean, extra: Record<string, unknown> = {}) {
  const tokens = vectors.length * 8;
  return {
    object: 'list',
    data: vectors.map((vector, index) => ({ object: 'embedding', index, embedding: asBase64 ? base64Vector(vector) : vector })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
    ...extra,
  };
}

/** Tool-call deltas in OpenAI's streamed form: id, type and name first, then the arguments in pieces. */
function streamedToolCalls(calls: WireToolCall[], idPrefix: string): Record<string, unknown>[] {
  const deltas: Record<string, unknown>[] = [];
  calls.forEach((call, index) => {
    deltas.push({ tool_calls: [{ index, id: `${idPrefix}${index}`, type: 'function', function: { name: call.name, arguments: '' } }] });
    const pieces = call.arguments.match(/.{1,7}/gs) ?? [];
    for (const piece of pieces) deltas.push({ tool_calls: [{ index, function: { arguments: piece } }] });
  });
  return deltas;
}

const openAiError = (status: number, message: string, type: string | null, code: string | null, param: string | null = null, headers?: Record<string, string>): WireError => ({
  status,
  headers,
  body: { error: { message, type, param, code } },
});

// ---------------------------------------------------------------------------------------------- OpenAI
function openAiProfile(name: 'openai' | 'openai-reasoning'): ProviderProfile {
  const reasoning = name === 'openai-reasoning';
  const usageOf = (reply: WireReply) => ({
    ...reply.usage,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: reasoning ? 64 : 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  });
  return {
    name,
    reject(request) {
      if (!reasoning) return undefined;
      // Quoted from OpenAI's answers to o1/o3/gpt-5 requests (openai-python#2084 and many others).
      if (request.max_tokens != null) {
        return openAiError(400, "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", 'invalid_request_error', 'unsupported_parameter', 'max_tokens');
      }
      if (request.temperature != null && request.temperature !== 1) {
        return openAiError(400, `Unsupported value: 'temperature' does not support ${request.temperature} with this model. Only the default (1) value is supported.`, 'invalid_request_error', 'unsupported_value', 'temperature');
      }
      return undefined;
    },
    completion(request, reply) {
      const calls = reply.toolCalls.map((call, index) => ({ id: `call_${index}abc`, type: 'function', function: call }));
      return {
        id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
        object: 'chat.completion',
        created: now(),
        model: request.model,
        choices: [{
          index: 0,
          message: {
            role: 'assistant',
            content: reply.refusal != null || calls.length > 0 ? null : reply.content,
            refusal: reply.refusal ?? null,
            annotations: [],
            ...(calls.length > 0 ? { tool_calls: calls } : {}),
          },
          logprobs: null,
          finish_reason: reply.finishReason,
        }],
        usage: usageOf(reply),
        service_tier: 'default',
        system_fingerprint: 'fp_50cad350e4',
      };
    },
    frames(request, reply) {
      const includeUsage = request.stream_options?.include_usage === true;
      const chunk = (delta: unknown, finish: string | null = null) => ({
        id: 'chatcmpl-123',
        object: 'chat.completion.chunk',
        created: now(),
        model: request.model,
        service_tier: 'default',
        system_fingerprint: 'fp_44709d6fcb',
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        // With include_usage every chunk carries `usage: null` and a last chunk has the totals.
        ...(includeUsage ? { usage: null } : {}),
      });
      const frames: Frame[] = [{ text: sse(chunk({ role: 'assistant', content: '', refusal: null })), content: false }];
      if (reply.refusal != null) {
        for (const piece of reply.refusal.match(/\S+\s*/g) ?? []) frames.push({ text: sse(chunk({ refusal: piece })), content: true });
      }
      for (const piece of reply.pieces) frames.push({ text: sse(chunk({ content: piece })), content: true });
      for (const delta of streamedToolCalls(reply.toolCalls, 'call_')) frames.push({ text: sse(chunk(delta)), content: true });
      frames.push({ text: sse(chunk({}, reply.finishReason)), content: false });
      if (includeUsage) {
        frames.push({ text: sse({ id: 'chatcmpl-123', object: 'chat.completion.chunk', created: now(), model: request.model, choices: [], usage: usageOf(reply) }), content: false });
      }
      frames.push({ text: sse('[DONE]'), content: false });
      return frames;
    },
    embeddings: (model, vectors, format) => embeddingList(model, vectors, format !== 'float'),
    failure(kind, options) {
      switch (kind) {
        case 'context_overflow':
          return openAiError(400, "This model's maximum context length is 128000 tokens. However, your messages resulted in 130211 tokens. Please reduce the length of the messages.", 'invalid_request_error', 'context_length_exceeded', 'messages');
        case 'throttle':
          return openAiError(429, 'Rate limit reached for gpt-4o-mini in organization org-abc on tokens per min (TPM): Limit 200000, Used 199000, Requested 2000.', 'tokens', 'rate_limit_exceeded', null, options.retryAfterSeconds == null ? undefined : { 'retry-after': String(options.retryAfterSeconds) });
        case 'quota':
          return openAiError(429, 'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.', 'insufficient_quota', 'insufficient_quota');
        case 'not_found':
          return openAiError(404, 'The model `gpt-nonexistent` does not exist or you do not have access to it.', 'invalid_request_error', 'model_not_found');
        case 'content_filter':
          return openAiError(400, 'Invalid prompt: your prompt was flagged as potentially violating our usage policy.', 'invalid_request_error', 'invalid_prompt');
        case 'no_tools':
          return openAiError(400, "tools is not supported in this model.", 'invalid_request_error', null, 'tools');
      }
    },
  };
}

// ----------------------------------------------------------------------------------------- Azure OpenAI
const safe = { filtered: false, severity: 'safe' };
const filterResults = { hate: safe, self_harm: safe, sexual: safe, violence: safe };
const promptFilterResults = [{ prompt_index: 0, content_filter_results: { ...filterResults, jailbreak: { filtered: false, detected: false } } }];

function azureProfile(name: 'azure' | 'azure-old-api'): ProviderProfile {
  const old = name === 'azure-old-api';
  const openai = openAiProfile('openai');
  return {
    name,
    reject(request) {
      // API versions before 2024-09-01-preview do not know stream_options (nor max_completion_tokens).
      if (old && request.stream_options != null) {
        return openAiError(400, 'Unrecognized request argument supplied: stream_options', 'invalid_request_error', null);
      }
      if (old && request.max_completion_tokens != null) {
        return openAiError(400, 'Unrecognized request argument supplied: max_completion_tokens', 'invalid_request_error', null);
      }
      return undefined;
    },
    completion(request, reply) {
      const base = openai.completion(request, reply) as { choices: Record<string, unknown>[] } & Record<string, unknown>;
      return {
        ...base,
        prompt_filter_results: promptFilterResults,
        choices: base.choices.map((choice) => ({ ...choice, content_filter_results: filterResults })),
      };
    },
    frames(request, reply) {
      const includeUsage = request.stream_options?.include_usage === true;
      const chunk = (delta: unknown, finish: string | null = null, filters: unknown = filterResults) => ({
        id: 'chatcmpl-BeRMQ69PcNQmy9a0f0C0VlLsdOy9H',
        object: 'chat.completion.chunk',
        created: now(),
        model: 'gpt-4o-2024-11-20',
        system_fingerprint: 'fp_ee1d74bde0',
        choices: [{ index: 0, delta, finish_reason: finish, logprobs: null, content_filter_results: filters }],
        ...(includeUsage ? { usage: null } : {}),
      });
      // The first chunk only carries the prompt's filter results: empty id/model and `choices: []`.
      const frames: Frame[] = [
        { text: sse({ id: '', object: '', created: 0, model: '', prompt_filter_results: promptFilterResults, choices: [] }), content: false },
        { text: sse(chunk({ role: 'assistant', content: '', refusal: null }, null, {})), content: false },
      ];
      for (const piece of reply.pieces) frames.push({ text: sse(chunk({ content: piece })), content: true });
      for (const delta of streamedToolCalls(reply.toolCalls, 'call_az')) frames.push({ text: sse(chunk(delta, null, {})), content: true });
      frames.push({ text: sse(chunk({}, reply.finishReason, {})), content: false });
      // Asynchronous filtering: an annotation chunk after the finish, with an offset and no delta content.
      frames.push({ text: sse({ id: 'chatcmpl-BeRMQ69PcNQmy9a0f0C0VlLsdOy9H', object: 'chat.completion.chunk', created: now(), model: 'gpt-4o-2024-11-20', choices: [{ index: 0, finish_reason: null, delta: {}, content_filter_results: filterResults, content_filter_offsets: { check_offset: 0, start_offset: 0, end_offset: 42 } }] }), content: false });
      if (includeUsage && !old) {
        frames.push({ text: sse({ id: 'chatcmpl-BeRMQ69PcNQmy9a0f0C0VlLsdOy9H', object: 'chat.completion.chunk', created: now(), model: 'gpt-4o-2024-11-20', choices: [], usage: reply.usage }), content: false });
      }
      frames.push({ text: sse('[DONE]'), content: false });
      return frames;
    },
    embeddings: (model, vectors, format) => embeddingList(model, vectors, format !== 'float'),
    failure(kind, options) {
      switch (kind) {
        case 'throttle':
          // Azure sends both headers; retry-after-ms is the precise one.
          return {
            status: 429,
            headers: options.retryAfterSeconds == null ? {} : { 'retry-after': String(options.retryAfterSeconds), 'retry-after-ms': String(options.retryAfterSeconds * 1000) },
            body: { error: { code: '429', message: `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${options.retryAfterSeconds ?? 1} second.` } },
          };
        case 'quota':
          return openAiError(429, 'You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', 'insufficient_quota');
        case 'not_found':
          return { status: 404, body: { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.' } } };
        case 'content_filter':
          return {
            status: 400,
            body: { error: { message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.", type: null, param: 'prompt', code: 'content_filter', status: 400, innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: { ...filterResults, violence: { filtered: true, severity: 'high' } } } } },
          };
        case 'context_overflow':
          return openAiError(400, "This model's maximum context length is 128000 tokens. However, your messages resulted in 130211 tokens. Please reduce the length of the messages.", 'invalid_request_error', 'context_length_exceeded', 'messages');
        case 'no_tools':
          return openai.failure('no_tools', options);
      }
    },
  };
}

// ----------------------------------------------------------------------------------------------- Ollama
const ollamaProfile: ProviderProfile = {
  name: 'ollama',
  reject(request, options) {
    // ollama/ollama#5793: models without a tools template refuse any request with `tools`.
    if (!options.toolsSupported && request.tools != null && request.tools.length > 0) {
      return { status: 400, body: { error: { message: `registry.ollama.ai/library/${request.model} does not support tools`, type: 'api_error', param: null, code: null } } };
    }
    return undefined;
  },
  completion(request, reply) {
    const calls = reply.toolCalls.map((call, index) => ({ id: `call_${index}ol`, index, type: 'function', function: call }));
    return {
      id: 'chatcmpl-626',
      object: 'chat.completion',
      created: now(),
      model: request.model,
      system_fingerprint: 'fp_ollama',
      choices: [{ index: 0, message: { role: 'assistant', content: reply.content, ...(calls.length > 0 ? { tool_calls: calls } : {}) }, finish_reason: calls.length > 0 ? 'tool_calls' : reply.finishReason }],
      usage: reply.usage,
    };
  },
  frames(request, reply) {
    const chunk = (delta: unknown, finish: string | null = null) => ({
      id: 'chatcmpl-626',
      object: 'chat.completion.chunk',
      created: now(),
      model: request.model,
      system_fingerprint: 'fp_ollama',
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    const frames: Frame[] = reply.pieces.map((piece) => ({ text: sse(chunk({ role: 'assistant', content: piece })), content: true }));
    // Tool calls come whole, all of them in one chunk, with empty content.
    if (reply.toolCalls.length > 0) {
      const calls = reply.toolCalls.map((call, index) => ({ id: `call_${index}ol`, index, type: 'function', function: call }));
      frames.push({ text: sse(chunk({ role: 'assistant', content: '', tool_calls: calls })), content: true });
    }
    // No usage chunk, whatever stream_options asks for.
    frames.push({ text: sse(chunk({ role: 'assistant', content: '' }, reply.toolCalls.length > 0 ? 'tool_calls' : reply.finishReason)), content: false });
    frames.push({ text: sse('[DONE]'), content: false });
    return frames;
  },
  // The OpenAI-compatible endpoint returns float arrays whatever encoding_format says.
  embeddings: (model, vectors) => embeddingList(model, vectors, false),
  failure(kind, options) {
    switch (kind) {
      case 'context_overflow':
        // Ollama truncates the prompt instead of failing; a request past its limits is a plain 400.
        return { status: 400, body: { error: { message: 'input length exceeds the context length', type: 'api_error', param: null, code: null } } };
      case 'throttle':
        return { status: 503, body: { error: { message: 'server busy, please try again.  maximum pending requests exceeded', type: 'api_error', param: null, code: null } } };
      case 'not_found':
        return { status: 404, body: { error: { message: 'model "llama3.9" not found, try pulling it first', type: 'api_error', param: null, code: null } } };
      case 'no_tools':
        return { status: 400, body: { error: { message: 'registry.ollama.ai/library/gemma:2b does not support tools', type: 'api_error', param: null, code: null } } };
      case 'quota':
      case 'content_filter':
        return { status: 500, body: { error: { message: 'unexpected server status: 1', type: 'api_error', param: null, code: null } } };
    }
    void options;
  },
};

// -------------------------------------------------------------------------------------------- llama.cpp
const timings = { prompt_n: 12, prompt_ms: 21.3, prompt_per_token_ms: 1.77, prompt_per_second: 563.4, predicted_n: 9, predicted_ms: 140.2, predicted_per_token_ms: 15.6, predicted_per_second: 64.2 };

const llamacppProfile: ProviderProfile = {
  name: 'llamacpp',
  reject: () => undefined,
  completion(request, reply) {
    const calls = reply.toolCalls.map((call, index) => ({ id: `call_${index}lc`, type: 'function', function: call }));
    return {
      choices: [{ finish_reason: calls.length > 0 ? 'tool_calls' : reply.finishReason, index: 0, message: { role: 'assistant', content: calls.length > 0 ? null : reply.content, ...(calls.length > 0 ? { tool_calls: calls } : {}) } }],
      created: now(),
      model: 'gpt-3.5-turbo',
      system_fingerprint: 'b4743-2f7d7a2a',
      object: 'chat.completion',
      usage: reply.usage,
      id: 'chatcmpl-KZ3cGhTtXvOoyV3N7aJr1gYk3k2Kzq1f',
      timings,
    };
  },
  frames(request, reply) {
    // Older builds: no `id`, CRLF line ends, `: ping` keep-alive comments, `timings` on the last chunk, and
    // the stream simply ends (no `[DONE]`).
    const crlf = '\r\n';
    const chunk = (delta: unknown, finish: string | null = null, extra: Record<string, unknown> = {}) => ({
      choices: [{ finish_reason: finish, index: 0, delta }],
      created: now(),
      model: 'gpt-3.5-turbo',
      system_fingerprint: 'b4743-2f7d7a2a',
      object: 'chat.completion.chunk',
      ...extra,
    });
    const frames: Frame[] = [{ text: `: ping${crlf}${crlf}`, content: false }, { text: sse(chunk({ role: 'assistant', content: null }), crlf), content: false }];
    for (const piece of reply.pieces) frames.push({ text: sse(chunk({ content: piece }), crlf), content: true });
    for (const delta of streamedToolCalls(reply.toolCalls, 'call_lc')) frames.push({ text: sse(chunk(delta), crlf), content: true });
    frames.push({ text: `: ping${crlf}${crlf}`, content: false });
    const finish = reply.toolCalls.length > 0 ? 'tool_calls' : reply.finishReason;
    frames.push({ text: sse(chunk({}, finish, { timings, ...(request.stream_options?.include_usage ? { usage: reply.usage } : {}) }), crlf), content: false });
    return frames;
  },
  embeddings: (model, vectors) => embeddingList(model, vectors, false),
  failure(kind, options) {
    const overflow = { code: 400, message: 'the request exceeds the available context size, try increasing it', type: 'exceed_context_size_error', n_prompt_tokens: 5123, n_ctx: 4096 };
    switch (kind) {
      case 'context_overflow':
        // Streaming in builds before the error moved to the status line: an `error:` field at HTTP 200.
        if (options.stream) return { frames: [`error: ${JSON.stringify({ ...overflow, code: 500 })}\n\n`] };
        return { status: 400, body: { error: overflow } };
      case 'throttle':
        return { status: 503, body: { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } } };
      case 'not_found':
        return { status: 404, body: { error: { code: 404, message: 'File Not Found', type: 'not_found_error' } } };
      case 'no_tools':
        return { status: 500, body: { error: { code: 500, message: 'tools param requires --jinja flag', type: 'server_error' } } };
      case 'quota':
      case 'content_filter':
        return { status: 500, body: { error: { code: 500, message: 'Internal Server Error', type: 'server_error' } } };
    }
  },
};

// ------------------------------------------------------------------------------------------------- vLLM
const vllmProfile: ProviderProfile = {
  name: 'vllm',
  reject: () => undefined,
  completion(request, reply) {
    const calls = reply.toolCalls.map((call, index) => ({ id: `chatcmpl-tool-${index}f3a`, type: 'function', function: call }));
    return {
      id: 'chatcmpl-9f1c2d',
      object: 'chat.completion',
      created: now(),
      model: request.model,
      choices: [{
        index: 0,
        // Tool calls come with content null; reasoning parsers put the thinking in reasoning_content.
        message: { role: 'assistant', content: calls.length > 0 ? null : reply.content, reasoning_content: reply.reasoning ?? null, tool_calls: calls },
        logprobs: null,
        finish_reason: calls.length > 0 ? 'tool_calls' : reply.finishReason,
        stop_reason: null,
      }],
      usage: { ...reply.usage, prompt_tokens_details: null },
      prompt_logprobs: null,
    };
  },
  frames(request, reply) {
    const includeUsage = request.stream_options?.include_usage === true;
    const chunk = (delta: unknown, finish: string | null = null) => ({
      id: 'chatcmpl-9f1c2d',
      object: 'chat.completion.chunk',
      created: now(),
      model: request.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
    const frames: Frame[] = [{ text: sse(chunk({ role: 'assistant', content: '' })), content: false }];
    for (const piece of reply.reasoning?.match(/\S+\s*/g) ?? []) frames.push({ text: sse(chunk({ reasoning_content: piece })), content: false });
    for (const piece of reply.pieces) frames.push({ text: sse(chunk({ content: piece })), content: true });
    for (const delta of streamedToolCalls(reply.toolCalls, 'chatcmpl-tool-')) frames.push({ text: sse(chunk({ ...delta, content: null })), content: true });
    frames.push({ text: sse(chunk({ content: '' }, reply.toolCalls.length > 0 ? 'tool_calls' : reply.finishReason)), content: false });
    if (includeUsage) frames.push({ text: sse({ id: 'chatcmpl-9f1c2d', object: 'chat.completion.chunk', created: now(), model: request.model, choices: [], usage: reply.usage }), content: false });
    frames.push({ text: sse('[DONE]'), content: false });
    return frames;
  },
  embeddings: (model, vectors, format) => embeddingList(model, vectors, format === 'base64', { id: 'embd-4f2a', created: now() }),
  failure(kind) {
    switch (kind) {
      case 'context_overflow':
        // Releases before 0.9: the error fields at the top level, `"object": "error"`.
        return { status: 400, body: { object: 'error', message: "This model's maximum context length is 4096 tokens. However, you requested 5123 tokens (4099 in the messages, 1024 in the completion). Please reduce the length of the messages or completion.", type: 'BadRequestError', param: null, code: 400 } };
      case 'throttle':
        return { status: 503, body: { error: { message: 'The server is overloaded', type: 'ServiceUnavailableError', param: null, code: 503 } } };
      case 'not_found':
        return { status: 404, body: { error: { message: 'The model `nonexistent` does not exist.', type: 'NotFoundError', param: null, code: 404 } } };
      case 'no_tools':
        return { status: 400, body: { error: { message: '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set', type: 'BadRequestError', param: null, code: 400 } } };
      case 'quota':
      case 'content_filter':
        return { status: 500, body: { error: { message: 'Internal Server Error', type: 'InternalServerError', param: null, code: 500 } } };
    }
  },
};

/** The newer vLLM error shape (0.9 and later): the same reason inside `{"error": {...}}`. */
export const vllmNewContextOverflow: WireError = {
  status: 400,
  body: { error: { message: "This model's maximum context length is 4096 tokens. However, you requested 5123 tokens in the messages, Please reduce the length of the messages.", type: 'BadRequestError', param: null, code: 400 } },
};

export const profiles: Record<ProfileName, ProviderProfile> = {
  azure: azureProfile('azure'),
  'azure-old-api': azureProfile('azure-old-api'),
  openai: openAiProfile('openai'),
  'openai-reasoning': openAiProfile('openai-reasoning'),
  ollama: ollamaProfile,
  llamacpp: llamacppProfile,
  vllm: vllmProfile,
};
