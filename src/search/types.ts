// The retrieval interface: one small contract, two implementations (Azure AI Search and an embedded local
// index). Ingestion writes through it; the RAG chat reads through it.

export interface Chunk {
  id: string;
  content: string;
  sourcepage: string;
  sourcefile: string;
  category?: string;
  oids: string[];
  groups: string[];
  embedding?: number[];
}

export interface SearchOptions {
  top: number;
  mode: 'hybrid' | 'text' | 'vectors';
  /** Query embedding, needed by vectors and hybrid. */
  vector?: number[];
  includeCategory?: string;
  excludeCategory?: string;
  /** Security filter when given: a chunk is visible if its oids or groups intersect these. */
  oids?: string[];
  groups?: string[];
  minimumSearchScore?: number;
  minimumRerankerScore?: number;
  /** Azure only; ignored by the local index. */
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
  deleteBySource(sourcefile: string): Promise<number>;
  count(): Promise<number>;
}
