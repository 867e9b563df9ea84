// Chat with your data: POST /api/chat/stream (NDJSON, Microsoft AI Chat Protocol). Answers stream in with
// their citations as links to the cited page, thoughts (collapsible, with token usage and timings),
// follow-up questions as buttons, and an optional image attachment.

import { apiFetch, ensureOk, isRecord, readNdjson, streamError } from './api.js';
import { asText, citationLink, el, renderMarkdown } from './render.js';
import { byId, contentHref, panel, submitOnCtrlEnter } from './ui.js';

interface Message {
  role: 'user' | 'assistant';
  content: string;
}

function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('could not read the image'));
    reader.readAsDataURL(file);
  });
}

function partsText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return asText(content);
  return content.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : isRecord(part) && part.type === 'image_url' ? '[image]' : asText(part))).join('\n');
}

/** A thought's description: prompts as their messages, search results as their sources, else as JSON. */
function describe(description: unknown): Node {
  if (Array.isArray(description) && description.every((item) => isRecord(item) && typeof item.role === 'string')) {
    return el('div', {}, ...description.filter(isRecord).map((message) =>
      el('div', { class: 'message-text' }, el('p', { class: 'role' }, String(message.role)), el('pre', {}, partsText(message.content)))));
  }
  if (Array.isArray(description) && description.every((item) => isRecord(item) && 'sourcepage' in item)) {
    return el('ol', {}, ...description.filter(isRecord).map((hit) =>
      el('li', {}, el('strong', {}, String(hit.sourcepage)), typeof hit.score === 'number' ? ` (score ${hit.score.toFixed(3)})` : '', el('pre', {}, String(hit.content ?? '')))));
  }
  return el('pre', {}, asText(description ?? ''));
}

function propText(name: string, value: unknown): string {
  if (isRecord(value) && ('prompt_tokens' in value || 'total_tokens' in value)) {
    return `${name}: ${String(value.prompt_tokens ?? '?')} prompt + ${String(value.completion_tokens ?? '?')} completion = ${String(value.total_tokens ?? '?')} tokens`;
  }
  return `${name}: ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`;
}

function renderThoughts(target: HTMLElement, thoughts: unknown): void {
  if (!Array.isArray(thoughts)) return;
  const items = thoughts.filter(isRecord).map((thought) => {
    const props = isRecord(thought.props) ? thought.props : {};
    return el(
      'div',
      { class: 'thought' },
      el('h4', {}, String(thought.title ?? '')),
      Object.keys(props).length > 0 ? el('div', { class: 'props' }, ...Object.entries(props).map(([name, value]) => el('span', {}, propText(name, value)))) : null,
      describe(thought.description),
    );
  });
  target.replaceChildren(el('summary', {}, `Thoughts (${items.length} steps)`), ...items);
}

export function initRag(): void {
  const ragPanel = panel('panel-rag');
  const form = byId<HTMLFormElement>('rag-form');
  const question = byId<HTMLTextAreaElement>('rag-question');
  const image = byId<HTMLInputElement>('rag-image');
  const preview = byId<HTMLImageElement>('rag-image-preview');
  const log = byId<HTMLOListElement>('rag-log');
  const history: Message[] = [];
  let sessionState: unknown = null;
  submitOnCtrlEnter(question);

  image.addEventListener('change', () => {
    const file = image.files?.[0];
    preview.hidden = file == null;
    if (file != null) preview.src = URL.createObjectURL(file);
  });

  byId('rag-clear').addEventListener('click', () => {
    history.length = 0;
    sessionState = null;
    log.replaceChildren();
  });

  function overrides(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const mode = byId<HTMLSelectElement>('rag-mode').value;
    if (mode !== '') result.retrieval_mode = mode;
    const top = Number(byId<HTMLInputElement>('rag-top').value);
    if (Number.isInteger(top) && top > 0) result.top = top;
    result.suggest_followup_questions = byId<HTMLInputElement>('rag-followups').checked;
    return result;
  }

  async function send(text: string, signal: AbortSignal): Promise<void> {
    const file = image.files?.[0];
    const attachment = file == null ? undefined : await readAsDataUrl(file);
    const user = el('li', { class: 'user' }, el('p', { class: 'role' }, 'you'), el('div', { class: 'answer' }, text));
    if (file != null) user.append(el('img', { src: preview.src, alt: `attached ${file.name}` }));
    log.append(user);
    const messages: Message[] = [...history, { role: 'user', content: text }];
    const response = await ensureOk(await apiFetch('chat/stream', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        messages,
        context: { overrides: overrides(), ...(attachment == null ? {} : { file: attachment }) },
        session_state: sessionState,
      }),
      signal,
    }));
    const answer = el('div', { class: 'answer' });
    const citations = el('ul', { class: 'citations', 'aria-label': 'Citations' });
    const followups = el('ul', { class: 'followups', 'aria-label': 'Follow-up questions' });
    const thoughts = el('details', { class: 'thoughts' });
    const item = el('li', { class: 'assistant' }, el('p', { class: 'role' }, 'assistant'), answer, citations, followups, thoughts);
    log.append(item);
    let known: string[] = [];
    let content = '';
    const citationHref = (citation: string) => (known.includes(citation) ? contentHref(citation) : undefined);
    for await (const line of readNdjson(response)) {
      const failure = streamError(line);
      if (failure != null) throw failure;
      if (!isRecord(line)) continue;
      if ('session_state' in line) sessionState = line.session_state;
      const context = isRecord(line.context) ? line.context : undefined;
      if (context != null && isRecord(context.data_points) && Array.isArray(context.data_points.citations)) {
        known = context.data_points.citations.map(String);
      }
      if (context?.thoughts != null) renderThoughts(thoughts, context.thoughts);
      if (Array.isArray(context?.followup_questions)) {
        followups.replaceChildren(...context.followup_questions.map((followup) => el('li', {}, followUpButton(String(followup)))));
      }
      const delta = isRecord(line.delta) ? line.delta : undefined;
      if (typeof delta?.content === 'string') {
        content += delta.content;
        renderMarkdown(answer, content, { citationHref });
      }
    }
    // The sources the answer actually cites, each a link to its page (in the browser's PDF viewer).
    const cited = known.filter((citation) => content.includes(`[${citation}]`));
    citations.replaceChildren(...cited.map((citation) => {
      const href = contentHref(citation);
      return el('li', {}, href == null ? citation : citationLink(citation, href));
    }));
    if (cited.length > 0) citations.prepend(el('li', { class: 'meta' }, 'Sources:'));
    history.push({ role: 'user', content: text }, { role: 'assistant', content });
    image.value = '';
    preview.hidden = true;
  }

  function followUpButton(text: string): HTMLButtonElement {
    const button = el('button', { type: 'button' }, text);
    button.addEventListener('click', () => {
      question.value = text;
      form.requestSubmit();
    });
    return button;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = question.value.trim();
    if (text === '') return;
    void ragPanel.run(async (signal) => {
      question.value = '';
      await send(text, signal);
    });
  });
}
