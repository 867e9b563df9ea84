import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { repoRoot, startApp, uniqueName } from './support/app.js';

const run = promisify(execFile);
const dataDir = path.join(repoRoot, 'data');

describe('npm run ingest (dist/scripts/ingest.js)', () => {
  let cwd: string;
  const container = uniqueName('cli').toLowerCase().slice(0, 60);
  beforeAll(async () => {
    cwd = await mkdtemp(path.join(tmpdir(), 'cli-'));
  });
  afterAll(() => rm(cwd, { recursive: true, force: true }));

  const ingest = (...args: string[]) =>
    run(process.execPath, [path.join(repoRoot, 'dist/scripts/ingest.js'), ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', AzureWebJobsStorage: inject('storageConnection'), CONTENT_CONTAINER: container },
    });

  it('ingests folders with a summary, and a re-run leaves the same index', { timeout: 120_000 }, async () => {
    const first = await ingest(dataDir);
    const summary = /Done: (\d+) files, (\d+) pages, (\d+) chunks/.exec(first.stdout);
    expect(summary?.slice(1).map(Number)).toEqual([5, expect.any(Number), expect.any(Number)]);
    expect(Number(summary?.[2])).toBeGreaterThanOrEqual(30);
    // Chunk ids carry the ingest version; the same files give the same chunks under new ids.
    const chunksOnDisk = async () =>
      (JSON.parse(await readFile(path.join(cwd, '.data/search-index.json'), 'utf8')) as { chunks: { id: string; content: string; sourcepage: string }[] }).chunks
        .map(({ content, sourcepage }) => `${sourcepage}\n${content}`)
        .sort();
    const before = await chunksOnDisk();
    expect(before).toHaveLength(Number(summary?.[3]));
    const second = await ingest(dataDir);
    expect(/Done: .*/.exec(second.stdout)?.[0]?.replace(/ in .*/, '')).toBe(/Done: .*/.exec(first.stdout)?.[0]?.replace(/ in .*/, ''));
    expect(await chunksOnDisk()).toEqual(before);
    expect((await readdir(path.join(cwd, '.data'))).filter((file) => file.endsWith('.tmp'))).toEqual([]);

    // The app started in the same folder finds the index and skips the first-start sample ingestion.
    const app = await startApp({ INGEST_SAMPLE_DATA: 'true', CONTENT_CONTAINER: container }, { cwd });
    try {
      const health = (await (await fetch(`${app.baseUrl}/health`)).json()) as { search: { documents: number } };
      expect(health.search.documents).toBe(Number(summary?.[3]));
      const documents = (await (await fetch(`${app.baseUrl}/documents`)).json()) as { name: string }[];
      expect(documents.map((document) => document.name)).toEqual((await readdir(dataDir)).sort());
      expect(app.output()).not.toContain('ingesting');
    } finally {
      await app.stop();
    }
  });

  it('reports a corrupt file and exits non-zero without stopping the others', async () => {
    const broken = path.join(cwd, 'broken.pdf');
    await writeFile(broken, '%PDF-1.7\n1 0 obj <<');
    const failure = await ingest(broken, path.join(dataDir, 'it-service-desk-faq.md')).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect('code' in failure ? failure.code : 0).toBe(1);
    expect(failure.stdout).toContain('Done: 1 files');
    expect(failure.stderr).toMatch(/Failed: .*broken\.pdf/);
  });
});

describe('first start with an empty local index', () => {
  it('ingests data/ in the background and logs it', async () => {
    const app = await startApp({ INGEST_SAMPLE_DATA: 'true', CONTENT_CONTAINER: uniqueName('first').toLowerCase().slice(0, 60) });
    try {
      for (let attempt = 0; attempt < 200 && !app.output().includes('Sample data'); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(app.output()).toMatch(/Local search index is empty: ingesting 5 sample documents/);
      expect(app.output()).toMatch(/Sample data indexed: 5 files, \d+ pages, \d+ chunks/);
      const health = (await (await fetch(`${app.baseUrl}/health`)).json()) as { search: { documents: number } };
      expect(health.search.documents).toBeGreaterThan(30);
    } finally {
      await app.stop();
    }
  });
});
