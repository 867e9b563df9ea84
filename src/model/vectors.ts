import { modelError } from '../errors/index.js';

// Embeddings are checked before anything is stored or searched with them. A server that ignores
// `encoding_format`, a broken quantised model or a swapped deployment gives vectors that look fine to the
// types and ruin retrieval silently: all zeros (every page equally near every question), NaN, or a
// different dimension from the vectors already indexed.

/** Dimension of the first valid embeddings this process saw: the one its index was built with. */
let knownDimensions: number | undefined;

/** Throws model_error (502) unless every vector is finite, not all zeros and of one known dimension. */
export function checkVectors(vectors: unknown[][], model: string): asserts vectors is number[][] {
  for (const [index, vector] of vectors.entries()) {
    const problem =
      vector.length === 0
        ? 'is empty'
        : !vector.every((value) => typeof value === 'number' && Number.isFinite(value))
          ? 'contains values that are not finite numbers'
          : vector.every((value) => value === 0)
            ? 'is all zeros'
            : knownDimensions != null && vector.length !== knownDimensions
              ? `has ${vector.length} dimensions where the index has ${knownDimensions}`
              : undefined;
    if (problem != null) {
      throw modelError(
        `The embedding model ${model} returned a vector that ${problem} (input ${index + 1} of ${vectors.length}); nothing was stored. ` +
          'Check EMBEDDING_MODEL_DEPLOYMENT_NAME and that the server returns float embeddings.',
      );
    }
    knownDimensions ??= vector.length;
  }
}
