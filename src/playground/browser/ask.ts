// Ask: POST /api/ask with Accept: text/event-stream, the answer rendered as it streams.

import { apiFetch, ensureOk, readSse, streamError, isRecord } from './api.js';
import { renderMarkdown } from './render.js';
import { byId, panel, submitOnCtrlEnter } from './ui.js';

export function initAsk(): void {
  const askPanel = panel('panel-ask');
  const form = byId<HTMLFormElement>('ask-form');
  const prompt = byId<HTMLTextAreaElement>('ask-prompt');
  const answer = byId('ask-answer');
  const meta = byId('ask-meta');
  submitOnCtrlEnter(prompt);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void askPanel.run(async (signal) => {
      try {
        await streamAnswer(signal);
      } catch (error: unknown) {
        // The waiting notice would otherwise stay beside the error.
        meta.textContent = '';
        throw error;
      }
    });
  });

  async function streamAnswer(signal: AbortSignal): Promise<void> {
    answer.replaceChildren();
    meta.textContent = 'Waiting for the model…';
    const started = performance.now();
    const response = await ensureOk(await apiFetch('ask', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify({ prompt: prompt.value }),
      signal,
    }));
    let text = '';
    let firstAt: number | undefined;
    for await (const { event, data } of readSse(response)) {
      const failure = streamError(data);
      if (event === 'error' || failure != null) throw failure ?? new Error(String(data));
      if (event === 'done') {
        const usage = isRecord(data) && isRecord(data.usage) ? data.usage : undefined;
        const parts = [`finish: ${isRecord(data) ? String(data.finishReason) : '?'}`];
        if (usage != null) parts.push(`tokens: ${String(usage.promptTokens ?? usage.prompt_tokens ?? '?')} in, ${String(usage.completionTokens ?? usage.completion_tokens ?? '?')} out`);
        parts.push(`first token ${Math.round((firstAt ?? performance.now()) - started)} ms, total ${Math.round(performance.now() - started)} ms`);
        meta.textContent = parts.join(' · ');
      } else if (isRecord(data) && typeof data.content === 'string') {
        firstAt ??= performance.now();
        text += data.content;
        renderMarkdown(answer, text);
        meta.textContent = 'Streaming…';
      }
    }
  }
}
