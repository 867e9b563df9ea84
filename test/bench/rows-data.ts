// P6 and P7: ingestion throughput and local search latency, measured with the app's own built modules.
// They are loaded at run time from dist/ (not imported), so the benchmark compiles before they exist.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/app.js';
import { fakeEmbedding } from '../support/fake-model.js';
import { NotBuilt } from './env.js';
import { ok } from './http-client.js';
import type { Row } from './row.js';
import { median, ms, percentile } from './stats.js';

const require = createRequire(import.meta.url);

/** The built module at dist/src/<name>.js, or NotBuilt when it is not on this branch yet. */
function builtModule(name: string): unknown {
  const file = path.join(repoRoot, 'dist/src', `${name}.js`);
  if (!existsSync(file)) throw new NotBuilt();
  return require(file) as unknown;
}

function exported<T>(module: unknown, name: string): T {
  if (typeof module !== 'object' || module == null || !(name in module)) throw new Error(`the built module has no export "${name}"`);
  return (module as Record<string, T>)[name]!;
}

const SYLLABLES = 'ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo vu'.split(' ');
const STOP_WORDS = 'the of and to in is for that with on as by at from or this be are an it which'.split(' ');
const VOCABULARY = 20_000;

/** A made-up word per rank: ba, be, ..., baba, babe, ... */
function wordOf(rank: number): string {
  let word = '';
  let n = rank + SYLLABLES.length + 1;
  while (n > 0) {
    word = SYLLABLES[n % SYLLABLES.length]! + word;
    n = Math.floor(n / SYLLABLES.length);
  }
  return word;
}

/**
 * Deterministic English-like text, so every run measures the same documents: about 40 % stop words, the rest
 * from a 20,000-word vocabulary with Zipf–Mandelbrot frequencies (weight 1/(rank+50)), so common content words
 * are in a few per cent of chunks and rare ones in almost none, as in real prose.
 */
function textGenerator(seed = 42): (words: number) => string {
  let state = seed;
  const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const cumulative: number[] = [];
  let total = 0;
  for (let rank = 0; rank < VOCABULARY; rank++) cumulative.push((total += 1 / (rank + 50)));
  const contentWord = () => {
    const target = random() * total;
    let low = 0;
    let high = VOCABULARY - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (cumulative[middle]! < target) low = middle + 1;
      else high = middle;
    }
    return wordOf(low);
  };
  return (words) =>
    Array.from({ length: words }, (_, i) => {
      const word = random() < 0.4 ? STOP_WORDS[Math.floor(random() * STOP_WORDS.length)]! : contentWord();
      return i % 12 === 11 ? `${word}.` : word;
    }).join(' ');
}

const PDF_PAGES = 100;

/** A text PDF of `pages` pages of about 2,000 characters each (a dense handbook page). */
export async function makePdf(pages: number): Promise<Uint8Array> {
  const { PDFDocument, StandardFonts } = require('pdf-lib') as typeof import('pdf-lib');
  const text = textGenerator();
  const document = await PDFDocument.create();
  const font = await document.embedFont(StandardFonts.Helvetica);
  for (let p = 0; p < pages; p++) {
    const page = document.addPage([612, 792]);
    for (let line = 0; line < 30; line++) page.drawText(text(11), { x: 40, y: 750 - line * 22, size: 11, font });
  }
  return document.save();
}

interface PreparedChunks {
  pages: number;
  chunks: unknown[];
}
type PrepareChunks = (input: { name: string; bytes: Uint8Array; contentType?: string }, limits: { bytes: number; pages: number; textChars: number }) => Promise<PreparedChunks>;

export const p6Pages: Row = {
  id: 'P6 pages',
  what: `ingestion: PDF pages/s, parse + split (no embeddings), ${PDF_PAGES}-page text PDF, median of 5`,
  target: '≥ 100 pages/s',
  async measure() {
    const prepareChunks = exported<PrepareChunks>(builtModule('ingest/prepare'), 'prepareChunks');
    const bytes = await makePdf(PDF_PAGES);
    const once = async () => {
      // pdf.js may detach the buffer it is given: hand it a copy each time.
      const started = performance.now();
      const result = await prepareChunks({ name: 'bench.pdf', bytes: bytes.slice(), contentType: 'application/pdf' }, { bytes: 1 << 30, pages: 1 << 30, textChars: 1 << 30 });
      return { ms: performance.now() - started, pages: result.pages, chunks: result.chunks.length };
    };
    const first = await once(); // warm-up: loads unpdf and the tokenizer
    const runs: { ms: number; pages: number; chunks: number }[] = [];
    for (let i = 0; i < 5; i++) runs.push(await once());
    const pagesPerSecond = (PDF_PAGES * 1000) / median(runs.map((run) => run.ms));
    return {
      figure: `${pagesPerSecond.toFixed(0)} pages/s (${runs[0]!.pages} pages → ${runs[0]!.chunks} chunks in ${ms(median(runs.map((r) => r.ms)), 0)}; first, cold ${ms(first.ms, 0)})`,
      met: pagesPerSecond >= 100,
      details: { pagesPerSecond, runsMs: runs.map((run) => run.ms), coldMs: first.ms, pages: runs[0]!.pages, chunks: runs[0]!.chunks },
    };
  },
};

export const p6Batch: Row = {
  id: 'P6 batch',
  what: `ingestion: chunks per embeddings request (POST /api/documents, ${PDF_PAGES}-page PDF)`,
  target: '≥ 16',
  needs: ['POST documents'],
  async measure(env) {
    const bytes = await makePdf(PDF_PAGES);
    const before = env.model.requests.length;
    const response = await ok(env.api(`documents?name=bench-${Date.now()}.pdf`), {
      method: 'POST',
      headers: { 'content-type': 'application/pdf' },
      body: undefined,
      raw: bytes,
    });
    const embeddings = env.model.requests.slice(before).filter((request) => request.path.endsWith('/embeddings'));
    const inputs = embeddings.reduce((sum, request) => {
      const input = typeof request.body === 'object' && request.body != null && 'input' in request.body ? request.body.input : undefined;
      return sum + (Array.isArray(input) ? input.length : 1);
    }, 0);
    const perRequest = embeddings.length === 0 ? 0 : inputs / embeddings.length;
    return {
      figure: `${perRequest.toFixed(1)} chunks/request (${inputs} chunks in ${embeddings.length} requests; ingest took ${ms(response.end - response.start, 0)})`,
      met: perRequest >= 16,
      details: { perRequest, inputs, requests: embeddings.length, ingestMs: response.end - response.start },
    };
  },
};

interface LocalIndexLike {
  upsert(chunks: unknown[]): Promise<void>;
  search(query: string, options: { top: number; mode: 'hybrid' | 'text' | 'vectors'; vector?: number[] }): Promise<unknown[]>;
}
type LocalIndexClass = new (directory: string) => LocalIndexLike;

const CHUNKS = 10_000;

export const p7: Row = {
  id: 'P7',
  what: `local search p95 at ${CHUNKS / 1000}k synthetic chunks (150 words each, Zipf vocabulary), 5-word queries, text and hybrid (64-dim vectors)`,
  target: '≤ 20 ms',
  async measure() {
    const LocalIndex = exported<LocalIndexClass>(builtModule('search/local-index'), 'LocalIndex');
    const directory = await mkdtemp(path.join(tmpdir(), 'bench-index-'));
    try {
      const text = textGenerator(7);
      const chunks = Array.from({ length: CHUNKS }, (_, i) => {
        const content = text(150);
        return { id: `doc${Math.floor(i / 50)}-${i}`, content, sourcepage: `doc${Math.floor(i / 50)}.pdf#page=${(i % 50) + 1}`, sourcefile: `doc${Math.floor(i / 50)}.pdf`, oids: [], groups: [], embedding: fakeEmbedding(content) };
      });
      const index = new LocalIndex(directory);
      const loadStarted = performance.now();
      await index.upsert(chunks);
      const upsertMs = performance.now() - loadStarted;
      const queries = Array.from({ length: 200 }, () => text(5).replace(/\./g, ''));
      // Text and hybrid alternate query by query, so a garbage collection or a neighbour's burst hits both alike.
      const search = async (query: string, mode: 'text' | 'hybrid') => {
        const vector = fakeEmbedding(query);
        const started = performance.now();
        await index.search(query, { top: 5, mode, vector });
        return performance.now() - started;
      };
      for (const query of queries.slice(0, 20)) {
        await search(query, 'text');
        await search(query, 'hybrid');
      }
      const textTimes: number[] = [];
      const hybridTimes: number[] = [];
      for (const query of queries) {
        textTimes.push(await search(query, 'text'));
        hybridTimes.push(await search(query, 'hybrid'));
      }
      const p95 = percentile(textTimes, 95);
      const hybridP95 = percentile(hybridTimes, 95);
      return {
        figure: `text p95 ${ms(p95)} (p50 ${ms(median(textTimes))}); hybrid p95 ${ms(hybridP95)} (p50 ${ms(median(hybridTimes))}); n=${queries.length}; indexing ${ms(upsertMs, 0)}`,
        met: p95 <= 20 && hybridP95 <= 20,
        details: { textP95Ms: p95, textP50Ms: median(textTimes), hybridP95Ms: hybridP95, hybridP50Ms: median(hybridTimes), upsertMs },
      };
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  },
};
