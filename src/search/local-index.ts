import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type MiniSearch from 'minisearch';
import { processTerm, TERMS_VERSION, tokenize } from './text-terms.js';
import { chunkVisible, type Chunk, type SearchHit, type SearchIndex, type SearchOptions } from './types.js';

// The embedded index used when AZURE_SEARCH_ENDPOINT is unset: minisearch BM25 for text, a flat cosine scan
// for vectors, reciprocal rank fusion for hybrid — the same fusion Azure AI Search applies to hybrid queries.
// One JSON file under .data/, written durably (temp file, fsync, rename, fsync of the folder); writes are
// serialized, and readers always work on one whole snapshot (a re-read builds a new one and swaps it in); a
// large write lets readers in between its slices, where they see each chunk whole, as Azure AI Search shows
// an upload's batches as each is indexed.

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

/** One whole, consistent state of the index: readers keep the snapshot they started with. */
interface Snapshot {
  entries: Map<string, Entry>;
  text: MiniSearch<{ id: string; content: string }>;
  /** mtime of the file this state was read from or last written to; undefined when there is no file. */
  mtime: number | undefined;
}

/** What the index reports about itself for /api/health. */
export interface IndexCondition {
  /** Set while the index is not whole, e.g. rebuilt after its file was found corrupt. */
  problem?: string;
}

export interface LocalIndexOptions {
  /**
   * Called once when the file was unreadable (torn by a crash mid-write, or edited): it was moved aside and
   * the index starts empty, so the caller can rebuild it from the stored documents.
   */
  onCorrupt?: (reason: string, movedTo: string) => void;
}

let temporaryCounter = 0;

export class LocalIndex implements SearchIndex {
  private readonly file: string;
  private snapshot: Snapshot | undefined;
  private loading: Promise<Snapshot> | undefined;
  /** True while this process writes the file: its mtime changes under us, but our snapshot is the newest. */
  private persisting = false;
  private writes: Promise<unknown> = Promise.resolve();
  private problem: string | undefined;

  /** `directory` holds the index file (`.data/` of the working directory in the app). */
  constructor(
    readonly directory: string,
    private readonly options: LocalIndexOptions = {},
  ) {
    this.file = path.join(directory, FILE_NAME);
  }

  /** Health: a problem while the index is known to be incomplete. */
  condition(): IndexCondition {
    return this.problem == null ? {} : { problem: this.problem };
  }

  /** Sets or clears the problem health reports (the rebuild after corruption reports its progress here). */
  setProblem(problem: string | undefined): void {
    this.problem = problem;
  }

  async search(query: string, options: SearchOptions): Promise<SearchHit[]> {
    options.signal?.throwIfAborted();
    // Everything below is synchronous on this one snapshot: a concurrent write or reload cannot tear it.
    const { entries, text } = await this.current();
    const visible = (id: string) => {
      const entry = entries.get(id);
      return entry != null && chunkVisible(entry.chunk, options);
    };
    const useText = options.mode !== 'vectors' && query.trim() !== '';
    const useVectors = options.mode !== 'text' && options.vector != null && options.vector.length > 0;
    const filtered = options.includeCategory != null || options.excludeCategory != null || options.oids != null || options.groups != null;
    const textRanking = useText
      ? text.search(query, filtered ? { filter: (result) => visible(String(result.id)) } : {}).map((result) => ({ id: String(result.id), score: result.score }))
      : [];
    const vectorRanking = useVectors ? vectorScores(entries, options.vector ?? [], filtered ? visible : undefined, Math.max(FUSION_DEPTH, options.top)) : [];
    let ranked: { id: string; score: number }[];
    if (useText && useVectors) ranked = fuse([textRanking.slice(0, FUSION_DEPTH), vectorRanking]);
    else ranked = useText ? textRanking : vectorRanking;
    const minimum = options.minimumSearchScore;
    return ranked
      .filter((hit) => (minimum == null || hit.score >= minimum) && entries.has(hit.id))
      .slice(0, options.top)
      .map((hit) => {
        const { chunk } = entries.get(hit.id)!;
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

  upsert(chunks: Chunk[]): Promise<void> {
    return this.write(async ({ entries, text }) => {
      await inSlices(chunks, ({ embedding, ...chunk }) => {
        // remove (not discard): discarded documents keep counting in BM25 statistics until a vacuum.
        const previous = entries.get(chunk.id);
        if (previous != null) text.remove({ id: chunk.id, content: previous.chunk.content });
        entries.set(chunk.id, { chunk, ...(embedding == null ? {} : { vector: unitVector(embedding) }) });
        text.add({ id: chunk.id, content: chunk.content });
      });
      return chunks.length > 0;
    }).then(() => undefined);
  }

  deleteBySource(sourcefile: string, keepIds?: ReadonlySet<string>): Promise<number> {
    return this.write(async ({ entries, text }) => {
      const removed = [...entries].filter(([id, entry]) => entry.chunk.sourcefile === sourcefile && keepIds?.has(id) !== true);
      await inSlices(removed, ([id, entry]) => {
        text.remove({ id, content: entry.chunk.content });
        entries.delete(id);
      });
      return removed.length;
    });
  }

  async count(): Promise<number> {
    return (await this.current()).entries.size;
  }

  /** Chunk ids by source file (for repairs after an interrupted ingest). */
  async idsBySource(): Promise<Map<string, Set<string>>> {
    const bySource = new Map<string, Set<string>>();
    for (const [id, { chunk }] of (await this.current()).entries) {
      const ids = bySource.get(chunk.sourcefile) ?? new Set<string>();
      ids.add(id);
      bySource.set(chunk.sourcefile, ids);
    }
    return bySource;
  }

  /** Runs one mutation after the previous ones, on fresh state, then persists it when anything changed. */
  private write<T extends number | boolean>(mutate: (snapshot: Snapshot) => Promise<T>): Promise<T> {
    const run = this.writes.then(async () => {
      const snapshot = await this.current();
      const result = await mutate(snapshot);
      if (result !== false && result !== 0) await this.persist(snapshot);
      return result;
    });
    this.writes = run.catch(() => undefined);
    return run;
  }

  /** The loaded index, re-read (into a new snapshot, swapped in whole) when another process rewrote the file. */
  private async current(): Promise<Snapshot> {
    if (this.snapshot != null && this.persisting) return this.snapshot;
    const mtime = await stat(this.file).then((info) => info.mtimeMs, () => undefined);
    if (this.snapshot != null && (mtime === this.snapshot.mtime || this.persisting)) return this.snapshot;
    // One re-read at a time; everyone waiting gets its result.
    this.loading ??= this.load(mtime).finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(mtime: number | undefined): Promise<Snapshot> {
    const MiniSearchClass = loadMiniSearch();
    const empty = (): Snapshot => ({ entries: new Map(), text: new MiniSearchClass(textOptions), mtime });
    let loaded: Snapshot;
    if (mtime == null) {
      loaded = empty();
    } else {
      let raw: string | undefined;
      try {
        raw = await readFile(this.file, 'utf8');
        loaded = parseStored(raw, MiniSearchClass, mtime);
      } catch (error: unknown) {
        if (raw != null) loaded = await this.setAside(error, empty);
        else if ((error as NodeJS.ErrnoException).code === 'ENOENT') loaded = { ...empty(), mtime: undefined };
        else throw error;
      }
    }
    if (this.snapshot == null) await this.removeTemporaryFiles();
    this.snapshot = loaded;
    return loaded;
  }

  /** A file that cannot be parsed is moved aside (kept for inspection) and the index starts empty. */
  private async setAside(error: unknown, empty: () => Snapshot): Promise<Snapshot> {
    const reason = error instanceof Error ? error.message : String(error);
    const movedTo = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(this.file, movedTo);
    const snapshot = { ...empty(), mtime: undefined };
    this.problem = `The local search index ${this.file} was unreadable (${reason}); moved to ${path.basename(movedTo)}.`;
    this.options.onCorrupt?.(reason, movedTo);
    return snapshot;
  }

  /** Temporary files of writes interrupted by a crash. */
  private async removeTemporaryFiles(): Promise<void> {
    const names = await readdir(this.directory).catch(() => [] as string[]);
    await Promise.all(
      names.filter((name) => name.startsWith(`${FILE_NAME}.`) && name.endsWith('.tmp')).map((name) => unlink(path.join(this.directory, name)).catch(() => undefined)),
    );
  }

  /**
   * Durable replace: write a temporary file, fsync it, rename it over the index, fsync the directory. A crash
   * at any point leaves either the old file or the new one, whole (a rename without the fsyncs can leave an
   * empty or torn file after a power loss).
   */
  private async persist(snapshot: Snapshot): Promise<void> {
    const stored: StoredIndex = {
      version: 1,
      terms: TERMS_VERSION,
      chunks: [...snapshot.entries.values()].map(({ chunk, vector }) => ({ ...chunk, ...(vector == null ? {} : { vector: encodeVector(vector) }) })),
      text: snapshot.text.toJSON(),
    };
    this.persisting = true;
    try {
      await mkdir(this.directory, { recursive: true });
      temporaryCounter += 1;
      const temporary = `${this.file}.${process.pid}-${temporaryCounter}.tmp`;
      const handle = await open(temporary, 'w');
      try {
        await handle.writeFile(JSON.stringify(stored));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.file);
      const directory = await open(this.directory, 'r');
      try {
        await directory.sync();
      } finally {
        await directory.close();
      }
      snapshot.mtime = (await stat(this.file)).mtimeMs;
    } finally {
      this.persisting = false;
    }
  }
}

/** How long a mutation runs before it lets other requests in (health, searches, chat turns). */
const SLICE_MS = 8;

/**
 * Applies `apply` to each item, letting the event loop run every SLICE_MS: indexing a 4 MB document's 2,800
 * chunks in one loop held every other request for ~0.5 s (bench P8). Each item's change is whole (its entry
 * and its text postings together), so a search between slices sees each chunk either before or after it.
 */
async function inSlices<T>(items: readonly T[], apply: (item: T) => void): Promise<void> {
  let sliceStart = performance.now();
  for (const item of items) {
    apply(item);
    if (performance.now() - sliceStart >= SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
}

/** Parses the stored JSON into a snapshot; throws on anything that is not a whole index file. */
function parseStored(raw: string, MiniSearchClass: MiniSearchModule['default'], mtime: number): Snapshot {
  const stored = JSON.parse(raw) as Partial<StoredIndex> | null;
  if (stored?.version !== 1 || !Array.isArray(stored.chunks) || stored.text == null) throw new Error('not a version 1 index file');
  const entries = new Map<string, Entry>();
  for (const { vector, ...chunk } of stored.chunks) {
    entries.set(chunk.id, { chunk, ...(vector == null ? {} : { vector: decodeVector(vector) }) });
  }
  if (stored.terms !== TERMS_VERSION) {
    // Built with other term processing: re-index the stored chunks, whose text is all it needs.
    const text = new MiniSearchClass(textOptions);
    text.addAll([...entries.values()].map(({ chunk }) => ({ id: chunk.id, content: chunk.content })));
    return { entries, text, mtime };
  }
  const text = MiniSearchClass.loadJS(stored.text as Parameters<typeof MiniSearchClass.loadJS>[0], textOptions);
  if (text.documentCount !== entries.size) throw new Error(`${entries.size} chunks but ${text.documentCount} in the text index`);
  return { entries, text, mtime };
}

function vectorScores(entries: Map<string, Entry>, query: number[], visible: ((id: string) => boolean) | undefined, depth: number) {
  const target = unitVector(query);
  return topScores(entries, depth, (id, entry) =>
    entry.vector == null || entry.vector.length !== target.length || (visible != null && !visible(id)) ? undefined : dot(entry.vector, target),
  );
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
