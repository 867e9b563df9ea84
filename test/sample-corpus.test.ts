import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareChunks } from '../src/ingest/prepare.js';
import { LocalIndex } from '../src/search/local-index.js';
import { repoRoot } from './support/app.js';

const dataDir = path.join(repoRoot, 'data');

describe('the sample corpus in data/', () => {
  let directory: string;
  let index: LocalIndex;
  let pages = 0;
  let files: string[] = [];

  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'corpus-'));
    index = new LocalIndex(directory);
    files = (await readdir(dataDir)).sort();
    for (const file of files) {
      const prepared = await prepareChunks({ name: file, bytes: await readFile(path.join(dataDir, file)) }, { bytes: 25 * 1024 * 1024, pages: 2_000, textChars: 5_000_000 });
      pages += prepared.pages;
      await index.upsert(prepared.chunks);
    }
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  it('has at least three documents, two of them PDFs, and at least 30 pages', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(files.filter((file) => file.endsWith('.pdf')).length).toBeGreaterThanOrEqual(2);
    expect(pages).toBeGreaterThanOrEqual(30);
  });

  it.each([
    ['Does my plan cover annual eye exams?', 'kestrel-health-select.pdf#page=7', /annual eye exam.*10 dollars/s],
    ['What is my deductible?', 'kestrel-health-select.pdf#page=3', /in-network deductible is 1,250 dollars/],
    ['How do I switch roles?', 'role-library.pdf#page=9', /internal transfer form/],
  ])('ranks the page that answers "%s" first', async (question, sourcepage, answer) => {
    const [top] = await index.search(question, { top: 3, mode: 'text' });
    expect(top?.sourcepage).toBe(sourcepage);
    expect(top?.content).toMatch(answer);
  });
});
