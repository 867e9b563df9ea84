// A model that really drives tools, for the fake model server (fake-model.ts): given tools, it calls the one
// the user's message names, with arguments derived from the message, then answers from the tool results.
//
// What a user message can ask of it:
//   "Add a new todo item: Buy milk"          → todo_add {"title": "Buy milk"} (the extension's sample)
//   "What is on my todo list?"               → todo_list {}
//   "Search the documents for dental care"   → search_documents {"query": "dental care"}
//   any other question ending in "?"         → search_documents with the question, when it is on offer
//   "What is the weather in Seattle?"        → get_weather {"city": "Seattle"} (a client tool in examples)
//   "call NAME({...json...})", several times → those calls, all in one message (parallel calls); unknown
//                                              names and invalid arguments are sent as written
//   "... loop forever"                       → calls its first call again every round, even when told
//                                              tool_choice "none" (to hit CHAT_MAX_TOOL_ROUNDS)
// After tool results it answers from them: each result's text, and for search_documents passages a sentence
// citing the first passage's [sourcepage] plus one invented citation, which the app must remove.
import type { ChatBody, Reply, Responder } from './fake-model.js';

export interface DrivenCall {
  name: string;
  arguments: string;
}

const textOf = (content: unknown): string => (typeof content === 'string' ? content : content == null ? '' : JSON.stringify(content));

/** The invented citation every documents answer carries; it names nothing that was retrieved. */
export const INVENTED_CITATION = 'made-up-policy.pdf#page=9';

/** `call name({...})` directives, with balanced JSON arguments (strings may hold parentheses). */
export function directives(message: string): DrivenCall[] {
  const calls: DrivenCall[] = [];
  const pattern = /call ([A-Za-z0-9_-]+)\(/g;
  for (let match = pattern.exec(message); match != null; match = pattern.exec(message)) {
    let depth = 0;
    let inString = false;
    let end = match.index + match[0].length;
    for (; end < message.length; end++) {
      const char = message[end];
      if (inString) {
        if (char === '\\') end++;
        else if (char === '"') inString = false;
      } else if (char === '"') inString = true;
      else if (char === '{' || char === '[') depth++;
      else if (char === '}' || char === ']') depth--;
      else if (char === ')' && depth <= 0) break;
    }
    calls.push({ name: match[1]!, arguments: message.slice(match.index + match[0].length, end) });
    pattern.lastIndex = end;
  }
  return calls;
}

/** The calls a user message asks for, given the tools on offer. */
export function callsFor(message: string, tools: string[]): DrivenCall[] {
  const explicit = directives(message);
  if (explicit.length > 0) return explicit;
  const todo = /add (?:a )?(?:new )?todo item:\s*(.+)$/i.exec(message);
  if (todo != null && tools.includes('todo_add')) return [{ name: 'todo_add', arguments: JSON.stringify({ title: todo[1]!.trim() }) }];
  if (/todo list/i.test(message) && tools.includes('todo_list')) return [{ name: 'todo_list', arguments: '{}' }];
  const search = /search the documents for (.+?)[.?]?$/i.exec(message);
  if (search != null && tools.includes('search_documents')) return [{ name: 'search_documents', arguments: JSON.stringify({ query: search[1]!.trim() }) }];
  const weather = /weather in ([A-Za-z][A-Za-z .'-]*?)[.?!]*$/i.exec(message);
  if (weather != null && tools.includes('get_weather')) return [{ name: 'get_weather', arguments: JSON.stringify({ city: weather[1]!.trim() }) }];
  if (message.trim().endsWith('?') && tools.includes('search_documents')) return [{ name: 'search_documents', arguments: JSON.stringify({ query: message.trim() }) }];
  return [];
}

interface Passage {
  sourcepage: string;
  content: string;
}

function passagesIn(result: string): Passage[] | undefined {
  try {
    const parsed: unknown = JSON.parse(result);
    if (typeof parsed === 'object' && parsed != null && 'passages' in parsed && Array.isArray(parsed.passages)) return parsed.passages as Passage[];
  } catch {
    // Not JSON: answered as plain text.
  }
  return undefined;
}

/** The answer after tool results: what each said, and documents answers with citations. */
function answerFrom(results: string[]): string {
  const parts = results.map((result) => {
    const passages = passagesIn(result);
    if (passages == null) return `Tool said: ${result}`;
    const first = passages[0];
    if (first == null) return 'The documents do not say.';
    return `${first.content.slice(0, 120)} [${first.sourcepage}] [${INVENTED_CITATION}]`;
  });
  return parts.join('\n');
}

/** Wraps a responder: with tools on offer it drives them, without it defers to `fallback` (echo by default). */
export function toolDriver(fallback: Responder, options: { toolCallStyle?: Reply['toolCallStyle'] } = {}): Responder {
  return (body: ChatBody): Reply => {
    const tools = (body.tools ?? []).map((tool) => tool.function.name);
    const messages = body.messages;
    const lastUser = [...messages].reverse().find((message) => message.role === 'user');
    const userText = textOf(lastUser?.content);
    const trailing: string[] = [];
    for (let index = messages.length - 1; index >= 0 && messages[index]?.role === 'tool'; index--) trailing.unshift(textOf(messages[index]?.content));
    const forever = /loop forever/i.test(userText);
    const wanted = callsFor(userText, tools);
    const style = options.toolCallStyle === undefined ? {} : { toolCallStyle: options.toolCallStyle };
    if (forever && wanted.length > 0) return { toolCalls: [wanted[0]!], ...style };
    if (trailing.length > 0) return { content: answerFrom(trailing) };
    if (tools.length === 0 || body.tool_choice === 'none' || wanted.length === 0) return fallback(body);
    return { toolCalls: wanted, ...style };
  };
}
