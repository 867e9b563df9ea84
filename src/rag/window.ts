import { AppError } from '../errors/index.js';
import { fitHistory, messageTokens, REPLY_PRIMING_TOKENS } from '../model/tokens.js';
import type { ChatMessage } from '../model/types.js';
import type { RagSettings } from './plan.js';
import type { ConversationMessage } from './request.js';

// The prompt window: system + the newest history that fits + the final user turn, within the context
// window and the history budget (the same window chats use, model/tokens).

/** Rough fixed cost of an attached image in prompt tokens (a 512-1024 px image at high detail). */
const IMAGE_TOKENS = 765;

export function toChatMessage(message: ConversationMessage, text = message.text): ChatMessage {
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

/** The messages of one model call, so that prompt + `outputTokens` fit; 400 when even the final turn does not. */
export function assemble(system: string, history: ConversationMessage[], finalTurn: ChatMessage, outputTokens: number, settings: RagSettings): ChatMessage[] {
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
