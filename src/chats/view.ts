import type { ToolCall, Usage } from '../model/types.js';
import type { ChatState, StoredMessage } from './types.js';

/** GET /api/chats/{chatId}: the OpenAI extension's assistant state (API.md), plus the running `usage`. */
export interface ChatStateView {
  id: string;
  exists: boolean;
  createdAt: string | null;
  lastUpdatedAt: string | null;
  totalMessages: number;
  totalTokens: number;
  recentMessages: { role: string; content: string; toolCalls: ToolCall[]; toolCallId?: string; sources?: string[] }[];
  /** Client tool calls the chat waits for (API.md § Tools in chats); only present while there are any. */
  pendingToolCalls?: ToolCall[];
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
    recentMessages: messages.map((message) => ({
      role: message.role,
      content: message.content,
      toolCalls: message.toolCalls,
      ...(message.toolCallId == null ? {} : { toolCallId: message.toolCallId }),
      ...(message.sources == null ? {} : { sources: message.sources }),
    })),
    ...(state.pending == null ? {} : { pendingToolCalls: state.pending.calls.map(({ id, name, arguments: args }) => ({ id, name, arguments: args })) }),
    usage: state.usage,
    ...(continuationToken == null ? {} : { continuationToken }),
  };
}
