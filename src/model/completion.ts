import type { StreamEvent } from '../streaming/events.js';
import type { CompletionRequest, ModelClient } from './types.js';

/** A streamed completion as response events: content deltas, then finish reason and usage. */
export async function* completionEvents(model: ModelClient, request: CompletionRequest): AsyncGenerator<StreamEvent> {
  for await (const event of model.stream(request)) {
    if (event.type === 'delta') yield event;
    else yield { type: 'done', data: { finishReason: event.finishReason, usage: event.usage ?? null } };
  }
}
