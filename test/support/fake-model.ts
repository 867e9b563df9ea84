// A small OpenAI-compatible server on loopback: the only fake the project allows, for tests and benchmarks.
// Serves /chat/completions (JSON and SSE, tool calls) and /embeddings, records every request, and can
// inject latency, throttling, errors, hangs and cut streams.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

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
   * How streamed tool calls arrive. `pieces` (OpenAI, Azure OpenAI, vLLM): the first delta of a call has
   * index, id, type and name with empty arguments, later deltas only index and a piece of the arguments
   * (openai-node's ChatCompletionChunk.Choice.Delta.ToolCall). `whole` (Ollama's /v1 compatibility layer): each
   * call complete in one delta.
   */
  toolCallStyle?: 'pieces' | 'whole';
  finishReason?: string;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** What the next matching request gets instead of the default reply. */
export type Behavior =
  | { kind: 'reply'; reply: Reply }
  | { kind: 'error'; status: number; headers?: Record<string, string>; body?: unknown }
  | { kind: 'hang' }
  /** Streams `afterChunks` content chunks, then destroys the connection. */
  | { kind: 'cut'; afterChunks: number };

export type Responder = (body: ChatBody) => Reply;

export interface FakeModelOptions {
  /** Delay before the first byte of every answer. */
  latencyMs?: number;
  /** Delay between streamed chunks. */
  chunkDelayMs?: number;
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
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
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
  responder: Responder = echoResponder;
  latencyMs: number;
  chunkDelayMs: number;
  private server: Server | undefined;
  url = '';

  constructor(options: FakeModelOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
    this.chunkDelayMs = options.chunkDelayMs ?? 0;
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
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body: unknown = text === '' ? undefined : JSON.parse(text);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const record: RecordedRequest = { method: req.method ?? '', path, headers: req.headers, body, receivedAt: performance.now(), contentSentAt: [] };
    this.requests.push(record);
    const kind = path.endsWith('/chat/completions') ? 'chat' : path.endsWith('/embeddings') ? 'embeddings' : undefined;
    if (kind == null) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${path}`, type: 'invalid_request_error' } }));
      return;
    }
    const behavior = this.take(kind);
    if (this.latencyMs > 0) await sleep(this.latencyMs);
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
    if (chat.stream) await this.stream(res, chat, reply, behavior?.kind === 'cut' ? behavior.afterChunks : undefined, record.contentSentAt);
    else this.json(res, chat, reply);
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

  private async stream(res: ServerResponse, chat: ChatBody, reply: Reply, cutAfter: number | undefined, sentAt: number[]): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const frame = (delta: unknown, finish: string | null = null, usage?: unknown) =>
      `data: ${JSON.stringify({
        id: 'chatcmpl-fake',
        object: 'chat.completion.chunk',
        created: Math.floor(Date.now() / 1000),
        model: chat.model,
        choices: delta == null ? [] : [{ index: 0, delta, finish_reason: finish }],
        ...(usage ? { usage } : {}),
      })}\n\n`;
    // Each frame is flushed before the next, so a cut lands after what was already sent, as on a real network.
    const write = (text: string) => new Promise<void>((resolve) => res.write(text, () => resolve()));
    const cut = async () => {
      await sleep(20);
      res.destroy();
    };
    await write(frame({ role: 'assistant', content: '' }));
    const pieces = reply.chunks ?? (reply.content ?? '').match(/\S+\s*|\s+/g) ?? [];
    let sent = 0;
    for (const piece of pieces) {
      if (cutAfter != null && sent >= cutAfter) return cut();
      if (this.chunkDelayMs > 0) await sleep(this.chunkDelayMs);
      if (res.destroyed) return;
      sentAt.push(performance.now());
      await write(frame({ content: piece }));
      sent++;
    }
    if (cutAfter != null) return cut();
    if (reply.toolCalls) {
      for (const [index, call] of reply.toolCalls.entries()) {
        const id = call.id ?? callId();
        if (reply.toolCallStyle === 'whole') {
          await write(frame({ tool_calls: [{ index, id, type: 'function', function: { name: call.name, arguments: call.arguments } }] }));
          continue;
        }
        await write(frame({ tool_calls: [{ index, id, type: 'function', function: { name: call.name, arguments: '' } }] }));
        for (const piece of call.arguments.match(/[\s\S]{1,7}/g) ?? []) await write(frame({ tool_calls: [{ index, function: { arguments: piece } }] }));
      }
    }
    res.write(frame({}, reply.finishReason ?? (reply.toolCalls ? 'tool_calls' : 'stop')));
    if (chat.stream_options?.include_usage) res.write(frame(null, null, this.usage(chat, reply)));
    res.end('data: [DONE]\n\n');
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
