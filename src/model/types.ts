import type { ChatCompletionMessageParam, ChatCompletionTool, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';

export type ChatMessage = ChatCompletionMessageParam;
export type ToolDefinition = ChatCompletionTool;

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface CompletionRequest {
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  seed?: number;
  tools?: ToolDefinition[];
  toolChoice?: ChatCompletionToolChoiceOption;
  /** Aborts the upstream call when the client goes away. */
  signal?: AbortSignal;
}

export interface Completion {
  content: string;
  finishReason: string | null;
  usage?: Usage;
  toolCalls: ToolCall[];
}

/** What a streamed model call yields: text as it arrives, then one `done`. */
export type CompletionEvent =
  | { type: 'delta'; content: string }
  | { type: 'done'; finishReason: string | null; usage?: Usage; toolCalls: ToolCall[] };

/** The model operations the app needs; one implementation over the openai SDK, created once per process. */
export interface ModelClient {
  readonly chatModel: string;
  readonly embeddingModel?: string;
  complete(request: CompletionRequest): Promise<Completion>;
  stream(request: CompletionRequest): AsyncIterable<CompletionEvent>;
  embed(inputs: string[], signal?: AbortSignal): Promise<number[][]>;
}
