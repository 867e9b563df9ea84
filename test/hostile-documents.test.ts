import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, uniqueName, type RunningApp } from './support/app.js';
import { inflationBombPdf, makePdf, makeWrappedPdf, oneLinePagesPdf, textBombPdf } from './support/pdf.js';
import { unclosedTags } from './support/worst-case.js';

// Worst-case documents, generated at test time, through POST /api/documents on the built local host (issue
// 12 items 9 and 10): each is refused with a 413 while the app keeps answering health quickly and its
// memory stays bounded. Peak memory is the app process's VmHWM (Linux), its high-water mark since start.

interface ErrorBody { error: { code: string; message: string } }

function upload(app: RunningApp, name: string, body: Uint8Array<ArrayBuffer> | string, contentType: string) {
  return fetch(`${app.baseUrl}/documents?name=${encodeURIComponent(name)}`, { method: 'POST', body, headers: { 'Content-Type': contentType } });
}

/** Peak resident memory of the app process since it started, in MB. */
function peakRssMb(app: RunningApp): number {
  const status = readFileSync(`/proc/${app.process.pid}/status`, 'utf8');
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
  if (kb == null) throw new Error(`no VmHWM in /proc/${app.process.pid}/status`);
  return Number(kb) / 1024;
}

/** Runs `during` while asking for health back to back; the latencies of every health request. */
async function healthDuring<T>(app: RunningApp, during: () => Promise<T>): Promise<{ result: T; latencies: number[] }> {
  const latencies: number[] = [];
  let done = false;
  const poll = (async () => {
    while (!done) {
      const started = performance.now();
      const response = await fetch(`${app.baseUrl}/health`);
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  try {
    return { result: await during(), latencies };
  } finally {
    done = true;
    await poll;
  }
}

const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.99))]!;

async function timed(send: () => Promise<Response>): Promise<{ status: number; body: ErrorBody; ms: number }> {
  const started = performance.now();
  const response = await send();
  return { status: response.status, body: (await response.json()) as ErrorBody, ms: performance.now() - started };
}

describe('worst-case documents at the default limits', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp({ CONTENT_CONTAINER: uniqueName('hostile').toLowerCase().slice(0, 60) });
    // Health's first answer loads its modules: measure warm latencies only.
    expect((await fetch(`${app.baseUrl}/health`)).status).toBeLessThan(600);
  });
  afterAll(() => app?.stop());

  it('answers 413 at once for a PDF of 20,000 one-line pages (over MAX_DOCUMENT_PAGES), health fast throughout', async () => {
    const pdf = oneLinePagesPdf(20_000);
    const { result, latencies } = await healthDuring(app, () => timed(() => upload(app, 'pages.pdf', pdf, 'application/pdf')));
    console.log(`hostile: 20,000-page PDF (${(pdf.byteLength / 1e6).toFixed(1)} MB) → ${result.status} in ${result.ms.toFixed(0)} ms; health p99 ${p99(latencies).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms over ${latencies.length}; app peak RSS ${peakRssMb(app).toFixed(0)} MB`);
    expect(result.status).toBe(413);
    expect(result.body.error.code).toBe('payload_too_large');
    expect(result.body.error.message).toMatch(/20000 pages.*2000 \(MAX_DOCUMENT_PAGES\)/);
    expect(result.ms).toBeLessThan(10_000);
    expect(Math.max(...latencies)).toBeLessThan(1_000);
  }, 60_000);

  it('answers 413 for a 250 KB PDF whose content inflates to 2 GB, with bounded memory and health answering', async () => {
    const pdf = await inflationBombPdf(256 * 1024 * 1024, 8);
    const { result, latencies } = await healthDuring(app, () => timed(() => upload(app, 'bomb.pdf', pdf, 'application/pdf')));
    const peak = peakRssMb(app);
    console.log(`hostile: inflation bomb (${(pdf.byteLength / 1e3).toFixed(0)} KB → 2 GB) → ${result.status} in ${result.ms.toFixed(0)} ms; health p99 ${p99(latencies).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms over ${latencies.length}; app peak RSS ${peak.toFixed(0)} MB`);
    expect(result.status).toBe(413);
    expect(result.body.error.message).toMatch(/bomb\.pdf" is too complex to read: reading it needed more than \d+ MB of memory/);
    expect(peak).toBeLessThan(1_024);
    expect(latencies.length).toBeGreaterThan(0);
    expect(Math.max(...latencies)).toBeLessThan(1_000);
    // The instance is whole afterwards: the next document ingests.
    expect((await upload(app, 'after.md', '# After\n\nThe app still ingests documents.', 'text/markdown')).status).toBe(201);
  }, 60_000);

  it('reads 300 KB of unclosed HTML tags off the request thread, health fast throughout', async () => {
    const html = `<html><body><p>Intro words.</p>${unclosedTags(300_000)}</body></html>`;
    const { result, latencies } = await healthDuring(app, () => timed(() => upload(app, 'tags.html', html, 'text/html')));
    console.log(`hostile: 300 KB unclosed tags → ${result.status} in ${result.ms.toFixed(0)} ms; health p99 ${p99(latencies).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms`);
    expect(result.status).toBe(201);
    expect(Math.max(...latencies)).toBeLessThan(1_000);
  });
});

describe('MAX_DOCUMENT_PAGES and MAX_DOCUMENT_TEXT_CHARS', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp({ CONTENT_CONTAINER: uniqueName('limited').toLowerCase().slice(0, 60), MAX_DOCUMENT_PAGES: '5', MAX_DOCUMENT_TEXT_CHARS: '2000' });
  });
  afterAll(() => app?.stop());

  const words = (chars: number) => 'Plain words in a sentence. '.repeat(Math.ceil(chars / 27)).slice(0, chars);

  it('accepts a document at the limits', async () => {
    expect((await upload(app, 'five.pdf', await makePdf(['one', 'two', 'three', 'four', 'five']), 'application/pdf')).status).toBe(201);
    expect((await upload(app, 'five.txt', ['a', 'b', 'c', 'd', 'e'].join('\f'), 'text/plain')).status).toBe(201);
    expect((await upload(app, 'full.md', words(2000), 'text/markdown')).status).toBe(201);
  }, 60_000);

  it.each([
    ['a 6-page PDF', 'six.pdf', async () => makePdf(['1', '2', '3', '4', '5', '6']), 'application/pdf', /6 pages; the limit is 5 \(MAX_DOCUMENT_PAGES\)/],
    ['6 form-feed pages of text', 'six.txt', async () => ['a', 'b', 'c', 'd', 'e', 'f'].join('\f'), 'text/plain', /more than 5 pages; the limit is 5 \(MAX_DOCUMENT_PAGES\)/],
    ['2,001 characters of Markdown', 'long.md', async () => words(2001), 'text/markdown', /more than 2000 characters of text \(MAX_DOCUMENT_TEXT_CHARS\)/],
    ['HTML with 2,001 characters of text', 'long.html', async () => `<p>${words(2001)}</p>`, 'text/html', /MAX_DOCUMENT_TEXT_CHARS/],
    ['a PDF of two pages with 1,500 characters each', 'long.pdf', async () => makeWrappedPdf([words(1500), words(1500)]), 'application/pdf', /MAX_DOCUMENT_TEXT_CHARS/],
  ])('answers 413 for %s, naming the setting, and stores nothing', async (_what, name, make, type, message) => {
    const response = await upload(app, name, await make(), type);
    const body = (await response.json()) as ErrorBody;
    expect(response.status).toBe(413);
    expect(body.error.code).toBe('payload_too_large');
    expect(body.error.message).toMatch(message);
    expect((await fetch(`${app.baseUrl}/content/${name}`)).status).toBe(404);
  });

  it('stops reading a page whose compressed text would take minutes to extract at the first character past the limit', async () => {
    // 64 MB of text operators on one page (a 64 KB file): some 30 million characters, about 2 minutes to extract.
    const pdf = await textBombPdf(64 * 1024 * 1024);
    const result = await timed(() => upload(app, 'text-bomb.pdf', pdf, 'application/pdf'));
    console.log(`hostile: text bomb (${(pdf.byteLength / 1e3).toFixed(0)} KB → 64 MB of operators) → ${result.status} in ${result.ms.toFixed(0)} ms`);
    expect(result.status).toBe(413);
    expect(result.body.error.message).toMatch(/more than 2000 characters of text \(MAX_DOCUMENT_TEXT_CHARS\)/);
    expect(result.ms).toBeLessThan(10_000);
  }, 60_000);
});
