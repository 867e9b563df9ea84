import type { SearchClient, SearchIndex as AzureIndexDefinition, SearchIndexClient, SearchOptions as AzureSearchOptions } from '@azure/search-documents';
import { searchError, statusOf } from '../errors/index.js';
import { translateSearchError as translate } from '../errors/search.js';
import { azureCredential } from '../azure-credential.js';
import type { Chunk, SearchHit, SearchIndex, SearchOptions } from './types.js';

// Azure AI Search behind the SearchIndex interface. The index is created on first upload when missing, with
// the fields the azure-search-openai-demo uses, so existing indexes and tools keep working.

export interface AzureSearchSettings {
  endpoint: string;
  index: string;
  apiKey?: string;
  clientId?: string;
}

type IndexDocument = Omit<Chunk, 'embedding'> & { embedding?: number[] };

/** Documents per upload request (the service takes at most 1,000 and 16 MB; vectors make documents big). */
const UPLOAD_BATCH = 100;
/** Vector neighbours considered per query before fusion, as the demo does. */
const NEAREST_NEIGHBOURS = 50;
const selectFields = ['id', 'content', 'category', 'sourcepage', 'sourcefile'] as const;

/** The index definition: `embedding` only when the chunks carry vectors (its dimensions come from them). */
export function indexDefinition(name: string, dimensions: number | undefined): AzureIndexDefinition {
  return {
    name,
    fields: [
      { name: 'id', type: 'Edm.String', key: true, filterable: true },
      { name: 'content', type: 'Edm.String', searchable: true, analyzerName: 'en.microsoft' },
      ...(dimensions == null
        ? []
        : [{ name: 'embedding', type: 'Collection(Edm.Single)' as const, searchable: true, hidden: true, vectorSearchDimensions: dimensions, vectorSearchProfileName: 'embedding-profile' }]),
      { name: 'category', type: 'Edm.String', filterable: true, facetable: true },
      { name: 'sourcepage', type: 'Edm.String', filterable: true, facetable: true },
      { name: 'sourcefile', type: 'Edm.String', filterable: true, facetable: true },
      { name: 'oids', type: 'Collection(Edm.String)', filterable: true },
      { name: 'groups', type: 'Collection(Edm.String)', filterable: true },
    ],
    vectorSearch: {
      algorithms: [{ name: 'hnsw-cosine', kind: 'hnsw', parameters: { metric: 'cosine', m: 4, efConstruction: 400, efSearch: 500 } }],
      profiles: [{ name: 'embedding-profile', algorithmConfigurationName: 'hnsw-cosine' }],
    },
    semanticSearch: {
      defaultConfigurationName: 'default',
      configurations: [{ name: 'default', prioritizedFields: { contentFields: [{ name: 'content' }] } }],
    },
  };
}

/** OData string literal: single quotes doubled. */
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** The filter for category and security trimming; `search.in` with `|` so values may contain commas and spaces. */
export function buildFilter(options: Pick<SearchOptions, 'includeCategory' | 'excludeCategory' | 'oids' | 'groups'>): string | undefined {
  const clauses: string[] = [];
  if (options.includeCategory != null) clauses.push(`category eq ${literal(options.includeCategory)}`);
  if (options.excludeCategory != null) clauses.push(`category ne ${literal(options.excludeCategory)}`);
  if (options.oids != null || options.groups != null) {
    const anyOf = (field: string, values: string[]) =>
      `${field}/any(g:search.in(g, ${literal(values.filter((value) => !value.includes('|')).join('|'))}, '|'))`;
    clauses.push(`(${anyOf('oids', options.oids ?? [])} or ${anyOf('groups', options.groups ?? [])})`);
  }
  return clauses.length === 0 ? undefined : clauses.join(' and ');
}

export class AzureSearchIndex implements SearchIndex {
  private clients: Promise<{ search: SearchClient<IndexDocument>; indexes: SearchIndexClient }> | undefined;
  private ensured: Promise<void> | undefined;

  constructor(private readonly settings: AzureSearchSettings) {}

  private getClients() {
    this.clients ??= (async () => {
      // Required on first use: the SDK is large and only needed when Azure AI Search is configured.
      const sdk = require('@azure/search-documents') as typeof import('@azure/search-documents');
      const credential = this.settings.apiKey != null ? new sdk.AzureKeyCredential(this.settings.apiKey) : await azureCredential(this.settings.clientId);
      // Plain http only to a loopback address (a local emulator or test double), never to a real service.
      const allowInsecureConnection = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/i.test(this.settings.endpoint);
      const options = { retryOptions: { maxRetries: 3 }, allowInsecureConnection };
      return {
        search: new sdk.SearchClient<IndexDocument>(this.settings.endpoint, this.settings.index, credential, options),
        indexes: new sdk.SearchIndexClient(this.settings.endpoint, credential, options),
      };
    })();
    return this.clients;
  }

  /** Creates the index when it does not exist yet (once per process). */
  private ensureIndex(dimensions: number | undefined): Promise<void> {
    this.ensured ??= (async () => {
      const { indexes } = await this.getClients();
      try {
        await indexes.getIndex(this.settings.index);
      } catch (error: unknown) {
        if (statusOf(error) !== 404) throw error;
        await indexes.createIndex(indexDefinition(this.settings.index, dimensions));
      }
    })().catch((error: unknown) => {
      this.ensured = undefined;
      throw translate(error, 'index creation');
    });
    return this.ensured;
  }

  async upsert(chunks: Chunk[]): Promise<void> {
    if (chunks.length === 0) return;
    await this.ensureIndex(chunks.find((chunk) => chunk.embedding != null)?.embedding?.length);
    const { search } = await this.getClients();
    for (let start = 0; start < chunks.length; start += UPLOAD_BATCH) {
      const batch = chunks.slice(start, start + UPLOAD_BATCH);
      try {
        const result = await search.mergeOrUploadDocuments(batch, { throwOnAnyFailure: true });
        const failed = result.results.filter((item) => !item.succeeded);
        if (failed.length > 0) throw searchError(`Azure AI Search rejected ${failed.length} chunks (first: ${failed[0]?.errorMessage ?? 'no reason'}).`);
      } catch (error: unknown) {
        throw translate(error, 'upload');
      }
    }
  }

  async deleteBySource(sourcefile: string, keepIds?: ReadonlySet<string>): Promise<number> {
    const { search } = await this.getClients();
    const stale: string[] = [];
    try {
      const response = await search.search('*', { filter: `sourcefile eq ${literal(sourcefile)}`, select: ['id'], top: 100_000 });
      for await (const result of response.results) {
        if (keepIds?.has(result.document.id) !== true) stale.push(result.document.id);
      }
      for (let start = 0; start < stale.length; start += 1000) {
        await search.deleteDocuments('id', stale.slice(start, start + 1000));
      }
    } catch (error: unknown) {
      if (statusOf(error) === 404) return 0;
      throw translate(error, 'delete');
    }
    return stale.length;
  }

  async count(): Promise<number> {
    const { search } = await this.getClients();
    try {
      return await search.getDocumentsCount();
    } catch (error: unknown) {
      if (statusOf(error) === 404) return 0;
      throw translate(error, 'count');
    }
  }

  async search(query: string, options: SearchOptions): Promise<SearchHit[]> {
    const { search } = await this.getClients();
    const useText = options.mode !== 'vectors';
    const useVectors = options.mode !== 'text' && options.vector != null && options.vector.length > 0;
    const semantic = options.semanticRanker === true && useText;
    type Options = AzureSearchOptions<IndexDocument, (typeof selectFields)[number]>;
    const base: Options = {
      top: options.top,
      select: [...selectFields],
      filter: buildFilter(options),
      abortSignal: options.signal,
      ...(useVectors
        ? { vectorSearchOptions: { queries: [{ kind: 'vector', vector: options.vector ?? [], kNearestNeighborsCount: NEAREST_NEIGHBOURS, fields: ['embedding'] }] } }
        : {}),
    };
    const captions = options.semanticCaptions === true ? { captions: { captionType: 'extractive' as const, highlight: false } } : {};
    const request: Options = semantic
      ? { ...base, queryType: 'semantic', semanticSearchOptions: { configurationName: 'default', ...captions } }
      : base;
    const hits: SearchHit[] = [];
    try {
      const response = await search.search(useText ? query : undefined, request);
      for await (const result of response.results) {
        const document = result.document;
        if (result.score < (options.minimumSearchScore ?? 0)) continue;
        if (result.rerankerScore != null && result.rerankerScore < (options.minimumRerankerScore ?? 0)) continue;
        hits.push({
          id: String(document.id),
          content: String(document.content ?? ''),
          sourcepage: String(document.sourcepage ?? ''),
          sourcefile: String(document.sourcefile ?? ''),
          ...(document.category == null ? {} : { category: String(document.category) }),
          score: result.score,
          ...(result.rerankerScore == null ? {} : { rerankerScore: result.rerankerScore }),
          ...(result.captions == null ? {} : { captions: result.captions.map((caption) => caption.text ?? '').filter((text) => text !== '') }),
        });
      }
    } catch (error: unknown) {
      if (statusOf(error) === 404) return [];
      throw translate(error, 'search');
    }
    return hits;
  }
}
