// Documents: upload (XMLHttpRequest, for upload progress events), list and delete.

import { apiFetch, apiUrl, askForKey, ensureOk, errorOf, isRecord, keyHeaders, needsKeyFirst } from './api.js';
import { el, formatBytes, showError } from './render.js';
import { byId, contentHref, panel, type Panel } from './ui.js';

/** Uploads `file`; like apiFetch, asks for the function key first in Azure and again after a 401. */
async function uploadWithKey(file: File, onProgress: (fraction: number) => void): Promise<Response> {
  if (needsKeyFirst()) await askForKey();
  const response = await upload(file, onProgress);
  if (response.status !== 401) return response;
  await askForKey('The app refused the upload (401): enter its function key.');
  return upload(file, onProgress);
}

/** POST /api/documents?name=... with the raw file, reporting progress; resolves with the response. */
function upload(file: File, onProgress: (fraction: number) => void): Promise<Response> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', apiUrl(`documents?name=${encodeURIComponent(file.name)}`));
    // A generic type lets the server go by the file extension (README: Documents and search).
    request.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    for (const [name, value] of Object.entries(keyHeaders())) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => resolve(new Response(request.responseText, {
      status: request.status,
      headers: { 'Content-Type': request.getResponseHeader('content-type') ?? 'text/plain' },
    }));
    request.onerror = () => reject(new Error(`Uploading ${file.name} failed: the connection broke.`));
    request.send(file);
  });
}

export function initDocuments(): { refresh(): Promise<void> } {
  const docsPanel = panel('panel-docs');
  const form = byId<HTMLFormElement>('doc-upload');
  const files = byId<HTMLInputElement>('doc-files');
  const progressList = byId<HTMLUListElement>('doc-progress');
  const list = byId<HTMLTableSectionElement>('doc-list');

  async function refresh(signal?: AbortSignal): Promise<void> {
    const response = await ensureOk(await apiFetch('documents', signal == null ? {} : { signal }));
    const documents: unknown = await response.json();
    if (!Array.isArray(documents)) throw new Error('GET /api/documents did not answer a list.');
    list.replaceChildren(...documents.filter(isRecord).map((doc) => row(docsPanel, doc)));
    if (documents.length === 0) list.append(el('tr', {}, el('td', { colspan: '6', class: 'meta' }, 'No documents yet.')));
  }

  function row(owner: Panel, doc: Record<string, unknown>): HTMLTableRowElement {
    const name = String(doc.name);
    const href = contentHref(name);
    const remove = el('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${name}` }, 'Delete');
    remove.addEventListener('click', () => {
      void owner.run(async (signal) => {
        await ensureOk(await apiFetch(`documents/${encodeURIComponent(name)}`, { method: 'DELETE', signal }));
        await refresh(signal);
      });
    });
    const indexed = typeof doc.indexedAt === 'string' ? new Date(doc.indexedAt).toLocaleString() : '';
    return el(
      'tr',
      {},
      el('td', {}, href == null ? name : el('a', { href, target: '_blank', rel: 'noopener noreferrer' }, name)),
      el('td', {}, String(doc.pages ?? '')),
      el('td', {}, String(doc.chunks ?? '')),
      el('td', {}, typeof doc.size === 'number' ? formatBytes(doc.size) : ''),
      el('td', { class: 'wide' }, indexed),
      el('td', {}, remove),
    );
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = [...(files.files ?? [])];
    void docsPanel.run(async () => {
      progressList.replaceChildren();
      const failures: string[] = [];
      for (const file of chosen) {
        const bar = el('progress', { max: '1', value: '0', 'aria-label': `Uploading ${file.name}` });
        const status = el('span', { class: 'meta' }, `${formatBytes(file.size)} · uploading…`);
        progressList.append(el('li', {}, el('span', {}, file.name), bar, status));
        const response = await uploadWithKey(file, (fraction) => {
          bar.value = fraction;
          if (fraction >= 1) status.textContent = `${formatBytes(file.size)} · splitting and indexing…`;
        });
        if (response.ok) {
          const result: unknown = await response.json();
          bar.value = 1;
          status.textContent = isRecord(result) ? `indexed: ${String(result.pages)} page(s), ${String(result.chunks)} chunk(s)` : 'indexed';
        } else {
          const error = await errorOf(response);
          status.textContent = `failed: ${error.toString()}`;
          failures.push(`${file.name}: ${error.toString()}`);
        }
      }
      files.value = '';
      await refresh();
      if (failures.length > 0) showError(docsPanel.error, failures.join('\n'));
    });
  });

  byId('doc-refresh').addEventListener('click', () => void docsPanel.run((signal) => refresh(signal)));
  return { refresh: () => docsPanel.run((signal) => refresh(signal)) };
}
