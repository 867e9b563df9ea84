import type { ToolDefinition } from '../model/types.js';

// Prompt text lives here and nowhere else.

export const ANSWER_SYSTEM_PROMPT = [
  'You answer questions from employees using their company\'s own documents (handbook, benefits, roles and policies).',
  'Use only the facts in the sources listed with the question. If they do not hold the answer, say that you do not know; do not guess.',
  'Keep answers short and concrete. Ask a clarifying question when the question is ambiguous.',
  'Each source starts with its name, a colon, then its text. After every fact you use, cite its source name in square brackets, for example [benefits.pdf#page=3].',
  'Cite each source separately, for example [handbook.md][roles.pdf#page=2], never several names in one pair of brackets.',
  'If an image is attached, use what it shows together with the sources.',
].join('\n');

export const FOLLOWUP_INSTRUCTIONS = [
  'After the answer, suggest three short follow-up questions the user might ask next about their documents.',
  'Put each in double angle brackets, for example: <<Is dental care included?>> <<Who approves a role change?>>',
  'Do not repeat questions that were already asked. Nothing may follow the last question.',
].join('\n');

export const QUERY_SYSTEM_PROMPT = [
  'You turn the latest question of a conversation into a keyword search query for a knowledge base of company documents (benefits, handbook, roles).',
  'Call the search_sources tool with the query. Leave out source file names and document names, and any text in [] or <<>>.',
  'Use the earlier conversation only to resolve what the latest question refers to.',
  'If no query can be made, answer with the single character 0.',
].join('\n');

export const SEARCH_TOOL: ToolDefinition = {
  type: 'function',
  function: {
    name: 'search_sources',
    description: 'Retrieve passages from the company documents search index',
    parameters: {
      type: 'object',
      properties: {
        search_query: { type: 'string', description: 'Search query, for example: dental coverage for children' },
      },
      required: ['search_query'],
    },
  },
};

/** Token cap for the query-rewrite call: a query is a handful of words. */
export const QUERY_MAX_TOKENS = 100;

/**
 * The system prompt for the answer. `prompt_template` replaces it; one starting with `>>>` is injected
 * into it instead (after our instructions, before the follow-up instructions).
 */
export function answerSystemPrompt(template: string | null | undefined, followups: boolean): string {
  const extra = followups ? `\n\n${FOLLOWUP_INSTRUCTIONS}` : '';
  if (template == null || template.trim() === '') return ANSWER_SYSTEM_PROMPT + extra;
  if (template.startsWith('>>>')) return `${ANSWER_SYSTEM_PROMPT}\n\n${template.slice(3).trim()}${extra}`;
  return template + extra;
}

/** The latest question with its sources, as the user turn of the answer call. */
export function questionWithSources(question: string, sources: string[]): string {
  if (sources.length === 0) return question;
  return `${question}\n\nSources:\n${sources.join('\n')}`;
}
