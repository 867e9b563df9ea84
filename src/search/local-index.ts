import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type MiniSearch from 'minisearch';
import { processTerm, TERMS_VERSION, tokenize } from './text-terms.js';
import { chunkVisible, type Chunk, type SearchHit, type SearchIndex, type SearchOptions } from './types.js';

// The embedded index used when AZURE_SEARCH_ENDPOINT is unset: minisearch BM25 for text, a flat cosine scan
// for vectors, reciprocal rank fusion for hybrid — the same fusion Azure AI Search applies to hybrid queries.
// One JSON file under .data/, written atomically (temp file + rename); writes are serialized.

type StoredChunk = Omit<Chunk, 'embedding'> & { vector?: string };

interface StoredIndex {
  version: 1;
  /** text-terms.ts's TERMS_VERSION the text index was built with (absent: before it existed). */
  terms?: number;
  chunks: StoredChunk[];
  text: unknown;
}

interface Entry {
  chunk: Omit<Chunk, 'embedding'>;
  /** Unit-length embedding, so cosine similarity is a dot product. */
  vector?: Float32Array;
}

/** Reciprocal rank fusion constant, as Azure AI Search uses. */
const RRF_K = 60;
/** How many candidates each ranking contributes to a hybrid fusion. */
const FUSION_DEPTH = 50;
const FILE_NAME = 'search-index.json';

type MiniSearchModule = typeof import('minisearch');

function loadMiniSearch(): MiniSearchModule['default'] {
  // Required on first use: the index is not needed to serve non-search routes.
  const loaded = require('minisearch') as MiniSearchModule | MiniSearchModule['default'];
  return 'default' in loaded ? loaded.default : loaded;
}

const textOptions = { fields: ['content'], idField: 'id', processTerm, tokenize };

function unitVector(values: ArrayLike<number>): Float32Array {
  const vector = Float32Array.from(values);
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] = vector[i]! / norm;
  return vector;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

const encodeVector = (vector: Float32Array) => Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');

function decodeVector(encoded: string): Float32Array {
  const bytes = Buffer.from(encoded, 'base64');
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

export class LocalIndex implements SearchIndex {
  private readonly file: string;
  private entries = new Map<string, Entry>();
  private text: MiniSearch<{ id: string; content: string }> | undefined;
  private loadedMtime: number | undefined;
  private writes: Promise<unknown> = Promise.resolve();

  /** `directory` holds the index file (`.data/` of the working directory in the app). */
  constructor(readonly directory: string) {
    this.file = path.join(directory, FILE_NAME);
  }

  async search(query: string, options: SearchOptions): Promise<SearchHit[]> {
    options.signal?.throwIfAborted();
    const text = await this.current();
    const visible = (id: string) => {
      const entry = this.entries.get(id);
      return entry != null && chunkVisible(entry.chunk, options);
    };
    const useText = options.mode !== 'vectors' && query.trim() !== '';
    const useVectors = options.mode !== 'text' && options.vector != null && options.vector.length > 0;
    const filtered = options.includeCategory != null || options.excludeCategory != null || options.oids != null || options.groups != null;
    const textRanking = useText
      ? text.search(query, filtered ? { filter: (result) => visible(String(result.id)) } : {}).map((result) => ({ id: String(result.id), score: result.score }))
      : [];
    const vectorRanking = useVectors ? this.vectorRanking(options.vector ?? [], filtered ? visible : undefined, Math.max(FUSION_DEPTH, options.top)) : [];
    let ranked: { id: string; score: number }[];
    if (useText && useVectors) ranked = fuse([textRanking.slice(0, FUSION_DEPTH), vectorRanking]);
    else ranked = useText ? textRanking : vectorRanking;
    const minimum = options.minimumSearchScore;
    return ranked
      .filter((hit) => minimum == null || hit.score >= minimum)
      .slice(0, options.top)
      .map((hit) => {
        const { chunk } = this.entries.get(hit.id)!;
        return {
          id: chunk.id,
          content: chunk.content,
          sourcepage: chunk.sourcepage,
          sourcefile: chunk.sourcefile,
          ...(chunk.category == null ? {} : { category: chunk.category }),
          score: hit.score,
        };
      });
  }

  private vectorRanking(query: number[], visible: ((id: string) => boolean) | undefined, depth: number) {
    const target = unitVector(query);
    return topScores(this.entries, depth, (id, entry) =>
      entry.vector == null || entry.vector.length !== target.length || (visible != null && !visible(id)) ? undefined : dot(entry.vector, target),
    );
  }

  upsert(chunks: Chunk[]): Promise<void> {
    return this.write((text) => {
      for (const { embedding, ...chunk } of chunks) {
        // remove (not discard): discarded documents keep counting in BM25 statistics until a vacuum.
        const previous = this.entries.get(chunk.id);
        if (previous != null) text.remove({ id: chunk.id, content: previous.chunk.content });
        this.entries.set(chunk.id, { chunk, ...(embedding == null ? {} : { vector: unitVector(embedding) }) });
        text.add({ id: chunk.id, content: chunk.content });
      }
      return chunks.length > 0;
    }).then(() => undefined);
  }

  deleteBySource(sourcefile: string, keepIds?: ReadonlySet<string>): Promise<number> {
    return this.write((text) => {
      let removed = 0;
      for (const [id, entry] of this.entries) {
        if (entry.chunk.sourcefile !== sourcefile || keepIds?.has(id) === true) continue;
        text.remove({ id, content: entry.chunk.content });
        this.entries.delete(id);
        removed += 1;
      }
      return removed;
    });
  }

  async count(): Promise<number> {
    await this.current();
    return this.entries.size;
  }

  /** Runs one mutation after the previous ones, on fresh state, then persists it when anything changed. */
  private write<T extends number | boolean>(mutate: (text: MiniSearch<{ id: string; content: string }>) => T): Promise<T> {
    const run = this.writes.then(async () => {
      const text = await this.current();
      const result = mutate(text);
      if (result !== false && result !== 0) await this.persist(text);
      return result;
    });
    this.writes = run.catch(() => undefined);
    return run;
  }

  /** The loaded index, reloaded when another process (the ingest CLI) rewrote the file. */
  private async current(): Promise<MiniSearch<{ id: string; content: string }>> {
    const mtime = await stat(this.file).then((info) => info.mtimeMs, () => undefined);
    if (this.text != null && mtime === this.loadedMtime) return this.text;
    const MiniSearchClass = loadMiniSearch();
    this.entries = new Map();
    if (mtime == null) {
      this.text = new MiniSearchClass(textOptions);
    } else {
      const stored = JSON.parse(await readFile(this.file, 'utf8')) as StoredIndex;
      for (const { vector, ...chunk } of stored.chunks) {
        this.entries.set(chunk.id, { chunk, ...(vector == null ? {} : { vector: decodeVector(vector) }) });
      }
      if (stored.terms === TERMS_VERSION) {
        this.text = MiniSearchClass.loadJS(stored.text as Parameters<typeof MiniSearchClass.loadJS>[0], textOptions);
      } else {
        // Built with other term processing: re-index the stored chunks, whose text is all it needs.
        this.text = new MiniSearchClass(textOptions);
        this.text.addAll([...this.entries.values()].map(({ chunk }) => ({ id: chunk.id, content: chunk.content })));
      }
    }
    this.loadedMtime = mtime;
    return this.text;
  }

  private async persist(text: MiniSearch<{ id: string; content: string }>): Promise<void> {
    const stored: StoredIndex = {
      version: 1,
      terms: TERMS_VERSION,
      chunks: [...this.entries.values()].map(({ chunk, vector }) => ({ ...chunk, ...(vector == null ? {} : { vector: encodeVector(vector) }) })),
      text: text.toJSON(),
    };
    await mkdir(this.directory, { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(stored));
    await rename(temporary, this.file);
    this.loadedMtime = (await stat(this.file)).mtimeMs;
  }
}

/**
 * The `depth` best scores, best first, in one pass: a sorted array of at most `depth` hits that most
 * candidates never enter (sorting all 10k scored chunks per query cost more than the dot products).
 */
export function topScores<T>(items: Map<string, T>, depth: number, score: (id: string, item: T) => number | undefined): { id: string; score: number }[] {
  const top: { id: string; score: number }[] = [];
  if (depth <= 0) return top;
  for (const [id, item] of items) {
    const value = score(id, item);
    if (value == null || (top.length === depth && value <= top[depth - 1]!.score)) continue;
    let at = top.length === depth ? depth - 1 : top.length;
    while (at > 0 && top[at - 1]!.score < value) {
      top[at] = top[at - 1]!;
      at -= 1;
    }
    top[at] = { id, score: value };
  }
  return top;
}

/** Reciprocal rank fusion: each list adds 1 / (k + rank) for every id it ranks. */
export function fuse(rankings: { id: string; score: number }[][]): { id: string; score: number }[] {
  const scores = new Map<string, number>();
  for (const ranking of rankings) {
    ranking.forEach((hit, index) => scores.set(hit.id, (scores.get(hit.id) ?? 0) + 1 / (RRF_K + index + 1)));
  }
  return [...scores].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score);
}
