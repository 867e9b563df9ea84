import { AppError, invalidRequest } from '../http/errors.js';
import type { StreamEvent } from '../http/streams.js';
import { toolsSupported, ToolsUnsupportedError } from '../model/capabilities.js';
import { fitHistory, messageTokens, REPLY_PRIMING_TOKENS } from '../model/tokens.js';
import type { ChatMessage, Completion, CompletionRequest, ModelClient, Usage } from '../model/types.js';
import type { SearchHit, SearchIndex, SearchOptions } from '../search/types.js';
import { AnswerFilter, splitAnswer } from './answer-filter.js';
import { answerSystemPrompt, QUERY_MAX_TOKENS, QUERY_SYSTEM_PROMPT, questionWithSources, SEARCH_TOOL } from './prompts.js';
import type { ConversationMessage, RagRequest } from './request.js';

// Chat with your data as small steps: plan → rewrite the question into a search query → retrieve →
// answer from the sources only → post-process (citations, follow-ups). Each step is its own function.

export interface Thought {
  title: string;
  description: unknown;
  props?: Record<string, unknown>;
}

export interface RagSettings {
  historyTokens: number;
  maxOutputTokens: number;
  modelContextTokens: number;
  embeddingsEnabled: boolean;
}

export interface CallerIdentity {
  oid?: string;
  groups: string[];
}

export interface RagDependencies {
  model: ModelClient;
  index: () => Promise<SearchIndex>;
  settings: RagSettings;
  identity: CallerIdentity;
  signal?: AbortSignal;
}

export type RetrievalMode = 'hybrid' | 'text' | 'vectors' | 'none';

export interface RagPlan {
  mode: RetrievalMode;
  top: number;
  temperature: number;
  maxTokens: number;
}

const DEFAULT_TOP = 5;
const DEFAULT_TEMPERATURE = 0.3;

/** Settles every choice that can be refused before any model call. */
export function planRetrieval(request: RagRequest, settings: RagSettings): RagPlan {
  const { overrides } = request;
  const requested = overrides.retrieval_mode ?? (settings.embeddingsEnabled ? 'hybrid' : 'text');
  if (requested === 'vectors' && !settings.embeddingsEnabled) {
    throw invalidRequest('overrides.retrieval_mode: "vectors" needs an embedding model; set EMBEDDING_MODEL_DEPLOYMENT_NAME or use "text".');
  }
  const maxTokens = overrides.max_tokens ?? settings.maxOutputTokens;
  if (maxTokens >= settings.modelContextTokens) {
    throw invalidRequest(`overrides.max_tokens: must be below the model's context window (${settings.modelContextTokens} tokens).`);
  }
  return {
    // Hybrid without embeddings quietly becomes text: it is the default the client may not have chosen.
    mode: requested === 'hybrid' && !settings.embeddingsEnabled ? 'text' : requested,
    top: overrides.top ?? DEFAULT_TOP,
    temperature: overrides.temperature ?? DEFAULT_TEMPERATURE,
    maxTokens,
  };
}

/** Rough fixed cost of an attached image in prompt tokens (a 512-1024 px image at high detail). */
const IMAGE_TOKENS = 765;

function toChatMessage(message: ConversationMessage, text = message.text): ChatMessage {
  if (message.role === 'user' && message.images.length > 0) {
    return {
      role: 'user',
      content: [{ type: 'text', text }, ...message.images.map((url) => ({ type: 'image_url' as const, image_url: { url } }))],
    };
  }
  return { role: message.role, content: text } as ChatMessage;
}

/** Prompt tokens of one message, images at a fixed estimate. */
function promptTokens(message: ChatMessage): number {
  if (!Array.isArray(message.content)) return messageTokens(typeof message.content === 'string' ? message.content : '');
  const text = message.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n');
  const images = message.content.length - message.content.filter((part) => part.type === 'text').length;
  return messageTokens(text) + images * IMAGE_TOKENS;
}

/**
 * system + the newest history that fits + the final user turn, so that prompt + output fit the context
 * window and history stays within its budget. The window is the one chats use (model/tokens).
 */
function assemble(
  system: string,
  history: ConversationMessage[],
  finalTurn: ChatMessage,
  outputTokens: number,
  deps: RagDependencies,
): ChatMessage[] {
  const { settings } = deps;
  const systemMessage: ChatMessage = { role: 'system', content: system };
  const fixed = REPLY_PRIMING_TOKENS + promptTokens(systemMessage) + promptTokens(finalTurn);
  const room = settings.modelContextTokens - outputTokens - fixed;
  if (room < 0) {
    throw new AppError(400, 'context_length_exceeded', 'The question and its sources do not fit the model\'s context window; ask a shorter question or lower top.');
  }
  return fitHistory([systemMessage, ...history.map((message) => toChatMessage(message)), finalTurn], {
    budget: fixed + Math.min(room, settings.historyTokens),
    tokensOf: promptTokens,
  });
}

function timed<T>(work: () => Promise<T>): Promise<{ value: T; durationMs: number }> {
  const started = performance.now();
  return work().then((value) => ({ value, durationMs: Math.round(performance.now() - started) }));
}

/** What the thought process shows of a prompt: images abbreviated, never their bytes. */
function describeMessages(messages: ChatMessage[]): unknown {
  return messages.map((message) => ({
    role: message.role,
    content: Array.isArray(message.content)
      ? message.content.map((part) => (part.type === 'image_url' ? { type: 'image_url', image_url: { url: '(image)' } } : part))
      : message.content,
  }));
}

function usageProps(usage: Usage | undefined) {
  return usage == null ? null : { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.totalTokens };
}

/** Step 1: the conversation as a search query, via the search_sources tool; the question itself as fallback. */
async function rewriteQuery(request: RagRequest, deps: RagDependencies): Promise<{ query: string; thought: Thought }> {
  const finalTurn: ChatMessage = { role: 'user', content: `Generate a search query for: ${request.question.text}` };
  const messages = assemble(QUERY_SYSTEM_PROMPT, request.history, finalTurn, QUERY_MAX_TOKENS, deps);
  // A model without tool support (Ollama answers 400 "does not support tools") searches as if the rewrite
  // gave no query; once seen, the process no longer asks it.
  const { value: completion, durationMs } = await timed(async (): Promise<Completion | undefined> => {
    if (!toolsSupported(deps.model.chatModel)) return undefined;
    try {
      return await deps.model.complete({ messages, temperature: 0, maxTokens: QUERY_MAX_TOKENS, tools: [SEARCH_TOOL], toolChoice: 'auto', signal: deps.signal });
    } catch (error: unknown) {
      if (error instanceof ToolsUnsupportedError) return undefined;
      throw error;
    }
  });
  const query = (completion == null ? undefined : queryFrom(completion)) ?? request.question.text;
  return {
    query,
    thought: {
      title: 'Prompt to generate search query',
      description: describeMessages(messages),
      props: { model: deps.model.chatModel, temperature: 0, max_tokens: QUERY_MAX_TOKENS, usage: usageProps(completion?.usage), duration_ms: durationMs },
    },
  };
}

function queryFrom(completion: Completion): string | undefined {
  for (const call of completion.toolCalls) {
    if (call.name !== 'search_sources') continue;
    try {
      const parsed: unknown = JSON.parse(call.arguments);
      const query = typeof parsed === 'object' && parsed != null && 'search_query' in parsed ? parsed.search_query : undefined;
      if (typeof query === 'string' && query.trim() !== '' && query.trim() !== '0') return query.trim();
    } catch {
      // A malformed tool call falls back to the question, as a missing one does.
    }
  }
  const text = completion.content.trim();
  return text !== '' && text !== '0' && completion.toolCalls.length === 0 && text.length <= 200 ? text : undefined;
}

/** Step 2: the top chunks for the query, with the overrides' mode, filters and minimum scores (also the search_documents skill's retrieval). */
export async function retrieve(query: string, request: RagRequest, plan: RagPlan, deps: RagDependencies): Promise<{ hits: SearchHit[]; thoughts: Thought[] }> {
  const { overrides } = request;
  const mode = plan.mode === 'none' ? 'text' : plan.mode;
  const started = performance.now();
  const vector = mode === 'text' ? undefined : (await deps.model.embed([query], deps.signal))[0];
  const options: SearchOptions = {
    top: plan.top,
    mode,
    ...(vector == null ? {} : { vector }),
    ...(overrides.include_category == null ? {} : { includeCategory: overrides.include_category }),
    ...(overrides.exclude_category == null ? {} : { excludeCategory: overrides.exclude_category }),
    ...(overrides.use_oid_security_filter ? { oids: deps.identity.oid == null ? [] : [deps.identity.oid] } : {}),
    ...(overrides.use_groups_security_filter ? { groups: deps.identity.groups } : {}),
    minimumSearchScore: overrides.minimum_search_score ?? 0,
    minimumRerankerScore: overrides.minimum_reranker_score ?? 0,
    semanticRanker: overrides.semantic_ranker ?? false,
    semanticCaptions: overrides.semantic_captions ?? false,
    signal: deps.signal,
  };
  const index = await deps.index();
  const hits = await index.search(query, options);
  const durationMs = Math.round(performance.now() - started);
  const { signal: _signal, vector: _vector, ...shown } = options;
  return {
    hits,
    thoughts: [
      { title: 'Search using generated search query', description: query, props: { ...shown, has_vector: vector != null, duration_ms: durationMs } },
      {
        title: 'Search results',
        description: hits.map((hit) => ({ id: hit.id, sourcepage: hit.sourcepage, score: hit.score, reranker_score: hit.rerankerScore ?? null, content: hit.content, captions: hit.captions ?? [] })),
      },
    ],
  };
}

function sourceLine(hit: SearchHit, useCaptions: boolean): string {
  const text = useCaptions && hit.captions != null && hit.captions.length > 0 ? hit.captions.join(' . ') : hit.content;
  return `${hit.sourcepage}: ${text.replace(/\s+/g, ' ').trim()}`;
}

interface PreparedAnswer {
  request: CompletionRequest;
  dataPoints: { text: string[]; citations: string[] };
  thoughts: Thought[];
  followups: boolean;
}

/** Steps 1-3 and the answer prompt: everything up to the answer call. */
async function prepare(request: RagRequest, plan: RagPlan, deps: RagDependencies): Promise<PreparedAnswer> {
  const thoughts: Thought[] = [];
  let hits: SearchHit[] = [];
  if (plan.mode !== 'none') {
    const rewritten = await rewriteQuery(request, deps);
    thoughts.push(rewritten.thought);
    const retrieved = await retrieve(rewritten.query, request, plan, deps);
    hits = retrieved.hits;
    thoughts.push(...retrieved.thoughts);
  }
  const followups = request.overrides.suggest_followup_questions ?? false;
  const system = answerSystemPrompt(request.overrides.prompt_template, followups);
  const useCaptions = request.overrides.semantic_captions ?? false;
  let sources = hits.map((hit) => sourceLine(hit, useCaptions));
  // Sources that do not fit the context window are dropped lowest-ranked first.
  let messages: ChatMessage[] | undefined;
  for (;;) {
    const finalTurn = toChatMessage(request.question, questionWithSources(request.question.text, sources));
    try {
      messages = assemble(system, request.history, finalTurn, plan.maxTokens, deps);
      break;
    } catch (error: unknown) {
      if (!(error instanceof AppError) || sources.length === 0) throw error;
      sources = sources.slice(0, -1);
    }
  }
  const kept = hits.slice(0, sources.length);
  return {
    request: {
      messages,
      temperature: plan.temperature,
      maxTokens: plan.maxTokens,
      ...(request.overrides.seed == null ? {} : { seed: request.overrides.seed }),
      signal: deps.signal,
    },
    dataPoints: { text: sources, citations: [...new Set(kept.map((hit) => hit.sourcepage))] },
    thoughts,
    followups,
  };
}

function answerThought(prepared: PreparedAnswer, deps: RagDependencies, usage?: Usage, durationMs?: number): Thought {
  return {
    title: 'Prompt to generate answer',
    description: describeMessages(prepared.request.messages),
    props: {
      model: deps.model.chatModel,
      temperature: prepared.request.temperature,
      max_tokens: prepared.request.maxTokens,
      ...(usage === undefined ? {} : { usage: usageProps(usage) }),
      ...(durationMs === undefined ? {} : { duration_ms: durationMs }),
    },
  };
}

function sessionStateOf(request: RagRequest): Record<string, unknown> {
  return request.sessionState == null ? { session_state: null } : { [request.sessionState.key]: request.sessionState.value };
}

/** `/api/chat`: the whole answer as one AI Chat Protocol completion. */
export async function chatWithData(request: RagRequest, plan: RagPlan, deps: RagDependencies): Promise<Record<string, unknown>> {
  const prepared = await prepare(request, plan, deps);
  const { value: completion, durationMs } = await timed(() => deps.model.complete(prepared.request));
  const answer = splitAnswer(completion.content, new Set(prepared.dataPoints.citations));
  return {
    message: { role: 'assistant', content: answer.content },
    context: {
      data_points: prepared.dataPoints,
      thoughts: [...prepared.thoughts, answerThought(prepared, deps, completion.usage, durationMs)],
      followup_questions: prepared.followups ? answer.followupQuestions : null,
    },
    ...sessionStateOf(request),
  };
}

/** `/api/chat/stream`: context first, then filtered content deltas, then follow-ups and usage. */
export async function* chatWithDataStream(request: RagRequest, plan: RagPlan, deps: RagDependencies): AsyncGenerator<StreamEvent> {
  const prepared = await prepare(request, plan, deps);
  const started = performance.now();
  const upstream = deps.model.stream(prepared.request);
  const filter = new AnswerFilter(new Set(prepared.dataPoints.citations));
  let announced = false;
  let usage: Usage | undefined;
  const context = () => ({ context: { data_points: prepared.dataPoints, thoughts: [...prepared.thoughts, answerThought(prepared, deps)] }, ...sessionStateOf(request) });
  for await (const event of upstream) {
    // The context line waits for the model's first event, so a refused answer call still gets a real status.
    if (!announced) {
      announced = true;
      yield { type: 'context', data: context() };
    }
    if (event.type === 'delta') {
      const text = filter.push(event.content);
      if (text !== '') yield { type: 'delta', content: text };
    } else {
      usage = event.usage;
    }
  }
  if (!announced) yield { type: 'context', data: context() };
  const end = filter.finish();
  if (end.text !== '') yield { type: 'delta', content: end.text };
  yield {
    type: 'done',
    data: {
      context: {
        followup_questions: prepared.followups ? end.followupQuestions : null,
        thoughts: [...prepared.thoughts, answerThought(prepared, deps, usage, Math.round(performance.now() - started))],
      },
    },
  };
}
