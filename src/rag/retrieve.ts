import type { SearchHit, SearchOptions } from '../search/types.js';
import type { RagDependencies, RagPlan } from './plan.js';
import type { RagRequest } from './request.js';
import type { Thought } from './thoughts.js';

// Step 2: the top chunks for the query, with the overrides' mode, filters and minimum scores.

/** A blank form field (`include_category: ""`) means no filter, as a missing one does. */
const filterValue = (value: string | null | undefined) => (value == null || value.trim() === '' ? undefined : value.trim());

/**
 * Security filters. With REQUIRE_ACCESS_CONTROL=true they always apply, from the trusted identity only (an
 * anonymous caller then sees no access-controlled chunk); otherwise only when the request asks for them.
 */
export function securityFilters(request: RagRequest, deps: RagDependencies): Pick<SearchOptions, 'oids' | 'groups'> {
  const enforced = deps.settings.requireAccessControl;
  const byOid = enforced || request.overrides.use_oid_security_filter === true;
  const byGroups = enforced || request.overrides.use_groups_security_filter === true;
  return {
    ...(byOid ? { oids: deps.identity.oid == null ? [] : [deps.identity.oid] } : {}),
    ...(byGroups ? { groups: deps.identity.groups } : {}),
  };
}

export function searchOptions(request: RagRequest, plan: RagPlan, deps: RagDependencies, vector?: number[]): SearchOptions {
  const { overrides } = request;
  const includeCategory = filterValue(overrides.include_category);
  const excludeCategory = filterValue(overrides.exclude_category);
  return {
    top: plan.top,
    mode: plan.mode === 'none' ? 'text' : plan.mode,
    ...(vector == null ? {} : { vector }),
    ...(includeCategory == null ? {} : { includeCategory }),
    ...(excludeCategory == null ? {} : { excludeCategory }),
    ...securityFilters(request, deps),
    minimumSearchScore: overrides.minimum_search_score ?? 0,
    minimumRerankerScore: overrides.minimum_reranker_score ?? 0,
    semanticRanker: overrides.semantic_ranker ?? false,
    semanticCaptions: overrides.semantic_captions ?? false,
    ...(deps.signal == null ? {} : { signal: deps.signal }),
  };
}

/** The search step's props in snake_case, as the demo's thought process shows them. */
function searchProps(options: SearchOptions, deps: RagDependencies, durationMs: number): Record<string, unknown> {
  return {
    top: options.top,
    retrieval_mode: options.mode,
    use_text_search: options.mode !== 'vectors',
    use_vector_search: options.vector != null,
    has_vector: options.vector != null,
    include_category: options.includeCategory ?? null,
    exclude_category: options.excludeCategory ?? null,
    ...(options.oids == null ? {} : { oids: options.oids }),
    ...(options.groups == null ? {} : { groups: options.groups }),
    access_control_enforced: deps.settings.requireAccessControl,
    minimum_search_score: options.minimumSearchScore ?? 0,
    minimum_reranker_score: options.minimumRerankerScore ?? 0,
    use_semantic_ranker: options.semanticRanker ?? false,
    use_semantic_captions: options.semanticCaptions ?? false,
    duration_ms: durationMs,
  };
}

/** Search results as the demo lists them: each hit with its source file and category. */
function describeHits(hits: SearchHit[]): unknown[] {
  return hits.map((hit) => ({
    id: hit.id,
    sourcepage: hit.sourcepage,
    sourcefile: hit.sourcefile,
    category: hit.category ?? null,
    score: hit.score,
    reranker_score: hit.rerankerScore ?? null,
    content: hit.content,
    captions: hit.captions ?? [],
  }));
}

/** Step 2 (also the search_documents skill's retrieval). */
export async function retrieve(query: string, request: RagRequest, plan: RagPlan, deps: RagDependencies): Promise<{ hits: SearchHit[]; thoughts: Thought[] }> {
  const started = performance.now();
  const mode = plan.mode === 'none' ? 'text' : plan.mode;
  const vector = mode === 'text' ? undefined : (await deps.model.embed([query], deps.signal))[0];
  const options = searchOptions(request, plan, deps, vector);
  const index = await deps.index();
  const hits = await index.search(query, options);
  const durationMs = Math.round(performance.now() - started);
  return {
    hits,
    thoughts: [
      { title: 'Search using generated search query', description: query, props: searchProps(options, deps, durationMs) },
      { title: 'Search results', description: describeHits(hits) },
    ],
  };
}
