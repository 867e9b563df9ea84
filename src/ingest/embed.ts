import { modelError } from '../errors/index.js';
import { countTokens } from '../model/tokens.js';
import type { PreparedDocument } from './prepare.js';

// Embeddings in batches: many inputs per request (fewer round trips and 429s), each request kept under a
// token budget. Retries of 429 (honouring Retry-After) happen inside the openai SDK, not here.

export interface BatchLimits {
  /** Inputs per request (at least 16). */
  maxInputs: number;
  /** Tokens per request, summed over its inputs. */
  maxTokens: number;
}

export const defaultBatchLimits: BatchLimits = { maxInputs: 64, maxTokens: 40_000 };

/**
 * Groups texts into consecutive batches within the limits (a single oversized text gets its own batch).
 * `sizes`: each text's token count.
 */
export function embeddingBatches(texts: string[], limits: BatchLimits = defaultBatchLimits, sizes: readonly number[] = texts.map((text) => countTokens(text))): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let tokens = 0;
  for (const [index, text] of texts.entries()) {
    const size = sizes[index]!;
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
 * Embeds a prepared document's chunks in place, one batch at a time, batched by the token counts its reader
 * made in the parse worker: counting a 4 MB document again here blocked the request thread for ~0.6 s.
 */
export async function embedChunks(
  prepared: Pick<PreparedDocument, 'chunks' | 'tokens'>,
  embed: (batch: string[]) => Promise<number[][]>,
  limits: BatchLimits = defaultBatchLimits,
): Promise<void> {
  const texts = prepared.chunks.map((chunk) => chunk.content);
  let done = 0;
  for (const batch of embeddingBatches(texts, limits, prepared.tokens)) {
    const vectors = await embed(batch);
    if (vectors.length !== batch.length) {
      throw modelError(`The embedding model returned ${vectors.length} vectors for ${batch.length} inputs.`);
    }
    for (const vector of vectors) prepared.chunks[done++]!.embedding = vector;
  }
}
