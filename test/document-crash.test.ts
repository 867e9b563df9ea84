// Crash safety of documents (issue 12 item 4): the app is SIGKILLed while uploads and deletes are held at
// chosen storage requests, then started again on the same data. After the start-up repair, for every
// document the listing, the stored file (/api/content) and the index must agree: the index holds exactly
// the listed number of chunks, all from the version the file is.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startApp, uniqueName, type RunningApp } from './support/app.js';
import { startHoldingProxy, type HoldingProxy } from './support/holding-proxy.js';

interface Row { name: string; chunks: number }
interface StoredChunk { sourcefile: string; content: string }

/** A text whose every chunk names its version, so the index can be checked against the stored file. */
const versionText = (version: string, sentences: number) =>
  Array.from({ length: sentences }, (_, index) => `Rule ${index} of the ${version} edition says staff keep desks tidy and lock screens. `).join('');

describe('documents after a SIGKILL at chosen points of upload and delete', () => {
  let cwd: string;
  let proxy: HoldingProxy;
  let connection: string;
  const container = uniqueName('crash').toLowerCase().slice(0, 60);

  beforeAll(async () => {
    cwd = await mkdtemp(path.join(tmpdir(), 'crash-'));
    const original = inject('storageConnection');
    const blobEndpoint = /BlobEndpoint=([^;]+)/.exec(original)?.[1];
    proxy = await startHoldingProxy(new URL(blobEndpoint ?? ''));
    connection = original.replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=${proxy.url}`);
  });
  afterAll(async () => {
    await proxy?.close();
    await rm(cwd, { recursive: true, force: true });
  });

  const start = () => startApp({ AzureWebJobsStorage: connection, CONTENT_CONTAINER: container }, { cwd });
  const upload = (app: RunningApp, name: string, text: string) =>
    fetch(`${app.baseUrl}/documents?name=${encodeURIComponent(name)}`, { method: 'POST', body: text, headers: { 'Content-Type': 'text/plain' } });
  const indexFile = async () => (JSON.parse(await readFile(path.join(cwd, '.data/search-index.json'), 'utf8')) as { chunks: StoredChunk[] }).chunks;

  /** For every document: agreement of listing, file and index; undefined when they agree. */
  async function disagreements(app: RunningApp, names: string[]): Promise<string[]> {
    const rows = (await (await fetch(`${app.baseUrl}/documents`)).json()) as Row[];
    const chunks = await indexFile();
    const problems: string[] = [];
    for (const name of names) {
      const row = rows.find((candidate) => candidate.name === name);
      const indexed = chunks.filter((chunk) => chunk.sourcefile === name);
      const content = await fetch(`${app.baseUrl}/content/${encodeURIComponent(name)}`);
      const text = content.status === 200 ? await content.text() : undefined;
      if (row == null) {
        if (text != null) problems.push(`${name}: not listed but served`);
        if (indexed.length > 0) problems.push(`${name}: not listed but ${indexed.length} chunks indexed`);
        continue;
      }
      if (text == null) problems.push(`${name}: listed but not served`);
      if (indexed.length !== row.chunks) problems.push(`${name}: listed with ${row.chunks} chunks, ${indexed.length} indexed`);
      const edition = /of the (\w+) edition/.exec(text ?? '')?.[1];
      const stale = indexed.filter((chunk) => !chunk.content.includes(`${edition} edition`));
      if (stale.length > 0) problems.push(`${name}: ${stale.length} indexed chunks are not from the stored (${edition}) version`);
    }
    return problems;
  }

  it('agrees everywhere after the restart, whichever step each operation was killed at', { timeout: 180_000 }, async () => {
    const names = ['alpha.txt', 'beta.txt', 'gamma.txt', 'delta.txt', 'epsilon.txt'];
    const first = await start();
    try {
      for (const name of names) expect((await upload(first, name, versionText('first', 40))).status).toBe(201);
      const base = `/${container}/`;
      const holds = [
        // re-ingest: the new file was written, the app never heard back (then: the old chunks must go)
        proxy.hold('PUT', `${base}alpha.txt`, 'hold-response'),
        // delete: the file delete never reached storage (then: nothing may be removed from the index)
        proxy.hold('DELETE', `${base}beta.txt`, 'hold-request'),
        // re-ingest: the new chunks are indexed, the file write never reached storage (then: they must go)
        proxy.hold('PUT', `${base}gamma.txt`, 'hold-request'),
        // delete: the file is gone, the app never heard back (then: its chunks must go)
        proxy.hold('DELETE', `${base}delta.txt`, 'hold-response'),
        // re-ingest finished except for releasing the lock
        proxy.hold('DELETE', `${base}.locks/epsilon.txt`, 'hold-request'),
      ];
      const inFlight = [
        upload(first, 'alpha.txt', versionText('second', 12)),
        fetch(`${first.baseUrl}/documents/beta.txt`, { method: 'DELETE' }),
        upload(first, 'gamma.txt', versionText('second', 12)),
        fetch(`${first.baseUrl}/documents/delta.txt`, { method: 'DELETE' }),
        upload(first, 'epsilon.txt', versionText('second', 12)),
      ].map((request) => request.catch(() => undefined));
      await Promise.all(holds.map((hold) => hold.reached));
      const exited = new Promise((resolve) => first.process.once('exit', resolve));
      first.process.kill('SIGKILL');
      await exited;
      await Promise.all(inFlight);
    } finally {
      await first.stop();
    }
    proxy.clear();

    const second = await start();
    try {
      // The repair runs in the background once the crashed process's leases (15 s) have run out.
      let problems = await disagreements(second, names);
      for (let attempt = 0; attempt < 120 && problems.length > 0; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        problems = await disagreements(second, names);
      }
      expect(problems).toEqual([]);
      const rows = (await (await fetch(`${second.baseUrl}/documents`)).json()) as Row[];
      expect(rows.map((row) => row.name).sort()).toEqual(['alpha.txt', 'beta.txt', 'epsilon.txt', 'gamma.txt']);
      expect(await (await fetch(`${second.baseUrl}/content/alpha.txt`)).text()).toContain('second edition');
      expect(await (await fetch(`${second.baseUrl}/content/gamma.txt`)).text()).toContain('first edition');
      // And the names work again: no lock is left behind.
      expect((await upload(second, 'gamma.txt', versionText('third', 5))).status).toBe(201);
      expect((await fetch(`${second.baseUrl}/documents/beta.txt`, { method: 'DELETE' })).status).toBe(204);
      expect(await disagreements(second, names)).toEqual([]);
    } finally {
      await second.stop();
    }
  });
});
