import { toolsSupported, ToolsUnsupportedError } from '../model/capabilities.js';
import type { ChatMessage, Completion } from '../model/types.js';
import type { RagDependencies } from './plan.js';
import { QUERY_MAX_TOKENS, QUERY_SYSTEM_PROMPT, SEARCH_TOOL } from './prompts.js';
import type { RagRequest } from './request.js';
import { promptThought, timed, type Thought } from './thoughts.js';
import { assemble } from './window.js';

// Step 1: the conversation as a search query, via the search_sources tool. When that yields nothing (a model
// without tool support, a malformed or ignored call), the question is searched together with the earlier
// user turns, so a follow-up such as "What about dental?" keeps the subject of the conversation.

/** Earlier user turns added to a fallback query: the newest ones, this many at most... */
const FALLBACK_TURNS = 3;
/** ...and this many characters of them. */
const FALLBACK_CHARS = 600;
/** A text reply is taken as the query only when it is this short and reads as one. */
const MAX_QUERY_WORDS = 16;

export interface RewrittenQuery {
  query: string;
  /** Where the query came from, shown in the thoughts. */
  source: 'tool_call' | 'text_reply' | 'fallback';
  thought: Thought;
}

export async function rewriteQuery(request: RagRequest, deps: RagDependencies): Promise<RewrittenQuery> {
  const finalTurn: ChatMessage = { role: 'user', content: `Generate a search query for: ${request.question.text}` };
  const messages = assemble(QUERY_SYSTEM_PROMPT, request.history, finalTurn, QUERY_MAX_TOKENS, deps.settings);
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
  const fromTool = completion == null ? undefined : toolQuery(completion);
  const fromText = completion == null || fromTool != null ? undefined : textQuery(completion);
  const query = fromTool ?? fromText ?? fallbackQuery(request);
  const source = fromTool != null ? 'tool_call' : fromText != null ? 'text_reply' : 'fallback';
  return {
    query,
    source,
    thought: promptThought(
      'Prompt to generate search query',
      messages,
      { model: deps.model.chatModel, temperature: 0, max_tokens: QUERY_MAX_TOKENS, query_source: source },
      completion?.usage ?? null,
      durationMs,
    ),
  };
}

const usable = (query: string) => query !== '' && query !== '0';

function toolQuery(completion: Completion): string | undefined {
  for (const call of completion.toolCalls) {
    if (call.name !== 'search_sources') continue;
    try {
      const parsed: unknown = JSON.parse(call.arguments);
      const query = typeof parsed === 'object' && parsed != null && 'search_query' in parsed ? parsed.search_query : undefined;
      if (typeof query === 'string' && usable(query.trim())) return query.trim();
    } catch {
      // A malformed tool call falls back, as a missing one does.
    }
  }
  return undefined;
}

/**
 * A text reply (a model that answers in text instead of calling the tool) is the query only when it looks
 * like one: one short line of keywords or a question, not a sentence answering the question.
 */
export function looksLikeQuery(text: string): boolean {
  if (!usable(text) || text.includes('\n') || /[[\]<>]/.test(text)) return false;
  const words = text.split(/\s+/).filter((word) => word !== '');
  if (words.length === 0 || words.length > MAX_QUERY_WORDS) return false;
  // "Yes, ...", "I don't know." and other sentences end with a full stop or begin like an answer.
  if (/[.!:;]$/.test(text)) return false;
  return !/^(yes|no|sure|sorry|i|i'm|i am|the answer|according|based on|you|your)\b/i.test(text);
}

function textQuery(completion: Completion): string | undefined {
  if (completion.toolCalls.length > 0) return undefined;
  const text = completion.content
    .trim()
    .replace(/^(search )?query:\s*/i, '')
    .replace(/^["'](.*)["']$/, '$1')
    .trim();
  return looksLikeQuery(text) ? text : undefined;
}

/** The question with the newest earlier user turns (bounded), newest first after the question. */
export function fallbackQuery(request: RagRequest): string {
  const earlier: string[] = [];
  let room = FALLBACK_CHARS;
  const userTurns = request.history.filter((message) => message.role === 'user').reverse();
  for (const turn of userTurns.slice(0, FALLBACK_TURNS)) {
    const text = turn.text.replace(/\s+/g, ' ').trim().slice(0, room);
    if (text === '') continue;
    earlier.push(text);
    room -= text.length;
    if (room <= 0) break;
  }
  return [request.question.text.replace(/\s+/g, ' ').trim(), ...earlier].join(' ').trim();
}
