import type { Usage } from '../model/types.js';
import type { ChatState, StoredMessage } from './types.js';

/** GET /api/chats/{chatId}: the OpenAI extension's assistant state (API.md), plus the running `usage`. */
export interface ChatStateView {
  id: string;
  exists: boolean;
  createdAt: string | null;
  lastUpdatedAt: string | null;
  totalMessages: number;
  totalTokens: number;
  recentMessages: { role: string; content: string; toolCalls: { id: string; name: string; arguments: string }[] }[];
  usage: Usage;
  /** Present when more messages follow this page (API.md § paging). */
  continuationToken?: string;
}

const iso = (value: string) => new Date(value).toISOString();

export function chatStateView(chatId: string, state: ChatState | undefined, messages: StoredMessage[], continuationToken?: string): ChatStateView {
  if (state == null) {
    return {
      id: chatId,
      exists: false,
      createdAt: null,
      lastUpdatedAt: null,
      totalMessages: 0,
      totalTokens: 0,
      recentMessages: [],
      usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    };
  }
  return {
    id: chatId,
    exists: true,
    createdAt: iso(state.createdAt),
    lastUpdatedAt: iso(state.lastUpdatedAt),
    totalMessages: state.totalMessages,
    totalTokens: state.totalTokens,
    recentMessages: messages.map((message) => ({ role: message.role, content: message.content, toolCalls: message.toolCalls })),
    usage: state.usage,
    ...(continuationToken == null ? {} : { continuationToken }),
  };
}
