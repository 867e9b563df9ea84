// Chat with your documents inside a stateful chat: the same retrieval as /api/chat (src/rag), as a skill.
import { z } from 'zod';
import { planRetrieval, retrieve, type RagDependencies, type RagSettings } from '../rag/approach.js';
import type { RagRequest } from '../rag/request.js';
import { defineSkill } from './types.js';

/** Most passages one call returns; each is cut to PASSAGE_CHARS so a result stays a few thousand tokens. */
const MAX_TOP = 10;
const PASSAGE_CHARS = 1_500;

export const searchDocuments = defineSkill({
  name: 'search_documents',
  description:
    'Search the company documents (handbook, benefits, policies) and return passages, each with its source name. ' +
    'Answer only from the passages, and cite every fact with its source name in square brackets, e.g. [benefits.pdf#page=3].',
  parameters: z.object({
    query: z.string().trim().min(1).max(1_000).describe('Keyword search query, e.g. "dental coverage for children"'),
    top: z.number().int().min(1).max(MAX_TOP).optional().describe(`How many passages (default 5, at most ${MAX_TOP})`),
  }),
  async run({ query, top }, context) {
    const { services } = context;
    const settings: RagSettings = { ...services.settings.rag, embeddingsEnabled: services.settings.embeddingsEnabled };
    // One question and no history: the model already wrote the query, so there is no rewrite step.
    const request: RagRequest = { history: [], question: { role: 'user', text: query, images: [] }, overrides: top == null ? {} : { top } };
    const plan = planRetrieval(request, settings);
    const deps: RagDependencies = { model: await services.model(), index: services.searchIndex, settings, identity: context.caller, signal: context.signal };
    const { hits } = await retrieve(query, request, plan, deps);
    const passages = hits.map((hit) => ({ sourcepage: hit.sourcepage, content: hit.content.replace(/\s+/g, ' ').trim().slice(0, PASSAGE_CHARS) }));
    return {
      content: JSON.stringify(passages.length === 0 ? { passages, note: 'No documents matched; say that the documents do not answer this.' } : { passages }),
      sources: [...new Set(passages.map((passage) => passage.sourcepage))],
    };
  },
});
