import type { ToolDefinition } from '../model/types.js';

// Prompt text lives here and nowhere else.

// Generic on purpose: the app serves anyone's documents. A deployment sets its own with RAG_SYSTEM_PROMPT.
export const ANSWER_SYSTEM_PROMPT = [
  'You answer questions using only the documents provided with each question (your documents).',
  'Use only the facts in the sources listed with the question. If they do not hold the answer, say that you do not know; do not guess.',
  'Keep answers short and concrete. Ask a clarifying question when the question is ambiguous.',
  'Each source starts with its name, a colon, then its text. After every fact you use, cite its source name in square brackets, for example [report.pdf#page=3].',
  'Cite each source separately, for example [guide.md][notes.pdf#page=2], never several names in one pair of brackets.',
  'If an image is attached, use what it shows together with the sources.',
].join('\n');

export const FOLLOWUP_INSTRUCTIONS = [
  'After the answer, suggest three short follow-up questions the user might ask next about the documents.',
  'Put each in double angle brackets at the very end, for example: <<What does it cost?>> <<Who approves it?>>',
  'Do not repeat questions that were already asked. Nothing may follow the last question.',
].join('\n');

export const QUERY_SYSTEM_PROMPT = [
  'You turn the latest question of a conversation into a keyword search query for a knowledge base of documents.',
  'Call the search_sources tool with the query. Leave out source file names and document names, and any text in [] or <<>>.',
  'Use the earlier conversation only to resolve what the latest question refers to.',
  'If no query can be made, answer with the single character 0.',
].join('\n');

export const SEARCH_TOOL: ToolDefinition = {
  type: 'function',
  function: {
    name: 'search_sources',
    description: 'Retrieve passages from the documents search index',
    parameters: {
      type: 'object',
      properties: {
        search_query: { type: 'string', description: 'Search query, for example: refund policy for returned items' },
      },
      required: ['search_query'],
    },
  },
};

/** Token cap for the query-rewrite call: a query is a handful of words. */
export const QUERY_MAX_TOKENS = 100;

/**
 * The system prompt for the answer: the deployment's (RAG_SYSTEM_PROMPT) or the generic one. A request's
 * `prompt_template` replaces it; one starting with `>>>` is injected into it instead (after the base
 * instructions, before the follow-up instructions).
 */
export function answerSystemPrompt(template: string | null | undefined, followups: boolean, deploymentPrompt?: string): string {
  const base = deploymentPrompt == null || deploymentPrompt.trim() === '' ? ANSWER_SYSTEM_PROMPT : deploymentPrompt;
  const extra = followups ? `\n\n${FOLLOWUP_INSTRUCTIONS}` : '';
  if (template == null || template.trim() === '') return base + extra;
  if (template.startsWith('>>>')) return `${base}\n\n${template.slice(3).trim()}${extra}`;
  return template + extra;
}

/** The latest question with its sources, as the user turn of the answer call. */
export function questionWithSources(question: string, sources: string[]): string {
  if (sources.length === 0) return question;
  return `${question}\n\nSources:\n${sources.join('\n')}`;
}
