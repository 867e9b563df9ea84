import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors/index.js';
import { AzureSearchIndex, buildFilter } from '../src/search/azure-index.js';
import type { Chunk } from '../src/search/types.js';
import { startApp, uniqueName, type RunningApp } from './support/app.js';
import { startFakeSearch, type FakeSearchService } from './support/fake-search.js';

const chunk = (id: string, sourcefile: string, dimensions?: number): Chunk => ({
  id,
  content: `content of ${id}`,
  sourcepage: `${sourcefile}#page=1`,
  sourcefile,
  category: 'benefits',
  oids: [],
  groups: [],
  ...(dimensions == null ? {} : { embedding: Array.from({ length: dimensions }, (_, n) => (n + 1) / dimensions) }),
});

describe('Azure AI Search backend (recorded-request fake of the REST API)', () => {
  let service: FakeSearchService;
  let index: AzureSearchIndex;
  beforeEach(async () => {
    service = await startFakeSearch();
    index = new AzureSearchIndex({ endpoint: service.url, index: 'kb-index', apiKey: 'search-key' });
  });

  it('creates the index when missing with the demo fields, an HNSW cosine profile and semantic config "default"', async () => {
    await index.upsert([chunk('a-1', 'a.pdf', 8)]);
    const [lookup, create] = service.requests;
    expect(lookup).toMatchObject({ method: 'GET', path: "/indexes('kb-index')" });
    expect(create).toMatchObject({ method: 'POST', path: '/indexes' });
    expect(create?.headers['api-key']).toBe('search-key');
    const definition = create?.body as {
      name: string;
      fields: { name: string; type: string; key?: boolean; dimensions?: number; vectorSearchProfile?: string; filterable?: boolean }[];
      vectorSearch: { algorithms: { name: string; kind: string; hnswParameters: { metric: string } }[]; profiles: { name: string; algorithm: string }[] };
      semantic: { configurations: { name: string; prioritizedFields: { prioritizedContentFields: { fieldName: string }[] } }[] };
    };
    expect(definition.name).toBe('kb-index');
    expect(definition.fields.map((field) => field.name)).toEqual(['id', 'content', 'embedding', 'category', 'sourcepage', 'sourcefile', 'oids', 'groups']);
    expect(definition.fields[0]).toMatchObject({ type: 'Edm.String', key: true });
    expect(definition.fields[2]).toMatchObject({ type: 'Collection(Edm.Single)', dimensions: 8, vectorSearchProfile: 'embedding-profile' });
    expect(definition.fields.find((field) => field.name === 'oids')).toMatchObject({ type: 'Collection(Edm.String)', filterable: true });
    expect(definition.vectorSearch.algorithms[0]).toMatchObject({ kind: 'hnsw', hnswParameters: { metric: 'cosine' } });
    expect(definition.vectorSearch.profiles[0]).toMatchObject({ name: 'embedding-profile', algorithm: definition.vectorSearch.algorithms[0]?.name });
    expect(definition.semantic.configurations[0]).toMatchObject({ name: 'default', prioritizedFields: { prioritizedContentFields: [{ fieldName: 'content' }] } });
    // Later uploads do not look the index up again.
    await index.upsert([chunk('a-2', 'a.pdf', 8)]);
    expect(service.requests.filter((request) => request.path === "/indexes('kb-index')")).toHaveLength(1);
  });

  it('leaves out the embedding field when no embeddings are configured', async () => {
    await index.upsert([chunk('t-1', 't.md')]);
    const definition = service.index as { fields: { name: string }[] };
    expect(definition.fields.map((field) => field.name)).not.toContain('embedding');
  });

  it('uploads in batches with mergeOrUpload actions', async () => {
    await index.upsert(Array.from({ length: 250 }, (_, n) => chunk(`b-${n}`, 'b.pdf', 4)));
    const uploads = service.requests.filter((request) => request.path.endsWith('/docs/search.index'));
    const batches = uploads.map((request) => (request.body?.value as Record<string, unknown>[]));
    expect(batches.map((batch) => batch.length)).toEqual([100, 100, 50]);
    expect(batches[0]?.[0]).toMatchObject({ '@search.action': 'mergeOrUpload', id: 'b-0', sourcefile: 'b.pdf', embedding: [0.25, 0.5, 0.75, 1] });
    expect(await index.count()).toBe(250);
  });

  it('sends hybrid semantic queries with filters, vectors and captions, and maps the hits', async () => {
    await index.upsert([chunk('h-1', 'h.pdf', 4), chunk('h-2', 'h.pdf', 4)]);
    const hits = await index.search('eye exams', {
      top: 2,
      mode: 'hybrid',
      vector: [0.1, 0.2, 0.3, 0.4],
      excludeCategory: "old's",
      oids: ['user-1'],
      groups: ['g1', 'g2'],
      semanticRanker: true,
      semanticCaptions: true,
      minimumRerankerScore: 2.5,
    });
    const body = service.requests.at(-1)?.body;
    expect(body).toMatchObject({
      search: 'eye exams',
      top: 2,
      select: 'id,content,category,sourcepage,sourcefile',
      filter: "category ne 'old''s' and (oids/any(g:search.in(g, 'user-1', '|')) or groups/any(g:search.in(g, 'g1|g2', '|')))",
      queryType: 'semantic',
      semanticConfiguration: 'default',
      captions: 'extractive|highlight-false',
      vectorQueries: [{ kind: 'vector', vector: [0.1, 0.2, 0.3, 0.4], k: 50, fields: 'embedding' }],
    });
    // The fake gives reranker scores 3 and 2: the second is under the minimum.
    expect(hits).toEqual([
      { id: 'h-1', content: 'content of h-1', sourcepage: 'h.pdf#page=1', sourcefile: 'h.pdf', category: 'benefits', score: 1, rerankerScore: 3, captions: ['caption 0'] },
    ]);
  });

  it('sends text-only and vector-only queries without the other half', async () => {
    await index.upsert([chunk('v-1', 'v.pdf', 4)]);
    await index.search('deductible', { top: 3, mode: 'text', vector: [1, 0, 0, 0], includeCategory: 'benefits' });
    const text = service.requests.at(-1)?.body;
    expect(text).toMatchObject({ search: 'deductible', filter: "category eq 'benefits'" });
    expect(text?.vectorQueries).toBeUndefined();
    expect(text?.queryType).toBeUndefined();
    await index.search('deductible', { top: 3, mode: 'vectors', vector: [1, 0, 0, 0], semanticRanker: true });
    const vectors = service.requests.at(-1)?.body;
    expect(vectors?.search).toBeUndefined();
    expect(vectors?.queryType).toBeUndefined();
    expect(vectors?.vectorQueries).toEqual([{ kind: 'vector', vector: [1, 0, 0, 0], k: 50, fields: 'embedding' }]);
  });

  it('deletes only the stale chunks of one source, quoting the name in the filter', async () => {
    await index.upsert([chunk('d-1', "o'brien.pdf"), chunk('d-2', "o'brien.pdf"), chunk('d-3', "o'brien.pdf"), chunk('x-1', 'other.pdf')]);
    expect(await index.deleteBySource("o'brien.pdf", new Set(['d-1']))).toBe(2);
    const lookup = service.requests.filter((request) => request.path.endsWith('/docs/search.post.search')).at(-1);
    expect(lookup?.body).toMatchObject({ search: '*', filter: "sourcefile eq 'o''brien.pdf'", select: 'id' });
    const removal = service.requests.at(-1);
    expect(removal?.body?.value).toEqual([
      { '@search.action': 'delete', id: 'd-2' },
      { '@search.action': 'delete', id: 'd-3' },
    ]);
    expect([...service.documents.keys()].sort()).toEqual(['d-1', 'x-1']);
  });

  it('answers empty results and zero counts before the index exists, and 429 when throttled', async () => {
    expect(await index.search('anything', { top: 3, mode: 'text' })).toEqual([]);
    expect(await index.count()).toBe(0);
    expect(await index.deleteBySource('none.pdf')).toBe(0);
    await index.upsert([chunk('r-1', 'r.pdf')]);
    service.failSearchWith = 429;
    const error = await index.search('x', { top: 1, mode: 'text' }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).status).toBe(429);
  });

  it('builds filters from category and security options', () => {
    expect(buildFilter({})).toBeUndefined();
    expect(buildFilter({ includeCategory: 'a' })).toBe("category eq 'a'");
    expect(buildFilter({ groups: ['x'] })).toBe("(oids/any(g:search.in(g, '', '|')) or groups/any(g:search.in(g, 'x', '|')))");
  });
});

describe('the app with AZURE_SEARCH_ENDPOINT set', () => {
  let service: FakeSearchService;
  let app: RunningApp;
  beforeAll(async () => {
    service = await startFakeSearch();
    app = await startApp({
      AZURE_SEARCH_ENDPOINT: service.url,
      AZURE_SEARCH_INDEX: 'app-index',
      AZURE_SEARCH_API_KEY: 'app-search-key',
      CONTENT_CONTAINER: uniqueName('content').toLowerCase().slice(0, 60),
    });
  });
  afterAll(async () => {
    await app?.stop();
    await service?.stop();
  });

  it('indexes uploads in Azure AI Search and reports its chunk count in health', async () => {
    const text = Array.from({ length: 40 }, (_, n) => `Paragraph ${n} about the travel policy and its rules.`).join('\n\n');
    const response = await fetch(`${app.baseUrl}/documents?name=travel.md`, { method: 'POST', body: text, headers: { 'Content-Type': 'text/markdown' } });
    expect(response.status).toBe(201);
    const { chunks } = (await response.json()) as { chunks: number };
    expect(service.documents.size).toBe(chunks);
    expect([...service.documents.values()][0]).toMatchObject({ sourcefile: 'travel.md', sourcepage: 'travel.md' });
    const health = (await (await fetch(`${app.baseUrl}/health`)).json()) as { search: unknown };
    expect(health.search).toEqual({ backend: 'azure', documents: chunks });
    expect(app.output()).not.toContain('app-search-key');
    expect((await fetch(`${app.baseUrl}/documents/travel.md`, { method: 'DELETE' })).status).toBe(204);
    expect(service.documents.size).toBe(0);
  });
});
