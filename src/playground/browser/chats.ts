// Stateful chats: PUT (create/reset with instructions, skills and client tools), streamed turns that show
// tool calls as they run, the client-tool round trip (this page answers the call), GET state and DELETE.

import { ApiError, apiFetch, ensureOk, isRecord, readSse, streamError } from './api.js';
import { asText, el, renderMarkdown } from './render.js';
import { byId, contentHref, panel, submitOnCtrlEnter, type Panel } from './ui.js';

interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

const SAMPLE_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The current weather in a city. The user answers it in the playground.',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

function toolCalls(value: unknown): ToolCall[] {
  if (!isRecord(value) || !Array.isArray(value.toolCalls)) return [];
  return value.toolCalls.filter(isRecord).map((call) => ({
    id: String(call.id ?? ''),
    name: String(call.name ?? ''),
    arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}),
  }));
}

export function initChats(): void {
  const chatPanel = panel('panel-chats');
  const setup = byId<HTMLFormElement>('chat-setup');
  const chatId = byId<HTMLInputElement>('chat-id');
  const instructions = byId<HTMLTextAreaElement>('chat-instructions');
  const tools = byId<HTMLTextAreaElement>('chat-tools');
  const log = byId<HTMLOListElement>('chat-log');
  const sendForm = byId<HTMLFormElement>('chat-send');
  const message = byId<HTMLTextAreaElement>('chat-message');
  const stateJson = byId('chat-state-json');
  chatId.value = `playground-${Math.random().toString(36).slice(2, 8)}`;
  submitOnCtrlEnter(message);

  const id = () => encodeURIComponent(chatId.value.trim());
  const entry = (role: string, ...children: (Node | string)[]) => {
    const item = el('li', { class: role }, el('p', { class: 'role' }, role), ...children);
    log.append(item);
    item.scrollIntoView({ block: 'nearest' });
    return item;
  };

  byId('chat-sample-tool').addEventListener('click', () => {
    let current: unknown[] = [];
    try {
      const parsed: unknown = JSON.parse(tools.value || '[]');
      if (Array.isArray(parsed)) current = parsed;
    } catch {
      // replaced by the sample below
    }
    const names = current.map((tool) => (isRecord(tool) && isRecord(tool.function) ? tool.function.name : undefined));
    if (!names.includes(SAMPLE_TOOL.function.name)) current.push(SAMPLE_TOOL);
    tools.value = JSON.stringify(current, null, 2);
  });

  async function refreshState(signal?: AbortSignal): Promise<void> {
    const response = await ensureOk(await apiFetch(`chats/${id()}`, signal == null ? {} : { signal }));
    const state: unknown = await response.json();
    stateJson.textContent = asText(state);
  }

  setup.addEventListener('submit', (event) => {
    event.preventDefault();
    void chatPanel.run(async (signal) => {
      const body: Record<string, unknown> = { instructions: instructions.value.trim() === '' ? null : instructions.value };
      const skills = [...setup.querySelectorAll<HTMLInputElement>('input[name="skill"]:checked')].map((box) => box.value);
      if (skills.length > 0) body.skills = skills;
      if (tools.value.trim() !== '') {
        try {
          body.tools = JSON.parse(tools.value) as unknown;
        } catch (error) {
          throw new ApiError(0, 'invalid_tools', `Client tools are not valid JSON: ${(error as Error).message}`);
        }
      }
      await ensureOk(await apiFetch(`chats/${id()}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal,
      }));
      log.replaceChildren();
      const what = [skills.length > 0 ? `skills: ${skills.join(', ')}` : 'no skills', Array.isArray(body.tools) ? `${body.tools.length} client tool(s)` : 'no client tools'];
      entry('system', `Chat "${chatId.value}" created (${what.join('; ')}).`);
      await refreshState(signal);
    });
  });

  byId('chat-refresh').addEventListener('click', () => {
    void chatPanel.run(async (signal) => {
      await refreshState(signal);
      byId<HTMLDetailsElement>('chat-state').open = true;
    });
  });

  byId('chat-delete').addEventListener('click', () => {
    void chatPanel.run(async (signal) => {
      await ensureOk(await apiFetch(`chats/${id()}`, { method: 'DELETE', signal }));
      log.replaceChildren();
      entry('system', `Chat "${chatId.value}" deleted.`);
      await refreshState(signal);
    });
  });

  sendForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = message.value;
    void chatPanel.run(async (signal) => {
      const sent = entry('user', el('div', { class: 'answer' }, text));
      message.value = '';
      try {
        await streamTurn(chatPanel, { message: text }, signal);
      } catch (error) {
        // Refused before the turn started (409 while tool outputs are pending, 404, 413, ...): the message is
        // not part of the chat, so it leaves the transcript and goes back into the box.
        if (error instanceof ApiError && error.status !== 200) {
          sent.remove();
          if (message.value === '') message.value = text;
        }
        throw error;
      }
    });
  });

  /** One turn (a message or tool outputs), streamed; tool calls appear as they start and finish. */
  async function streamTurn(owner: Panel, body: unknown, signal: AbortSignal): Promise<void> {
    const response = await ensureOk(await apiFetch(`chats/${id()}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify(body),
      signal,
    }));
    if ((response.headers.get('content-type') ?? '').includes('application/json')) {
      // Without streaming the server answers a paused turn as JSON.
      const paused: unknown = await response.json();
      showToolForm(owner, toolCalls(paused));
      return;
    }
    const answer = el('div', { class: 'answer' });
    const meta = el('p', { class: 'meta' });
    let reply: HTMLElement | undefined;
    let text = '';
    const toolItems = new Map<string, HTMLElement>();
    for await (const { event, data } of readSse(response)) {
      const failure = streamError(data);
      if (event === 'error' || failure != null) throw failure ?? new Error(String(data));
      if (event === 'message' && isRecord(data) && typeof data.content === 'string') {
        reply ??= entry('assistant', answer, meta);
        text += data.content;
        renderMarkdown(answer, text, { citationHref: contentHref });
      } else if (event === 'tool_call' && isRecord(data)) {
        const client = data.runsOn === 'client';
        const status = el('span', { class: 'meta' }, client ? 'waiting for your output below' : 'running…');
        const item = entry('tool', el('strong', {}, `${String(data.name)}`), ` (${String(data.runsOn ?? 'server')}) `, status);
        if (data.arguments != null) item.append(el('pre', {}, asText(data.arguments)));
        toolItems.set(String(data.id), item);
        if (client) clientCalls.set(String(data.id), status);
        reply = undefined;
        text = '';
      } else if (event === 'tool_result' && isRecord(data)) {
        const item = toolItems.get(String(data.id)) ?? entry('tool', el('strong', {}, String(data.name)), ' ', el('span', { class: 'meta' }));
        const status = item.querySelector('.meta');
        if (status != null) status.textContent = `${data.ok === false ? `failed: ${String(data.error ?? '')}` : 'done'}${typeof data.durationMs === 'number' ? ` in ${data.durationMs} ms` : ''}`;
        if (data.content != null) item.append(el('details', {}, el('summary', {}, 'result'), el('pre', {}, asText(data.content))));
      } else if (event === 'requires_action') {
        showToolForm(owner, toolCalls(data));
      } else if (event === 'done') {
        const usage = isRecord(data) && isRecord(data.usage) ? data.usage : undefined;
        const parts: string[] = [];
        if (isRecord(data) && data.stored === false) parts.push('not stored');
        if (usage != null) parts.push(`tokens: ${String(usage.promptTokens ?? '?')} in, ${String(usage.completionTokens ?? '?')} out`);
        meta.textContent = parts.join(' · ');
      } else {
        // An event this page does not know yet: shown as it came.
        entry('tool', el('strong', {}, event), el('pre', {}, asText(data)));
      }
    }
    await refreshState(signal).catch(() => undefined);
  }

  /** Status lines of client tool calls still waiting for the output this page sends. */
  const clientCalls = new Map<string, HTMLElement>();

  /** The model called client tools: the page is the client, so the user types each output. */
  function showToolForm(owner: Panel, calls: ToolCall[]): void {
    if (calls.length === 0) return;
    const form = el('form', { class: 'tool-form' });
    const outputs = calls.map((call, index) => {
      const field = el('textarea', { id: `tool-output-${call.id}-${index}`, rows: '2', required: '' });
      submitOnCtrlEnter(field);
      form.append(
        el('p', {}, 'The model called the client tool ', el('strong', {}, call.name), ' with'),
        el('pre', {}, call.arguments),
        el('label', { for: field.id }, `Output for ${call.name}`),
        field,
      );
      return { call, field };
    });
    const submit = el('button', { type: 'submit' }, 'Send tool output');
    form.append(el('div', { class: 'row' }, submit));
    const item = entry('tool', form);
    outputs[0]?.field.focus();
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void owner.run(async (signal) => {
        const toolOutputs = outputs.map(({ call, field }) => ({ toolCallId: call.id, output: field.value }));
        await streamTurn(owner, { toolOutputs }, signal);
        for (const { call } of outputs) {
          const status = clientCalls.get(call.id);
          if (status != null) status.textContent = 'answered by this page';
          clientCalls.delete(call.id);
        }
        item.replaceChildren(el('p', { class: 'role' }, 'tool'), ...outputs.map(({ call, field }) => el('p', {}, el('strong', {}, call.name), ` answered: ${field.value}`)));
      });
    });
  }
}
