// Small pieces the panels share: a panel's parts, running one request at a time with Stop, Ctrl+Enter.

import { apiUrl } from './api.js';
import { showError } from './render.js';

export function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (node == null) throw new Error(`the page has no #${id}`);
  return node as T;
}

export interface Panel {
  root: HTMLElement;
  error: HTMLElement;
  /** Runs `work` with the panel's submit buttons disabled, its Stop button live, errors shown. */
  run(work: (signal: AbortSignal) => Promise<void>): Promise<void>;
}

export function panel(id: string): Panel {
  const root = byId(id);
  const error = root.querySelector<HTMLElement>('.error[role="alert"]');
  if (error == null) throw new Error(`#${id} has no error box`);
  // Work in flight (a streamed turn, then a state refresh, ...): Stop aborts all of it; a new action does not
  // cancel the one before it.
  const active = new Set<AbortController>();
  const stops = [...root.querySelectorAll<HTMLButtonElement>('[data-stop]')];
  const setBusy = (busy: boolean) => {
    root.querySelectorAll<HTMLButtonElement>('button[type="submit"]').forEach((button) => (button.disabled = busy));
    stops.forEach((button) => (button.disabled = !busy));
    if (busy) root.setAttribute('aria-busy', 'true');
    else root.removeAttribute('aria-busy');
  };
  stops.forEach((stop) => stop.addEventListener('click', () => active.forEach((controller) => controller.abort())));
  setBusy(false);
  return {
    root,
    error,
    async run(work) {
      const controller = new AbortController();
      active.add(controller);
      setBusy(true);
      showError(error, undefined);
      try {
        await work(controller.signal);
      } catch (failure) {
        showError(error, controller.signal.aborted ? 'Stopped.' : failure);
      } finally {
        active.delete(controller);
        if (active.size === 0) setBusy(false);
      }
    },
  };
}

/** Ctrl+Enter (or Cmd+Enter) in a textarea submits its form. */
export function submitOnCtrlEnter(textarea: HTMLTextAreaElement): void {
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      textarea.form?.requestSubmit();
    }
  });
}

const DOCUMENT_CITATION = /^([^\s/\\#]+\.(?:pdf|md|markdown|txt|html?))(#page=(\d+))?$/i;

/** `/api/content/<name>#page=N` for a citation such as `benefits.pdf#page=2`; undefined when it is not one. */
export function contentHref(citation: string): string | undefined {
  const match = DOCUMENT_CITATION.exec(citation.trim());
  if (match?.[1] == null) return undefined;
  return `${apiUrl(`content/${encodeURIComponent(match[1])}`)}${match[3] == null ? '' : `#page=${match[3]}`}`;
}
