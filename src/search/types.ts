// The one small interface retrieval and ingestion share; Azure AI Search and the embedded local index
// implement it (ARCHITECTURE.md § Retrieval).

/** One indexed piece of a source document. */
export interface Chunk {
  id: string;
  content: string;
  /** `file.pdf#page=N` (1-based) for paged documents, the file name otherwise: what citations show. */
  sourcepage: string;
  sourcefile: string;
  category?: string;
  oids: string[];
  groups: string[];
  embedding?: number[];
}

export interface SearchOptions {
  /** How many hits. */
  top: number;
  mode: 'hybrid' | 'text' | 'vectors';
  /** Query embedding, needed by vectors/hybrid. */
  vector?: number[];
  includeCategory?: string;
  excludeCategory?: string;
  /** Security filter when given: a chunk is visible if its oids or groups intersect these. */
  oids?: string[];
  groups?: string[];
  minimumSearchScore?: number;
  minimumRerankerScore?: number;
  /** Azure only; ignored locally. */
  semanticRanker?: boolean;
  semanticCaptions?: boolean;
  signal?: AbortSignal;
}

export interface SearchHit {
  id: string;
  content: string;
  sourcepage: string;
  sourcefile: string;
  category?: string;
  score: number;
  rerankerScore?: number;
  captions?: string[];
}

export interface SearchIndex {
  search(query: string, options: SearchOptions): Promise<SearchHit[]>;
  upsert(chunks: Chunk[]): Promise<void>;
  /**
   * Deletes the chunks of one source file and returns how many went. With `keepIds`, chunks whose id is in
   * the set stay: re-ingesting upserts the new chunks first, then drops only the ones that no longer exist.
   */
  deleteBySource(sourcefile: string, keepIds?: ReadonlySet<string>): Promise<number>;
  /** Number of chunks in the index. */
  count(): Promise<number>;
  /** For /api/health: a problem while the index is known to be incomplete (e.g. being rebuilt). */
  condition?(): { problem?: string };
}

/** True when a chunk passes the category and security filters of a query (shared by local backends and tests). */
export function chunkVisible(chunk: Pick<Chunk, 'category' | 'oids' | 'groups'>, options: SearchOptions): boolean {
  if (options.includeCategory != null && chunk.category !== options.includeCategory) return false;
  if (options.excludeCategory != null && chunk.category === options.excludeCategory) return false;
  if (options.oids != null || options.groups != null) {
    const oids = options.oids ?? [];
    const groups = options.groups ?? [];
    const allowed = chunk.oids.some((oid) => oids.includes(oid)) || chunk.groups.some((group) => groups.includes(group));
    if (!allowed) return false;
  }
  return true;
}
