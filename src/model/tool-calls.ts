import type { ToolCall } from './types.js';
import type { WireChunk } from './wire.js';

type ToolCallDelta = NonNullable<NonNullable<NonNullable<WireChunk['choices']>[number]['delta']>['tool_calls']>[number];

/**
 * Streamed tool calls as whole calls. OpenAI, Azure, vLLM and llama.cpp send a call's id and name in its first
 * delta and its arguments in pieces across later chunks, matched by `index`; Ollama sends each call whole in
 * one chunk (several calls in one message get indexes 0, 1, ...). A delta without index but with a new id
 * starts a call. (Written by the tools helper; moved here so the stream code stays small.)
 */
export class ToolCallAssembler {
  private readonly byIndex = new Map<number, ToolCall>();

  add(delta: ToolCallDelta): void {
    const known = [...this.byIndex.values()];
    const index =
      typeof delta.index === 'number'
        ? delta.index
        : delta.id != null && !known.some((call) => call.id === delta.id)
          ? this.byIndex.size
          : Math.max(0, this.byIndex.size - 1);
    const call = this.byIndex.get(index) ?? { id: '', name: '', arguments: '' };
    if (delta.id != null && delta.id !== '') call.id = delta.id;
    // Some servers repeat the name in every delta: the first one counts.
    if (delta.function?.name != null && call.name === '') call.name = delta.function.name;
    if (delta.function?.arguments != null) call.arguments += delta.function.arguments;
    this.byIndex.set(index, call);
  }

  calls(): ToolCall[] {
    return [...this.byIndex.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => ({ ...call, id: call.id === '' ? `call_${index}` : call.id }));
  }
}
