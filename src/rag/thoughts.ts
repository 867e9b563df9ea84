import type { ChatMessage, Usage } from '../model/types.js';

// The "thought process" a chat-with-your-data answer shows: steps with snake_case props, token usage in
// our shape (`usage`) and in the one azure-search-openai-demo's frontend reads (`token_usage`).

export interface Thought {
  title: string;
  description: unknown;
  props?: Record<string, unknown>;
}

export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; durationMs: number }> {
  const started = performance.now();
  const value = await work();
  return { value, durationMs: Math.round(performance.now() - started) };
}

/** What the thought process shows of a prompt: images abbreviated, never their bytes. */
export function describeMessages(messages: ChatMessage[]): unknown {
  return messages.map((message) => ({
    role: message.role,
    content: Array.isArray(message.content)
      ? message.content.map((part) => (part.type === 'image_url' ? { type: 'image_url', image_url: { url: '(image)' } } : part))
      : message.content,
  }));
}

function reasoningTokens(usage: Usage): number {
  const value: unknown = 'reasoningTokens' in usage ? usage.reasoningTokens : undefined;
  return typeof value === 'number' ? value : 0;
}

/** `usage` (ours) and `token_usage` (the demo frontend's TokenUsageGraph keys) for a model call. */
export function usageProps(usage: Usage | undefined): Record<string, unknown> {
  if (usage == null) return { usage: null, token_usage: null };
  return {
    usage: { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.totalTokens },
    token_usage: {
      prompt_tokens: usage.promptTokens,
      completion_tokens: usage.completionTokens,
      reasoning_tokens: reasoningTokens(usage),
      total_tokens: usage.totalTokens,
    },
  };
}

/** A model-call step: the prompt, its parameters, and (once known) usage and duration. */
export function promptThought(
  title: string,
  messages: ChatMessage[],
  props: { model: string; temperature: number; max_tokens: number } & Record<string, unknown>,
  usage?: Usage | null,
  durationMs?: number,
): Thought {
  return {
    title,
    description: describeMessages(messages),
    props: {
      ...props,
      ...(usage === undefined ? {} : usageProps(usage ?? undefined)),
      ...(durationMs === undefined ? {} : { duration_ms: durationMs }),
    },
  };
}
