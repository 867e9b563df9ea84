// P8 and P9: what ingesting the worst document of each kind does to the rest of the app. Per kind, a fresh app
// process ingests one document at the size limit while a client polls GET /api/health every 10 ms; P8 is
// the health p99 during the upload, P9 the process's peak resident memory (VmHWM from /proc).
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startApp } from '../support/app.js';
import { appSettings, type BenchEnv } from './env.js';
import { ok, timedRequest } from './http-client.js';
import { makePdf } from './rows-data.js';
import type { Measured, Row } from './row.js';
import { mb, ms, percentile } from './stats.js';

/** Document size per kind; BENCH_DOC_MB=25 runs at the default MAX_DOCUMENT_BYTES (slow on a small machine). */
const DOC_BYTES = Number(process.env.BENCH_DOC_MB ?? '4') * 1024 * 1024;
const PDF_PAGES = Number(process.env.BENCH_DOC_PDF_PAGES ?? '300');

/** Worst case per kind for the splitter: one long paragraph-free run of sentences, no headings to cut at. */
function documents(): { name: string; contentType: string; bytes: () => Promise<Uint8Array> }[] {
  const sentence = 'Employees accrue vacation monthly and may carry over up to five unused days into the next plan year. ';
  const text = () => Buffer.from(sentence.repeat(Math.floor(DOC_BYTES / sentence.length)));
  const html = () => {
    const cell = `<tr><td>${sentence}</td><td><b>${sentence.slice(0, 40)}</b></td></tr>`;
    return Buffer.from(`<html><body><table>${cell.repeat(Math.floor((DOC_BYTES - 40) / cell.length))}</table></body></html>`);
  };
  return [
    { name: 'worst.txt', contentType: 'text/plain', bytes: async () => text() },
    { name: 'worst.md', contentType: 'text/markdown', bytes: async () => Buffer.from(`# Plan\n\n${text().toString()}`) },
    { name: 'worst.html', contentType: 'text/html', bytes: async () => html() },
    { name: 'worst.pdf', contentType: 'application/pdf', bytes: () => makePdf(PDF_PAGES) },
  ];
}

function peakRssBytes(pid: number | undefined): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match == null ? Number.NaN : Number(match[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}

interface KindResult {
  kind: string;
  bytes: number;
  ingestMs: number;
  healthP99Ms: number;
  healthMaxMs: number;
  healthSamples: number;
  peakRssBytes: number;
}

let measured: Promise<KindResult[]> | undefined;

/** One pass serves both rows (each kind ingested once). */
function measureKinds(env: BenchEnv): Promise<KindResult[]> {
  measured ??= (async () => {
    const results: KindResult[] = [];
    for (const document of documents()) {
      const cwd = await mkdtemp(path.join(tmpdir(), 'bench-limits-'));
      const app = await startApp(appSettings(env.model, env.azurite.connectionString, { MAX_DOCUMENT_BYTES: String(Math.max(DOC_BYTES * 2, 26_214_400)) }), { cwd });
      try {
        const api = (route: string) => `${app.baseUrl}/${route}`;
        await ok(api('health'));
        const body = await document.bytes();
        const health: number[] = [];
        let done = false;
        const poll = (async () => {
          while (!done) {
            const response = await timedRequest(api('health'));
            health.push(response.end - response.start);
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        })();
        const started = performance.now();
        await ok(api(`documents?name=${document.name}`), { raw: body, headers: { 'content-type': document.contentType } }).finally(() => (done = true));
        const ingestMs = performance.now() - started;
        await poll;
        results.push({
          kind: document.contentType,
          bytes: body.byteLength,
          ingestMs,
          healthP99Ms: percentile(health, 99),
          healthMaxMs: Math.max(...health),
          healthSamples: health.length,
          peakRssBytes: peakRssBytes(app.process.pid),
        });
      } finally {
        await app.stop();
        await rm(cwd, { recursive: true, force: true });
      }
    }
    return results;
  })();
  return measured;
}

const describe = (r: KindResult, figure: string) => `${r.kind.replace(/^(text|application)\//, '')} ${figure}`;

export const p8: Row = {
  id: 'P8',
  what: `health p99 while the worst document of each kind is ingested (text/markdown/html ${mb(DOC_BYTES)}, PDF ${PDF_PAGES} pages; fresh app each, health polled every 10 ms)`,
  target: '≤ 100 ms',
  needs: ['GET health', 'POST documents'],
  async measure(env): Promise<Measured> {
    const results = await measureKinds(env);
    return {
      figure: results.map((r) => describe(r, `${ms(r.healthP99Ms, 0)} (max ${ms(r.healthMaxMs, 0)}, n=${r.healthSamples}, ingest ${ms(r.ingestMs, 0)})`)).join('; '),
      met: results.every((r) => r.healthP99Ms <= 100),
      details: { results },
    };
  },
};

export const p9: Row = {
  id: 'P9',
  what: 'peak resident memory (VmHWM) of the app process ingesting each of the P8 documents',
  target: '≤ 1 GiB',
  needs: ['GET health', 'POST documents'],
  async measure(env): Promise<Measured> {
    const results = await measureKinds(env);
    return {
      figure: results.map((r) => describe(r, `${mb(r.peakRssBytes)} (${mb(r.bytes)} document)`)).join('; '),
      met: results.every((r) => r.peakRssBytes <= 1024 ** 3),
      details: { results },
    };
  },
};
