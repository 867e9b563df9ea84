// What a streamed answer is made of, independent of the wire format. Services (model, chats, rag) yield
// these; one writer per wire format (http/streams.ts: SSE, NDJSON) turns them into bytes.

/**
 * `done.data` is the payload of the final event (finish reason, usage, chat state). `error` ends a stream that
 * already started: writers send it as the last event/line (API.md § Streaming). A thrown error is treated the same.
 */
export type StreamEvent =
  | { type: 'delta'; content: string }
  | { type: 'context'; data: Record<string, unknown> }
  | { type: 'done'; data: Record<string, unknown> }
  /** Chat turns with tools (API.md § Tools in chats): a call starts, a call finished, the turn waits for the client. */
  | { type: 'tool_call' | 'tool_result' | 'requires_action'; data: Record<string, unknown> }
  | { type: 'error'; error: unknown };
