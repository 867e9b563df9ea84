import { AppError } from '../errors/index.js';
import type { StreamEvent } from '../http/streams.js';
import type { ChatMessage, CompletionRequest, Usage } from '../model/types.js';
import type { SearchHit } from '../search/types.js';
import { AnswerFilter, splitAnswer } from './answer-filter.js';
import type { RagDependencies, RagPlan } from './plan.js';
import { answerSystemPrompt, questionWithSources } from './prompts.js';
import type { RagRequest } from './request.js';
import { retrieve } from './retrieve.js';
import { rewriteQuery } from './rewrite.js';
import { promptThought, timed, type Thought } from './thoughts.js';
import { assemble, toChatMessage } from './window.js';

// Step 3 and 4: answer from the sources only, then post-process (citations, follow-ups), as one AI Chat
// Protocol completion (/api/chat) or as a stream of deltas (/api/chat/stream).

function sourceLine(hit: SearchHit, useCaptions: boolean): string {
  const text = useCaptions && hit.captions != null && hit.captions.length > 0 ? hit.captions.join(' . ') : hit.content;
  return `${hit.sourcepage}: ${text.replace(/\s+/g, ' ').trim()}`;
}

interface PreparedAnswer {
  request: CompletionRequest;
  /** `images` is always empty: this app sends no page images (the demo's frontend reads the key). */
  dataPoints: { text: string[]; images: string[]; citations: string[] };
  thoughts: Thought[];
  followups: boolean;
}

/** Steps 1-3 up to the answer call: rewrite, retrieve, and the answer prompt within the context window. */
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
  const system = answerSystemPrompt(request.overrides.prompt_template, followups, deps.settings.systemPrompt);
  const useCaptions = request.overrides.semantic_captions ?? false;
  let sources = hits.map((hit) => sourceLine(hit, useCaptions));
  // Sources that do not fit the context window are dropped lowest-ranked first.
  let messages: ChatMessage[] | undefined;
  for (;;) {
    const finalTurn = toChatMessage(request.question, questionWithSources(request.question.text, sources));
    try {
      messages = assemble(system, request.history, finalTurn, plan.maxTokens, deps.settings);
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
    dataPoints: { text: sources, images: [], citations: [...new Set(kept.map((hit) => hit.sourcepage))] },
    thoughts,
    followups,
  };
}

function answerThought(prepared: PreparedAnswer, deps: RagDependencies, usage?: Usage | null, durationMs?: number): Thought {
  const { request } = prepared;
  return promptThought('Prompt to generate answer', request.messages, { model: deps.model.chatModel, temperature: request.temperature ?? 0, max_tokens: request.maxTokens ?? 0 }, usage, durationMs);
}

function sessionStateOf(request: RagRequest): Record<string, unknown> {
  return request.sessionState == null ? { session_state: null } : { [request.sessionState.key]: request.sessionState.value };
}

/** `/api/chat`: the whole answer as one AI Chat Protocol completion. */
export async function chatWithData(request: RagRequest, plan: RagPlan, deps: RagDependencies): Promise<Record<string, unknown>> {
  const prepared = await prepare(request, plan, deps);
  const { value: completion, durationMs } = await timed(() => deps.model.complete(prepared.request));
  const answer = splitAnswer(completion.content, new Set(prepared.dataPoints.citations), { followups: prepared.followups });
  return {
    message: { role: 'assistant', content: answer.content },
    context: {
      data_points: prepared.dataPoints,
      thoughts: [...prepared.thoughts, answerThought(prepared, deps, completion.usage ?? null, durationMs)],
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
  const filter = new AnswerFilter(new Set(prepared.dataPoints.citations), { followups: prepared.followups });
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
        thoughts: [...prepared.thoughts, answerThought(prepared, deps, usage ?? null, Math.round(performance.now() - started))],
      },
    },
  };
}
