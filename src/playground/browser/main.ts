// The playground's entry module: tabs (arrow keys move between them), the status line from /api/health,
// the function-key button, and each feature panel.

import { apiFetch, askForKey, isRecord } from './api.js';
import { initAsk } from './ask.js';
import { initChats } from './chats.js';
import { initDocuments } from './documents.js';
import { initRag } from './rag.js';
import { byId } from './ui.js';

function initTabs(onShow: (panelId: string) => void): void {
  const tabs = [...document.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
  const select = (tab: HTMLButtonElement, focus: boolean) => {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute('aria-selected', String(selected));
      other.tabIndex = selected ? 0 : -1;
      byId(other.getAttribute('aria-controls') ?? '').hidden = !selected;
    }
    if (focus) tab.focus();
    history.replaceState(null, '', `#${tab.id.replace(/^tab-/, '')}`);
    onShow(tab.getAttribute('aria-controls') ?? '');
  };
  tabs.forEach((tab, index) => {
    tab.addEventListener('click', () => select(tab, false));
    tab.addEventListener('keydown', (event) => {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (step === 0) return;
      event.preventDefault();
      const next = tabs[(index + step + tabs.length) % tabs.length];
      if (next != null) select(next, true);
    });
  });
  const initial = tabs.find((tab) => tab.id === `tab-${location.hash.slice(1)}`);
  if (initial != null) select(initial, false);
}

async function showStatus(): Promise<void> {
  const status = byId('status');
  try {
    const response = await apiFetch('health');
    const health: unknown = await response.json();
    if (!isRecord(health)) throw new Error('unexpected answer');
    const model = isRecord(health.model) ? health.model : {};
    const search = isRecord(health.search) ? health.search : {};
    const parts = [
      `status ${String(health.status)}`,
      model.chatModel == null ? 'no model configured' : `model ${String(model.provider ?? '')} ${String(model.chatModel)}`,
      `search ${String(search.backend ?? '?')}${search.documents == null ? '' : ` (${String(search.documents)} chunks)`}`,
    ];
    status.textContent = parts.join(' · ');
  } catch (error) {
    status.textContent = `Health check failed: ${String(error)}`;
  }
}

const documents = initDocuments();
let documentsLoaded = false;
initTabs((panelId) => {
  if (panelId === 'panel-docs' && !documentsLoaded) {
    documentsLoaded = true;
    void documents.refresh();
  }
});
initAsk();
initChats();
initRag();
byId('key-button').addEventListener('click', () => void askForKey('Replace the function key this page sends.'));
void showStatus();
document.documentElement.dataset.ready = 'true';
