import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

// The document reader's three budgets (src/ingest/parse-isolated.ts), each reached on purpose with a small
// value: its worker's heap limit (resourceLimits), the process-memory watch, and the time limit. Each is a 413
// that names what ran out, the worker is thrown away, and the next document is read with the default budgets.
// The worker runs from the build (dist/src/ingest/parse-worker.js), as in every host, so this imports the build.

type Isolated = typeof import('../src/ingest/parse-isolated.js');
const { prepareChunksIsolated } = (await import(pathToFileURL(path.resolve('dist/src/ingest/parse-isolated.js')).href)) as Isolated;

const limits = { bytes: 1 << 20, pages: 10, textChars: 1 << 20 };
const document = { name: 'handbook.txt', bytes: new TextEncoder().encode('Employees accrue vacation monthly and may carry over five days. '.repeat(200)) };

async function refusal(budgets: { heapMb: number; memoryMb: number; timeMs: number }): Promise<{ status?: number; message: string }> {
  const error = (await prepareChunksIsolated(document, limits, 'v1', budgets).then(
    () => new Error('the document was read within the budget'),
    (caught: unknown) => caught,
  )) as { status?: number; message: string };
  return { status: error.status, message: error.message };
}

describe('the document reader budgets', () => {
  it('answers 413 when the process grows past the resident memory it allows a parse', async () => {
    // A ceiling at the current resident size: starting a worker (first in this file, so no idle one is reused)
    // and loading the tokenizer's encoding in it pass it.
    expect(await refusal({ heapMb: 512, memoryMb: 0, timeMs: 60_000 })).toEqual({ status: 413, message: expect.stringMatching(/needed more than 0 MB of memory/) });
    expect((await prepareChunksIsolated(document, limits, 'v1')).chunks.length).toBeGreaterThan(0);
  });

  it('answers 413 when the reader needs more heap than its worker may have', async () => {
    // Loading the tokenizer's encoding alone needs far more than 8 MB of heap.
    expect(await refusal({ heapMb: 8, memoryMb: 512, timeMs: 60_000 })).toEqual({ status: 413, message: expect.stringMatching(/too complex to read: reading it needed more than 8 MB of memory/) });
    expect((await prepareChunksIsolated(document, limits, 'v1')).chunks.length).toBeGreaterThan(0);
  });

  it('answers 413 when reading takes longer than its time budget', async () => {
    expect(await refusal({ heapMb: 512, memoryMb: 512, timeMs: 1 })).toEqual({ status: 413, message: expect.stringMatching(/took longer than 0.001 s/) });
    expect((await prepareChunksIsolated(document, limits, 'v1')).chunks.length).toBeGreaterThan(0);
  });
});
