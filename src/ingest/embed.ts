import { modelError } from '../errors/index.js';
import { countTokens } from '../model/tokens.js';

// Embeddings in batches: many inputs per request (fewer round trips and 429s), each request kept under a
// token budget. Retries of 429 (honouring Retry-After) happen inside the openai SDK, not here.

export interface BatchLimits {
  /** Inputs per request (at least 16). */
  maxInputs: number;
  /** Tokens per request, summed over its inputs. */
  maxTokens: number;
}

export const defaultBatchLimits: BatchLimits = { maxInputs: 64, maxTokens: 40_000 };

/** Groups texts into consecutive batches within the limits (a single oversized text gets its own batch). */
export function embeddingBatches(texts: string[], limits: BatchLimits = defaultBatchLimits, count: (text: string, index: number) => number = countTokens): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let tokens = 0;
  for (const [index, text] of texts.entries()) {
    const size = count(text, index);
    if (current.length > 0 && (current.length >= limits.maxInputs || tokens + size > limits.maxTokens)) {
      batches.push(current);
      current = [];
      tokens = 0;
    }
    current.push(text);
    tokens += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Embeds every text, in order, one batch at a time. `tokens`: each text's count when the caller has it (the
 * parse worker counted them): counting a 4 MB document again here blocked the request thread for ~0.6 s.
 */
export async function embedAll(
  texts: string[],
  embed: (batch: string[]) => Promise<number[][]>,
  limits: BatchLimits = defaultBatchLimits,
  tokens?: readonly number[],
): Promise<number[][]> {
  const vectors: number[][] = [];
  const count = tokens == null ? countTokens : (text: string, index: number) => tokens[index] ?? countTokens(text);
  for (const batch of embeddingBatches(texts, limits, count)) {
    const result = await embed(batch);
    if (result.length !== batch.length) {
      throw modelError(`The embedding model returned ${result.length} vectors for ${batch.length} inputs.`);
    }
    vectors.push(...result);
  }
  return vectors;
}
