// A small OpenAI-compatible server on loopback: the only fake the project allows, for tests and benchmarks.
// Serves /chat/completions (JSON and SSE, tool calls) and /embeddings, records every request, and can
// inject latency, throttling, errors, hangs and cut streams. With a `profile` (test/support/providers) it
// speaks one real provider's dialect instead: its completion, stream, embeddings and error shapes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { ProviderFailure, ProviderProfile, WireReply, WireRequest } from './providers/profiles.js';

export interface ChatBody {
  model: string;
  messages: { role: string; content: unknown; tool_calls?: unknown }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  tools?: { type: string; function: { name: string } }[];
  tool_choice?: unknown;
  seed?: number;
  reasoning_effort?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  receivedAt: number;
  /** performance.now() when each streamed content chunk was handed to the socket (benchmarks). */
  contentSentAt: number[];
}

export interface Reply {
  content?: string;
  /** Exact streamed deltas (default: the content split after each word). */
  chunks?: string[];
  /** Ids default to unique `call_<random>` ones, as OpenAI's are. */
  toolCalls?: { id?: string; name: string; arguments: string }[];
  /**
   * How streamed tool calls arrive (generic shapes; profiles use their provider's own). `pieces` (OpenAI, Azure
   * OpenAI, vLLM): the first delta of a call has index, id, type and name with empty arguments, later deltas
   * only index and a piece of the arguments (openai-node's ChatCompletionChunk.Choice.Delta.ToolCall). `whole`
   * (Ollama's /v1 compatibility layer): each call complete in one delta.
   */
  toolCallStyle?: 'pieces' | 'whole';
  finishReason?: string;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  /** A refusal instead of content (profiles only): `content: null` plus `refusal`, or `delta.refusal` pieces. */
  refusal?: string;
  /** Reasoning text sent beside the answer (vLLM's reasoning_content; profiles only). */
  reasoning?: string;
}

/** What the next matching request gets instead of the default reply. */
export type Behavior =
  | { kind: 'reply'; reply: Reply }
  | { kind: 'error'; status: number; headers?: Record<string, string>; body?: unknown }
  | { kind: 'hang' }
  /** Streams `afterChunks` content chunks, then destroys the connection. */
  | { kind: 'cut'; afterChunks: number }
  /** Sends the status line and headers (and `afterChunks` content chunks when streaming), then nothing. */
  | { kind: 'stall'; afterChunks?: number }
  /** Answers exactly this (an HTML page at 200, `{}`); `cutAfterBytes` destroys the connection part-way. */
  | { kind: 'raw'; status?: number; headers?: Record<string, string>; body: string; cutAfterBytes?: number }
  /** The profile's own shape of a failure (context overflow, throttling, quota, ...). */
  | { kind: 'failure'; failure: ProviderFailure; retryAfterSeconds?: number }
  /** These embedding vectors instead of the computed ones. */
  | { kind: 'vectors'; vectors: number[][] };

export type Responder = (body: ChatBody) => Reply;

export interface FakeModelOptions {
  /** Delay before the first byte of every answer. */
  latencyMs?: number;
  /** Delay between streamed chunks. */
  chunkDelayMs?: number;
  /** Speak this provider's dialect (default: the original generic shapes). */
  profile?: ProviderProfile;
}

/** One frame to write, and whether it carries answer content (cut/stall/delay count those). */
interface OutFrame {
  text: string;
  content: boolean;
}

const textOf = (content: unknown): string => {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part === 'object' && part != null && 'text' in part ? String(part.text) : '')).join(' ');
  }
  return '';
};

/** Rough token count, enough for usage figures in tests. */
export const roughTokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

/** The default answer: echoes the last user message, so tests can see what the model was sent. */
export const echoResponder: Responder = (body) => {
  const lastUser = [...body.messages].reverse().find((message) => message.role === 'user');
  return { content: `Echo: ${textOf(lastUser?.content)}` };
};

/** Deterministic embedding: hashed bag of words, normalised, so similar texts get similar vectors. */
export function fakeEmbedding(text: string, dimensions = 64): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  // A real embedding model never answers with an all-zero vector (the app rightly refuses one as broken), so
  // text without any latin word (punctuation, other scripts, an empty chunk) is hashed whole instead.
  const words = text.toLowerCase().match(/[a-z0-9]+/g) ?? [text];
  for (const word of words) {
    let hash = 2166136261;
    for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), 16777619);
    vector[Math.abs(hash) % dimensions]! += 1;
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}

export class FakeModel {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: { path: string; behavior: Behavior }[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private readonly streaming = new Set<ServerResponse>();
  /** Requests whose client (the app) closed the connection before the answer was complete. */
  abandoned = 0;
  responder: Responder = echoResponder;
  latencyMs: number;
  chunkDelayMs: number;
  profile: ProviderProfile | undefined;
  /** Ollama-style models without a tools template answer 400 to any request with tools. */
  toolsSupported = true;
  /** What the managed-identity endpoint (`/msi/token`) answers: App Service's 400 when no identity is assigned. */
  identityAnswer: { status: number; body: unknown } = {
    status: 400,
    body: { statusCode: 400, message: 'Unable to load the proper Managed Identity.', correlationId: '7f9c1e2a-0000-4000-8000-000000000000' },
  };
  private server: Server | undefined;
  url = '';

  constructor(options: FakeModelOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
    this.chunkDelayMs = options.chunkDelayMs ?? 0;
    this.profile = options.profile;
  }

  /** `http://127.0.0.1:<port>`: the AZURE_OPENAI_ENDPOINT form (the SDK adds /openai/deployments/...). */
  get origin(): string {
    return this.url.replace(/\/v1$/, '');
  }

  async start(): Promise<this> {
    this.server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, (req, res) => {
      void this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(error) } }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Queues a behaviour for the next request to `path` (`chat` or `embeddings`). */
  enqueue(behavior: Behavior, times = 1, path: 'chat' | 'embeddings' = 'chat'): void {
    for (let i = 0; i < times; i++) this.queue.push({ path, behavior });
  }

  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
    this.responder = echoResponder;
    this.toolsSupported = true;
  }

  /** Embedding request bodies received so far. */
  embeddingBodies(): { model: string; input: string | string[]; encoding_format?: string }[] {
    return this.requests
      .filter((request) => request.path.endsWith('/embeddings'))
      .map((request) => request.body as { model: string; input: string | string[]; encoding_format?: string });
  }

  /** Chat-completion request bodies received so far. */
  chatBodies(): ChatBody[] {
    return this.requests.filter((request) => request.path.endsWith('/chat/completions')).map((request) => request.body as ChatBody);
  }

  private take(path: 'chat' | 'embeddings'): Behavior | undefined {
    const index = this.queue.findIndex((item) => item.path === path);
    return index < 0 ? undefined : this.queue.splice(index, 1)[0]?.behavior;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.once('close', () => {
      if (!res.writableFinished) this.abandoned++;
    });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body: unknown = text === '' ? undefined : JSON.parse(text);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const record: RecordedRequest = { method: req.method ?? '', path, headers: req.headers, body, receivedAt: performance.now(), contentSentAt: [] };
    this.requests.push(record);
    if (path.endsWith('/msi/token')) {
      res.writeHead(this.identityAnswer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(this.identityAnswer.body));
      return;
    }
    const kind = path.endsWith('/chat/completions') ? 'chat' : path.endsWith('/embeddings') ? 'embeddings' : undefined;
    if (kind == null) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${path}`, type: 'invalid_request_error' } }));
      return;
    }
    const rejection = kind === 'chat' ? this.profile?.reject(body as WireRequest, { toolsSupported: this.toolsSupported }) : undefined;
    if (rejection != null) {
      res.writeHead(rejection.status, { 'content-type': 'application/json', ...rejection.headers });
      res.end(JSON.stringify(rejection.body));
      return;
    }
    const behavior = this.take(kind);
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    if (behavior?.kind === 'raw') {
      res.writeHead(behavior.status ?? 200, { 'content-type': 'application/json', ...behavior.headers });
      if (behavior.cutAfterBytes == null) {
        res.end(behavior.body);
        return;
      }
      res.write(Buffer.from(behavior.body).subarray(0, behavior.cutAfterBytes));
      await sleep(20);
      res.destroy();
      return;
    }
    if (behavior?.kind === 'failure') {
      const profile = this.profile;
      if (profile == null) throw new Error('a failure behaviour needs a profile');
      const failure = profile.failure(behavior.failure, { retryAfterSeconds: behavior.retryAfterSeconds, stream: (body as ChatBody).stream === true });
      if ('frames' in failure) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.end(failure.frames.join(''));
      } else {
        res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
        res.end(JSON.stringify(failure.body));
      }
      return;
    }
    if (behavior?.kind === 'stall' && !(kind === 'chat' && (body as ChatBody).stream === true)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    if (behavior?.kind === 'hang') {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    if (behavior?.kind === 'error') {
      res.writeHead(behavior.status, { 'content-type': 'application/json', ...behavior.headers });
      res.end(JSON.stringify(behavior.body ?? { error: { message: `injected ${behavior.status}`, type: 'server_error', code: null } }));
      return;
    }
    if (kind === 'embeddings') {
      const input = (body as { input: string | string[] }).input;
      const inputs = Array.isArray(input) ? input : [input];
      const tokens = inputs.reduce((sum, item) => sum + roughTokens(item), 0);
      res.writeHead(200, { 'content-type': 'application/json' });
      if (this.profile != null) {
        const vectors = behavior?.kind === 'vectors' ? behavior.vectors : inputs.map((item) => fakeEmbedding(item));
        const { model, encoding_format: format } = body as { model: string; encoding_format?: string };
        res.end(JSON.stringify(this.profile.embeddings(model, vectors, format)));
        return;
      }
      res.end(JSON.stringify({
        object: 'list',
        model: (body as { model: string }).model,
        data: inputs.map((item, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(item) })),
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      }));
      return;
    }
    const chat = body as ChatBody;
    const reply = behavior?.kind === 'reply' ? behavior.reply : this.responder(chat);
    const cutAfter = behavior?.kind === 'cut' ? behavior.afterChunks : undefined;
    const stallAfter = behavior?.kind === 'stall' ? (behavior.afterChunks ?? 0) : undefined;
    if (this.profile != null) {
      const wire = this.wireReply(chat, reply);
      if (chat.stream) await this.writeFrames(res, this.profile.frames(chat, wire), { cutAfter, stallAfter, sentAt: record.contentSentAt });
      else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(this.profile.completion(chat, wire)));
      }
      return;
    }
    if (chat.stream) await this.writeFrames(res, this.genericFrames(chat, reply), { cutAfter, stallAfter, sentAt: record.contentSentAt });
    else this.json(res, chat, reply);
  }

  private wireReply(chat: ChatBody, reply: Reply): WireReply {
    const content = reply.content ?? reply.chunks?.join('') ?? '';
    return {
      content,
      pieces: reply.chunks ?? content.match(/\S+\s*|\s+/g) ?? [],
      toolCalls: (reply.toolCalls ?? []).map((call) => ({ name: call.name, arguments: call.arguments })),
      refusal: reply.refusal,
      reasoning: reply.reasoning,
      finishReason: reply.finishReason ?? (reply.toolCalls ? 'tool_calls' : 'stop'),
      usage: this.usage(chat, reply),
    };
  }

  private usage(chat: ChatBody, reply: Reply) {
    if (reply.usage) return reply.usage;
    const prompt = chat.messages.reduce((sum, message) => sum + roughTokens(textOf(message.content)) + 3, 0);
    const completion = roughTokens(reply.content ?? reply.chunks?.join('') ?? '');
    return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  }

  private json(res: ServerResponse, chat: ChatBody, reply: Reply): void {
    const toolCalls = reply.toolCalls?.map((call) => ({ id: call.id ?? callId(), type: 'function', function: { name: call.name, arguments: call.arguments } }));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: chat.model,
      choices: [{
        index: 0,
        message: { role: 'assistant', content: toolCalls ? null : (reply.content ?? ''), ...(toolCalls ? { tool_calls: toolCalls } : {}) },
        finish_reason: reply.finishReason ?? (toolCalls ? 'tool_calls' : 'stop'),
      }],
      usage: this.usage(chat, reply),
    }));
  }

  /** The original generic stream shape (no profile). */
  private genericFrames(chat: ChatBody, reply: Reply): OutFrame[] {
    const frame = (delta: unknown, finish: string | null = null, usage?: unknown) =>
      `data: ${JSON.stringify({
        id: 'chatcmpl-fake',
        object: 'chat.completion.chunk',
        created: Math.floor(Date.now() / 1000),
        model: chat.model,
        choices: delta == null ? [] : [{ index: 0, delta, finish_reason: finish }],
        ...(usage ? { usage } : {}),
      })}\n\n`;
    const frames: OutFrame[] = [{ text: frame({ role: 'assistant', content: '' }), content: false }];
    const pieces = reply.chunks ?? (reply.content ?? '').match(/\S+\s*|\s+/g) ?? [];
    for (const piece of pieces) frames.push({ text: frame({ content: piece }), content: true });
    for (const [index, call] of (reply.toolCalls ?? []).entries()) {
      const id = call.id ?? callId();
      if (reply.toolCallStyle === 'whole') {
        frames.push({ text: frame({ tool_calls: [{ index, id, type: 'function', function: { name: call.name, arguments: call.arguments } }] }), content: false });
        continue;
      }
      frames.push({ text: frame({ tool_calls: [{ index, id, type: 'function', function: { name: call.name, arguments: '' } }] }), content: false });
      for (const piece of call.arguments.match(/[\s\S]{1,7}/g) ?? []) frames.push({ text: frame({ tool_calls: [{ index, function: { arguments: piece } }] }), content: false });
    }
    frames.push({ text: frame({}, reply.finishReason ?? (reply.toolCalls ? 'tool_calls' : 'stop')), content: false });
    if (chat.stream_options?.include_usage) frames.push({ text: frame(null, null, this.usage(chat, reply)), content: false });
    frames.push({ text: 'data: [DONE]\n\n', content: false });
    return frames;
  }

  /**
   * Writes SSE frames, each flushed before the next, so a cut lands after what was already sent, as on a real
   * network. `cutAfter`/`stallAfter` count content frames; after the last content frame nothing more is sent.
   */
  /** Streamed answers started and not yet ended or closed by the client (the app). */
  get openStreams(): number {
    return this.streaming.size;
  }

  private async writeFrames(res: ServerResponse, frames: OutFrame[], options: { cutAfter?: number; stallAfter?: number; sentAt: number[] }): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    this.streaming.add(res);
    res.once('close', () => this.streaming.delete(res));
    const write = (text: string) => new Promise<void>((resolve) => res.write(text, () => resolve()));
    const limit = options.cutAfter ?? options.stallAfter;
    const lastContent = Math.max(0, frames.reduce((last, frame, index) => (frame.content ? index : last), -1));
    let sent = 0;
    for (const [index, frame] of frames.entries()) {
      if (limit != null && ((frame.content && sent >= limit) || index > lastContent)) {
        if (options.cutAfter != null) {
          await sleep(20);
          res.destroy();
        } else {
          this.hanging.add(res);
          res.on('close', () => this.hanging.delete(res));
        }
        return;
      }
      if (frame.content && this.chunkDelayMs > 0) await sleep(this.chunkDelayMs);
      if (res.destroyed) return;
      if (frame.content) options.sentAt.push(performance.now());
      await write(frame.text);
      if (frame.content) sent++;
    }
    res.end();
  }
}

/** A unique tool-call id, shaped like OpenAI's. */
function callId(): string {
  return `call_${randomBytes(12).toString('base64url')}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts a fake model on an ephemeral loopback port. */
export function startFakeModel(options?: FakeModelOptions): Promise<FakeModel> {
  return new FakeModel(options).start();
}
