// What this process has learned about the configured models from their answers, so a request pays for a
// rejected call once per process, not once per request: reasoning models (they reject `max_tokens` and
// sampling parameters), servers that reject `stream_options` (older Azure API versions) and models without
// tool support (Ollama). The RAG rewrite and the tool loop ask `toolsSupported` before sending tools.
// Light on purpose (no SDK import): domain code imports it at load time.
import { AppError } from '../errors/index.js';

/** A model without tool support (Ollama's 400 "... does not support tools"); callers fall back without tools. */
export class ToolsUnsupportedError extends AppError {
  constructor(model: string, cause?: unknown) {
    super(502, 'model_error', `The model ${model} does not support tools (function calling).`, { cause });
  }
}

const reasoning = new Set<string>();
const noStreamOptions = new Set<string>();
const noTools = new Set<string>();

/** gpt-5*, o1/o3/o4* (also behind a provider prefix such as `openai/`): OpenAI's reasoning model families. */
const reasoningName = /(^|\/)(o\d+(?:$|[-_.:])|gpt-5)/i;

/** Whether `model` takes reasoning parameters, per MODEL_REASONING (`auto`: its name, or what we learned). */
export function isReasoningModel(model: string, setting: 'auto' | 'true' | 'false'): boolean {
  if (setting !== 'auto') return setting === 'true';
  return reasoningName.test(model) || reasoning.has(model);
}

export function recordReasoningModel(model: string): void {
  reasoning.add(model);
}

/** Whether streamed calls to this endpoint may carry `stream_options` (key: endpoint and API version). */
export function streamOptionsAccepted(endpoint: string): boolean {
  return !noStreamOptions.has(endpoint);
}

export function recordStreamOptionsRejected(endpoint: string): void {
  noStreamOptions.add(endpoint);
}

/** False once `model` answered that it does not support tools; callers then skip tools altogether. */
export function toolsSupported(model: string): boolean {
  return !noTools.has(model);
}

export function recordToolsUnsupported(model: string): void {
  noTools.add(model);
}
