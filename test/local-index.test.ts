import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fuse, LocalIndex, topScores } from '../src/search/local-index.js';
import type { Chunk } from '../src/search/types.js';
import { fakeEmbedding } from './support/fake-model.js';

const chunk = (id: string, content: string, extra: Partial<Chunk> = {}): Chunk => ({
  id,
  content,
  sourcepage: `${extra.sourcefile ?? 'a.pdf'}#page=1`,
  sourcefile: 'a.pdf',
  oids: [],
  groups: [],
  embedding: fakeEmbedding(content),
  ...extra,
});

describe('LocalIndex', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'index-'));
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  const corpus = [
    chunk('eyes', 'Vision benefits cover one routine annual eye exam each year.', { category: 'benefits' }),
    chunk('teeth', 'Dental cleanings are covered twice a year.', { category: 'benefits' }),
    chunk('roles', 'To change teams, talk to your manager and apply internally.', { category: 'careers', sourcefile: 'roles.pdf' }),
    chunk('secret', 'Executive eye exam arrangements are set out in the private annex for directors, with travel notes.', { oids: ['user-1'], groups: ['execs'] }),
  ];

  it('ranks by BM25 with stop words dropped and plurals folded', async () => {
    const index = new LocalIndex(directory);
    await index.upsert(corpus);
    const hits = await index.search('Does my plan cover annual eye exams?', { top: 2, mode: 'text' });
    expect(hits[0]?.id).toBe('eyes');
    expect(hits[0]?.score).toBeGreaterThan(0);
    expect(await index.search('what is the', { top: 5, mode: 'text' })).toEqual([]);
  });

  it('applies category and security filters exactly', async () => {
    const index = new LocalIndex(directory);
    await index.upsert(corpus);
    const ids = async (options: Parameters<LocalIndex['search']>[1]) => (await index.search('eye exam dental manager', options)).map((hit) => hit.id).sort();
    expect(await ids({ top: 10, mode: 'text', includeCategory: 'benefits' })).toEqual(['eyes', 'teeth']);
    expect(await ids({ top: 10, mode: 'text', excludeCategory: 'benefits' })).toEqual(['roles', 'secret']);
    expect(await ids({ top: 10, mode: 'text', oids: ['user-1'] })).toEqual(['secret']);
    expect(await ids({ top: 10, mode: 'text', oids: ['user-2'], groups: ['execs'] })).toEqual(['secret']);
    expect(await ids({ top: 10, mode: 'text', oids: ['user-2'], groups: [] })).toEqual([]);
  });

  it('searches vectors by cosine and fuses text and vectors by reciprocal rank in hybrid mode', async () => {
    const index = new LocalIndex(directory);
    await index.upsert(corpus);
    const vector = fakeEmbedding('dental cleanings covered');
    const byVector = await index.search('', { top: 1, mode: 'vectors', vector });
    expect(byVector[0]).toMatchObject({ id: 'teeth' });
    // The exact cosine of the two vectors (toBeCloseTo(0.9, 0) accepted anything within ±0.5).
    const teeth = fakeEmbedding('Dental cleanings are covered twice a year.');
    const dot = vector.reduce((sum, value, index) => sum + value * teeth[index]!, 0);
    const cosine = dot / (Math.hypot(...vector) * Math.hypot(...teeth));
    expect(byVector[0]?.score).toBeCloseTo(cosine, 5);
    expect(cosine).toBeGreaterThan(0.5);
    const hybrid = await index.search('eye exam', { top: 4, mode: 'hybrid', vector });
    expect(hybrid.map((hit) => hit.id)).toContain('teeth');
    expect(hybrid.map((hit) => hit.id)).toContain('eyes');
    expect(hybrid[0]!.score).toBeLessThan(1 / 30);
    // Hybrid without a vector is text search.
    expect((await index.search('eye exam', { top: 1, mode: 'hybrid' }))[0]?.id).toBe('eyes');
    expect(await index.search('eye exam', { top: 5, mode: 'text', minimumSearchScore: 1_000 })).toEqual([]);
  });

  it('keeps the best scores in one pass exactly as sorting all of them would (ties in insertion order)', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.integer({ min: -5, max: 5 }), { nil: undefined })), fc.integer({ min: 0, max: 8 }), (scores, depth) => {
        const items = new Map(scores.map((score, i) => [`id${i}`, score]));
        const expected = [...items]
          .flatMap(([id, score]) => (score == null ? [] : [{ id, score }]))
          .sort((a, b) => b.score - a.score)
          .slice(0, depth);
        expect(topScores(items, depth, (_id, score) => score)).toEqual(expected);
      }),
    );
  });

  it('fuses rankings: an id ranked well by both lists wins', () => {
    const fused = fuse([
      [{ id: 'a', score: 9 }, { id: 'b', score: 5 }],
      [{ id: 'b', score: 0.9 }, { id: 'c', score: 0.8 }],
    ]);
    expect(fused.map((hit) => hit.id)).toEqual(['b', 'a', 'c']);
    expect(fused[0]!.score).toBeCloseTo(1 / 62 + 1 / 61);
  });

  it('persists atomically, reloads in a new instance, and sees another writer\'s changes', async () => {
    const first = new LocalIndex(directory);
    await first.upsert(corpus);
    expect((await readdir(directory)).filter((file) => file.endsWith('.tmp'))).toEqual([]);
    const second = new LocalIndex(directory);
    expect(await second.count()).toBe(4);
    expect((await second.search('dental', { top: 1, mode: 'vectors', vector: fakeEmbedding('dental cleanings') }))[0]?.id).toBe('teeth');
    await second.deleteBySource('roles.pdf');
    // Give the file system a distinct modification time, then the first instance reloads.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await second.upsert([chunk('new', 'A new chunk about parking.')]);
    expect(await first.count()).toBe(4);
    expect((await first.search('parking', { top: 1, mode: 'text' }))[0]?.id).toBe('new');
  });

  it('serializes concurrent writes and deletes only what is not kept', async () => {
    const index = new LocalIndex(directory);
    await Promise.all(Array.from({ length: 20 }, (_, n) => index.upsert([chunk(`c${n}`, `chunk number ${n} text`)])));
    expect(await index.count()).toBe(20);
    expect(await new LocalIndex(directory).count()).toBe(20);
    const removed = await index.deleteBySource('a.pdf', new Set(['c1', 'c2']));
    expect(removed).toBe(18);
    expect(await new LocalIndex(directory).count()).toBe(2);
    // Upserting an existing id replaces it rather than adding a second copy.
    await index.upsert([chunk('c1', 'replaced text about bicycles')]);
    expect(await index.count()).toBe(2);
    expect((await index.search('bicycles', { top: 5, mode: 'text' })).map((hit) => hit.id)).toEqual(['c1']);
    expect(await index.search('chunk number 1', { top: 5, mode: 'text' })).toHaveLength(1);
  });

  it('answers every search with a whole snapshot while the file is rewritten (issue 12 item 6)', async () => {
    const reader = new LocalIndex(directory);
    await reader.upsert([chunk('anchor', 'The anchor chunk about harbour parking permits.', { sourcefile: 'anchor.md' })]);
    // Uploads in this process and another process (the ingest CLI) writing the same file: each write changes
    // the file under the readers.
    const writers = [reader, new LocalIndex(directory)];
    let writing = true;
    const writes = (async () => {
      for (let n = 0; n < 20; n++) {
        await writers[n % 2]!.upsert(Array.from({ length: 30 }, (_, i) => chunk(`w${n}-${i}`, `Filler chunk ${n} ${i} about office parking and desks.`, { sourcefile: `w${n}.md` })));
      }
      writing = false;
    })();
    let searches = 0;
    const failures: string[] = [];
    // Several requests searching at once, as on a busy instance.
    const readers = Array.from({ length: 8 }, async () => {
      while (writing) {
        try {
          const hits = await reader.search('harbour parking', { top: 3, mode: 'hybrid', vector: fakeEmbedding('harbour parking') });
          if (!hits.some((hit) => hit.id === 'anchor')) failures.push(`search ${searches}: anchor missing`);
          if ((await reader.count()) === 0) failures.push(`search ${searches}: empty index`);
        } catch (error: unknown) {
          failures.push(`search ${searches}: ${String(error)}`);
        }
        searches += 1;
        // Requests arrive through I/O: let the writes' I/O run between searches.
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    await Promise.all([writes, ...readers]);
    expect(searches).toBeGreaterThan(20);
    expect(failures.slice(0, 3)).toEqual([]);
    expect(await reader.count()).toBe(1 + 20 * 30);
  });

  it('lets other requests run while a large document is indexed, and they see each chunk whole (bench P8)', async () => {
    const index = new LocalIndex(directory);
    await index.count();
    // A 4 MB upload is ~2,800 chunks; indexing them in one synchronous loop held health for ~0.5 s.
    const chunks = Array.from({ length: 3_000 }, (_, i) => chunk(`big-${i}`, `Section ${i} of the travel policy: mileage, per diem ${i % 97}, hotels and receipts.`, { sourcefile: 'big.md', embedding: undefined }));
    let done = false;
    const upserted = index.upsert(chunks).then(() => (done = true));
    const seen: number[] = [];
    while (!done) {
      const [count, hits] = await Promise.all([index.count(), index.search('mileage receipts', { top: 5, mode: 'text' })]);
      if (!done) seen.push(count);
      // A hit is a chunk whose entry and text postings are both in: its stored content is whole.
      for (const hit of hits) expect(hit.content).toBe(chunks[Number(hit.id.slice(4))]!.content);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await upserted;
    expect(seen.some((count) => count > 0 && count < chunks.length)).toBe(true);
    expect(await index.count()).toBe(chunks.length);
    // Deleting them slices the same way.
    done = false;
    const deleted = index.deleteBySource('big.md').then((removed) => ((done = true), removed));
    const during: number[] = [];
    while (!done) {
      const count = await index.count();
      if (!done) during.push(count);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await deleted).toBe(chunks.length);
    expect(during.some((count) => count > 0 && count < chunks.length)).toBe(true);
    expect(await index.count()).toBe(0);
  });

  it('moves a torn file aside, starts empty and reports it, instead of failing every call (issue 12 item 5)', async () => {
    const first = new LocalIndex(directory);
    await first.upsert(corpus);
    const file = path.join(directory, 'search-index.json');
    const whole = await readFile(file, 'utf8');
    // A crash mid-write without fsync leaves a prefix of the file.
    await writeFile(file, whole.slice(0, Math.floor(whole.length / 2)));
    await writeFile(path.join(directory, 'search-index.json.999-1.tmp'), whole.slice(0, 100));
    const reports: string[] = [];
    const index = new LocalIndex(directory, { onCorrupt: (reason) => reports.push(reason) });
    expect(await index.count()).toBe(0);
    expect(await index.search('eye exam', { top: 3, mode: 'text' })).toEqual([]);
    expect(reports).toHaveLength(1);
    expect(index.condition().problem).toMatch(/unreadable/);
    await index.upsert([corpus[0]!]);
    expect(await new LocalIndex(directory).count()).toBe(1);
    const files = await readdir(directory);
    expect(files.filter((name) => name.includes('.corrupt-'))).toHaveLength(1);
    expect(files.filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect((await stat(path.join(directory, files.find((name) => name.includes('.corrupt-'))!))).size).toBe(Math.floor(whole.length / 2));
  });
});
