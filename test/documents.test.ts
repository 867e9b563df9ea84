import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, uniqueName, type RunningApp } from './support/app.js';
import { startFakeModel, type FakeModel } from './support/fake-model.js';
import { formType, multipartBody, sendInChunks, sendWhole, type RawPart } from './support/multipart.js';
import { makePdf } from './support/pdf.js';

interface DocumentRow { name: string; chunks: number; pages: number; contentType: string; size: number; indexedAt: string }

const sentence = (topic: string, index: number) => `Section ${index} explains the ${topic} policy in plain words for every employee. `;
const longText = (topic: string, sentences: number) => Array.from({ length: sentences }, (_, index) => sentence(topic, index)).join('');

async function post(app: RunningApp, name: string, body: BodyInit, contentType?: string) {
  return fetch(`${app.baseUrl}/documents?name=${encodeURIComponent(name)}`, {
    method: 'POST',
    body,
    headers: contentType == null ? {} : { 'Content-Type': contentType },
  });
}

async function indexedChunks(app: RunningApp): Promise<number> {
  const health = (await (await fetch(`${app.baseUrl}/health`)).json()) as { search: { documents: number } };
  return health.search.documents;
}

async function listed(app: RunningApp): Promise<DocumentRow[]> {
  return (await (await fetch(`${app.baseUrl}/documents`)).json()) as DocumentRow[];
}

describe('documents and content routes (local index, Azurite blobs)', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp({ CONTENT_CONTAINER: uniqueName('content').toLowerCase().slice(0, 60), MAX_DOCUMENT_BYTES: '200000' });
  });
  afterAll(() => app?.stop());

  it('ingests a PDF, lists it, and serves its bytes back with the content type (ignoring #page=N)', async () => {
    const pdf = await makePdf(['Vision coverage page', 'Dental coverage page', 'Deductible page']);
    const response = await post(app, 'plan.pdf', pdf, 'application/pdf');
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ name: 'plan.pdf', chunks: 1, pages: 3 });

    const row = (await listed(app)).find((document) => document.name === 'plan.pdf');
    expect(row).toMatchObject({ chunks: 1, pages: 3, contentType: 'application/pdf', size: pdf.byteLength });
    expect(Date.parse(row?.indexedAt ?? '')).not.toBeNaN();

    for (const path of ['plan.pdf', 'plan.pdf%23page=2']) {
      const content = await fetch(`${app.baseUrl}/content/${path}`);
      expect(content.status).toBe(200);
      expect(content.headers.get('content-type')).toBe('application/pdf');
      expect(Buffer.from(await content.arrayBuffer()).equals(Buffer.from(pdf))).toBe(true);
    }
  });

  it('answers 404 for unknown content and refuses paths that leave the container', async () => {
    expect((await fetch(`${app.baseUrl}/content/nothing-here.pdf`)).status).toBe(404);
    expect((await fetch(`${app.baseUrl}/content/..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
    expect((await fetch(`${app.baseUrl}/content/folder/plan.pdf`)).status).toBe(404);
  });

  it('accepts multipart/form-data and takes the name from the file part', async () => {
    const form = new FormData();
    form.append('file', new Blob(['# Notes\n\nThe cafeteria opens at eight.'], { type: 'text/markdown' }), 'notes.md');
    const response = await fetch(`${app.baseUrl}/documents`, { method: 'POST', body: form });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ name: 'notes.md', chunks: 1, pages: 1 });
    const content = await fetch(`${app.baseUrl}/content/notes.md`);
    expect(content.headers.get('content-type')).toBe('text/markdown');
    expect(await content.text()).toContain('cafeteria');
  });

  it('re-ingesting a name replaces its chunks exactly; deleting removes file and chunks', async () => {
    const before = await indexedChunks(app);
    const first = (await (await post(app, 'policy.txt', longText('travel', 60), 'text/plain')).json()) as { chunks: number };
    expect(first.chunks).toBeGreaterThan(3);
    expect(await indexedChunks(app)).toBe(before + first.chunks);
    // The same file again: same chunks, no duplicates.
    await post(app, 'policy.txt', longText('travel', 60), 'text/plain');
    expect(await indexedChunks(app)).toBe(before + first.chunks);
    // A shorter version: the chunks that no longer exist are gone.
    const second = (await (await post(app, 'policy.txt', longText('travel', 10), 'text/plain')).json()) as { chunks: number };
    expect(second.chunks).toBeLessThan(first.chunks);
    expect(await indexedChunks(app)).toBe(before + second.chunks);
    expect((await listed(app)).find((document) => document.name === 'policy.txt')?.chunks).toBe(second.chunks);

    expect((await fetch(`${app.baseUrl}/documents/policy.txt`, { method: 'DELETE' })).status).toBe(204);
    expect(await indexedChunks(app)).toBe(before);
    expect((await listed(app)).some((document) => document.name === 'policy.txt')).toBe(false);
    expect((await fetch(`${app.baseUrl}/content/policy.txt`)).status).toBe(404);
    const again = await fetch(`${app.baseUrl}/documents/policy.txt`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('keeps one consistent version when the same name is uploaded concurrently', async () => {
    const before = await indexedChunks(app);
    const responses = await Promise.all([60, 10, 30].map((sentences) => post(app, 'race.txt', longText('race', sentences), 'text/plain')));
    expect(responses.map((response) => response.status)).toEqual([201, 201, 201]);
    const row = (await listed(app)).find((document) => document.name === 'race.txt');
    expect(await indexedChunks(app)).toBe(before + (row?.chunks ?? -1));
    expect((await fetch(`${app.baseUrl}/documents/race.txt`, { method: 'DELETE' })).status).toBe(204);
    expect(await indexedChunks(app)).toBe(before);
  });

  it('answers 400 for a corrupt PDF and leaves nothing behind', async () => {
    const before = await indexedChunks(app);
    const pdf = await makePdf(['one', 'two', 'three']);
    const response = await post(app, 'broken.pdf', pdf.slice(0, Math.floor(pdf.byteLength / 2)), 'application/pdf');
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('invalid_request');
    expect(error.message).toMatch(/broken\.pdf/);
    expect((await listed(app)).some((document) => document.name === 'broken.pdf')).toBe(false);
    expect((await fetch(`${app.baseUrl}/content/broken.pdf`)).status).toBe(404);
    expect(await indexedChunks(app)).toBe(before);
  });

  it('answers 415 for an unsupported type, 413 over MAX_DOCUMENT_BYTES, 400 without a name', async () => {
    const image = await post(app, 'photo.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47]), 'image/png');
    expect(image.status).toBe(415);
    expect(((await image.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    const large = await post(app, 'large.txt', 'x '.repeat(150_000), 'text/plain');
    expect(large.status).toBe(413);
    expect(((await large.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    const unnamed = await fetch(`${app.baseUrl}/documents`, { method: 'POST', body: 'text', headers: { 'Content-Type': 'text/plain' } });
    expect(unnamed.status).toBe(400);
    const badName = await post(app, '../escape.txt', 'text', 'text/plain');
    expect(badName.status).toBe(400);
  });
});

describe('document names', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp({ CONTENT_CONTAINER: uniqueName('content').toLowerCase().slice(0, 60) });
  });
  afterAll(() => app?.stop());

  // Each would display as something it is not, or as a folder path, in a listing or a citation.
  const hostile = [
    'report\u202Efdp.exe', // RIGHT-TO-LEFT OVERRIDE: shows as "reportexe.pdf"
    'a\u2066b.txt', // LEFT-TO-RIGHT ISOLATE
    'plan\u200F.pdf', // RIGHT-TO-LEFT MARK
    'in\u200Bvisible.md', // ZERO WIDTH SPACE
    'folder\u2215plan.pdf', // DIVISION SLASH ∕
    'folder\u2044plan.pdf', // FRACTION SLASH ⁄
    'folder\uFF0Fplan.pdf', // FULLWIDTH SOLIDUS ／
    'folder\u29F8plan.pdf', // BIG SOLIDUS ⧸
    'folder\uFF3Cplan.pdf', // FULLWIDTH REVERSE SOLIDUS ＼
    'folder\u2216plan.pdf', // SET MINUS ∖
    'line\u2028break.txt', // LINE SEPARATOR
  ];

  it('refuses names with bidi controls, invisible characters or slash lookalikes (400) on upload and delete', async () => {
    for (const name of hostile) {
      const upload = await fetch(`${app.baseUrl}/documents?name=${encodeURIComponent(name)}`, {
        method: 'POST',
        body: 'Some text.',
        headers: { 'Content-Type': 'text/plain' },
      });
      expect([name, upload.status]).toEqual([name, 400]);
      expect(((await upload.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/name/) });
      const form = new FormData();
      form.append('file', new Blob(['Some text.'], { type: 'text/plain' }), name);
      const multipart = await fetch(`${app.baseUrl}/documents`, { method: 'POST', body: form });
      expect([name, multipart.status]).toEqual([name, 400]);
    }
    expect(await listed(app)).toEqual([]);
    for (const name of hostile) {
      const removal = await fetch(`${app.baseUrl}/documents/${encodeURIComponent(name)}`, { method: 'DELETE' });
      expect([name, removal.status]).toEqual([name, 400]);
    }
  });

  it('still accepts names in other scripts, with spaces and accents', async () => {
    for (const name of ['Überblick 2024.md', 'план отпусков.txt', '社員ハンドブック.md', 'ملخص.txt', 'a-b_c (1).txt']) {
      const upload = await post(app, name, 'The office opens at nine.', 'text/plain');
      expect([name, upload.status]).toEqual([name, 201]);
      expect((await fetch(`${app.baseUrl}/content/${encodeURIComponent(name)}`)).status).toBe(200);
      expect((await fetch(`${app.baseUrl}/documents/${encodeURIComponent(name)}`, { method: 'DELETE' })).status).toBe(204);
    }
  });
});

describe('multipart uploads', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp({ CONTENT_CONTAINER: uniqueName('content').toLowerCase().slice(0, 60) });
  });
  afterAll(() => app?.stop());

  const filePart = (filename: string, body = '# Notes\n\nThe cafeteria opens at eight.'): RawPart => ({
    disposition: `form-data; name="file"; filename="${filename}"`,
    contentType: 'text/markdown',
    body,
  });
  const upload = async (body: Buffer, contentType = formType(), query = '') => {
    const { status, json } = await sendWhole(`${app.baseUrl}/documents${query}`, body, contentType);
    return { status, json, code: json.error?.code, message: json.error?.message ?? '' };
  };

  it('takes the unquoted parameters other clients write (name=file) and a boundary split across every read', async () => {
    const body = multipartBody([{ ...filePart('split.md'), disposition: 'form-data; name=file; filename=split.md' }]);
    const { status, json } = await sendInChunks(`${app.baseUrl}/documents`, body, { contentType: formType(), chunkBytes: 5 });
    expect([status, json]).toEqual([201, { name: 'split.md', chunks: 1, pages: 1 }]);
    expect(await (await fetch(`${app.baseUrl}/content/split.md`)).text()).toContain('cafeteria');
  });

  it('reads a PDF part sent without a Content-Type (text/plain by RFC 7578) as a PDF, and a text file named .pdf as text', async () => {
    const pdf = await makePdf(['Parking permits are issued by facilities.', 'Visitors sign in at reception.']);
    const untyped = await upload(multipartBody([{ disposition: 'form-data; name="file"; filename="untyped.pdf"', body: pdf }]));
    expect([untyped.status, untyped.json]).toEqual([201, { name: 'untyped.pdf', chunks: 1, pages: 2 }]);
    expect((await fetch(`${app.baseUrl}/content/untyped.pdf`)).headers.get('content-type')).toBe('application/pdf');
    const raw = await fetch(`${app.baseUrl}/documents?name=declared-text.pdf`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: pdf });
    expect([raw.status, await raw.json()]).toEqual([201, { name: 'declared-text.pdf', chunks: 1, pages: 2 }]);
    const text = await upload(multipartBody([{ disposition: 'form-data; name="file"; filename="notes.pdf"', body: 'Only words, no PDF here.' }]));
    expect([text.status, text.json]).toEqual([201, { name: 'notes.pdf', chunks: 1, pages: 1 }]);
    expect((await fetch(`${app.baseUrl}/content/notes.pdf`)).headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('reads a UTF-8 file name, raw or as filename*', async () => {
    expect((await upload(multipartBody([filePart('café menu.md')]))).json).toMatchObject({ name: 'café menu.md' });
    const encoded: RawPart = { ...filePart(''), disposition: "form-data; name=\"file\"; filename*=UTF-8''%E7%A4%BE%E5%93%A1.md" };
    expect((await upload(multipartBody([encoded]))).json).toMatchObject({ name: '社員.md' });
  });

  it('refuses file names with ../, backslashes or bidi controls instead of storing them or a shortened name', async () => {
    const before = await listed(app);
    for (const name of ['../notes.md', '..\\..\\notes.md', '../../etc/report\u202Efdp.md', 'C:\\fakepath\\notes.md']) {
      const answer = await upload(multipartBody([filePart(name)]));
      expect([name, answer.status, answer.code]).toEqual([name, 400, 'invalid_request']);
      expect(answer.message).toMatch(/file name/);
    }
    expect(await listed(app)).toEqual(before);
  });

  it('refuses a form with two file parts, or with none (400), and stores nothing', async () => {
    const before = await listed(app);
    const two = await upload(multipartBody([filePart('one.md'), filePart('two.md')]));
    expect(two).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/one file/) });
    const none = await upload(multipartBody([{ disposition: 'form-data; name="note"', body: 'no file here' }]));
    expect(none).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/no file part/) });
    expect(await listed(app)).toEqual(before);
  });

  it('refuses malformed bodies with 400: no boundary, never-ending last part, 10,000 parts, a 100 KB header line', async () => {
    const before = await listed(app);
    const good = multipartBody([filePart('fine.md')]);
    expect(await upload(good, 'multipart/form-data')).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/boundary/) });
    expect(await upload(multipartBody([filePart('open.md')], { close: false }))).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/ended before/) });
    const tiny: RawPart[] = Array.from({ length: 10_000 }, (_, index) => ({ disposition: `form-data; name="f${index}"`, body: '' }));
    expect(await upload(multipartBody([...tiny, filePart('many.md')]))).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/parts/) });
    const padded = { ...filePart('padded.md'), headers: [`x-padding: ${'p'.repeat(100 * 1024)}`] };
    expect(await upload(multipartBody([padded]))).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/header/) });
    expect(await listed(app)).toEqual(before);
  });
});

describe('ingestion with an embedding model', () => {
  let app: RunningApp;
  let model: FakeModel;
  beforeAll(async () => {
    model = await startFakeModel();
    app = await startApp({
      OPENAI_BASE_URL: model.url,
      CHAT_MODEL_DEPLOYMENT_NAME: 'chat',
      EMBEDDING_MODEL_DEPLOYMENT_NAME: 'embedder',
      CONTENT_CONTAINER: uniqueName('content').toLowerCase().slice(0, 60),
    });
  });
  afterAll(async () => {
    await app?.stop();
    await model?.stop();
  });

  it('embeds chunks in batches of many inputs and retries a 429 honouring Retry-After', async () => {
    model.reset();
    model.enqueue({ kind: 'error', status: 429, headers: { 'retry-after': '0' } }, 1, 'embeddings');
    const response = await post(app, 'big.txt', longText('expenses', 900), 'text/plain');
    expect(response.status).toBe(201);
    const { chunks } = (await response.json()) as { chunks: number };
    expect(chunks).toBeGreaterThan(64);
    const calls = model.requests.filter((request) => request.path.endsWith('/embeddings'));
    const sizes = calls.map((call) => (call.body as { input: string[]; model: string }).input.length);
    // The first call was throttled and retried with the same batch.
    expect(sizes[0]).toBe(sizes[1]);
    expect(sizes[0]).toBeGreaterThanOrEqual(16);
    expect(sizes.slice(1).reduce((sum, size) => sum + size, 0)).toBe(chunks);
    expect(calls.length).toBe(1 + Math.ceil(chunks / 64));
    expect((calls[0]?.body as { model: string }).model).toBe('embedder');
  });
});
