import type { ToolCall, ToolDefinition, Usage } from '../model/types.js';

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

/** The state row of a chat, parsed into our own type. */
export interface ChatState {
  chatId: string;
  /** Changes on every reset; message rows of other generations are invisible. */
  generation: string;
  /** The system message, or null for none. */
  instructions: string | null;
  createdAt: string;
  lastUpdatedAt: string;
  /**
   * Every stored message of this generation; also the sequence number of the newest one. Readers never look
   * past it, so rows are visible only once the state row that counts them is written.
   */
  totalMessages: number;
  /** Total tokens of the latest model call (the OpenAI extension's meaning). */
  totalTokens: number;
  /** Prompt tokens of every stored message of this generation (their `tokens` summed): the average sizes history pages. */
  messageTokens: number;
  /** Prompt tokens of the instructions, counted when PUT stored them; absent on older state rows (count them then). */
  instructionTokens?: number;
  /** Running totals over every model call of this chat. */
  usage: Usage;
  etag: string;
  /** The creator's identity when chats are per user (TRUST_CLIENT_PRINCIPAL); none for shared chats. Fixed at creation. */
  owner?: string;
  /** Rows of an earlier generation may remain: a sweep is due (after a reset, or an interrupted sweep). */
  sweepPending: boolean;
  /** What PUT configured: skills, client tools and model overrides (API.md § Tools in chats). */
  tools: ChatTools;
  /** Client tool calls the turn paused for; present until their outputs are posted. */
  pending?: PendingTools;
}

export interface ChatTools {
  skills: string[];
  clientTools: ToolDefinition[];
  temperature?: number;
  maxOutputTokens?: number;
}

export interface PendingTools {
  calls: ToolCall[];
  /** Model calls the paused turn already made (they count against CHAT_MAX_TOOL_ROUNDS). */
  rounds: number;
  /** Sources search_documents retrieved before the pause; citations of the final reply are checked against them. */
  sources?: string[];
  /** Set while one request is resuming the turn: a second client posting outputs gets 409. */
  claim?: { id: string; at: string };
}

export interface StoredMessage {
  sequence: number;
  role: ChatRole;
  content: string;
  createdAt: string;
  /** Prompt tokens this message costs, counted once when it was stored. */
  tokens: number;
  toolCalls: ToolCall[];
  /** The turn that stored it (absent on rows written before turns had ids, and on system messages). */
  turnId?: string;
  /** For `tool` messages: the call this is the result of. */
  toolCallId?: string;
  /** For a reply after search_documents: the sources the turn retrieved. */
  sources?: string[];
}

/** A message about to be stored by a turn. */
export interface NewMessage {
  role: ChatRole;
  content: string;
  tokens: number;
  /** An assistant message's tool calls. */
  toolCalls?: ToolCall[];
  toolCallId?: string;
  sources?: string[];
}
