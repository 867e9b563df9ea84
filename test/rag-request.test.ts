import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors/index.js';
import { parseImageDataUri, sniffImageType } from '../src/rag/images.js';
import { toRagRequest } from '../src/rag/request.js';
import { startApp, type RunningApp } from './support/app.js';
import { startFakeModel, type FakeModel } from './support/fake-model.js';
import { formType, multipartBody, sendInChunks, sendWhole, type RawPart } from './support/multipart.js';

export const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const png = `data:image/png;base64,${PNG.toString('base64')}`;
const limits = { maxImageBytes: 1024, maxImages: 2 };

const statusOf = (work: () => unknown) => {
  try {
    work();
  } catch (error: unknown) {
    return error instanceof AppError ? `${error.status} ${error.code}` : String(error);
  }
  return 'ok';
};

describe('images', () => {
  it('recognises png, jpeg, gif and webp by their bytes', () => {
    expect(sniffImageType(PNG)).toBe('png');
    expect(sniffImageType(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffImageType(Buffer.from('GIF89a....'))).toBe('gif');
    expect(sniffImageType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('webp');
    expect(sniffImageType(Buffer.from('%PDF-1.7'))).toBeUndefined();
  });

  it('refuses a type that lies, a non-image, a remote URL and an oversized image', () => {
    expect(statusOf(() => parseImageDataUri(png.replace('image/png', 'image/jpeg'), 1024, 'f'))).toBe('400 invalid_request');
    expect(statusOf(() => parseImageDataUri(`data:image/png;base64,${Buffer.from('hello').toString('base64')}`, 1024, 'f'))).toBe('400 invalid_request');
    expect(statusOf(() => parseImageDataUri('https://example.com/cat.png', 1024, 'f'))).toBe('400 invalid_request');
    expect(statusOf(() => parseImageDataUri(`data:image/png;base64,${Buffer.alloc(2000).toString('base64')}`, 1024, 'f'))).toBe('413 payload_too_large');
  });
});

describe('chat requests', () => {
  it('reads the AI Chat Protocol shape, attaching context.file to the latest user turn', () => {
    const request = toRagRequest(
      {
        messages: [
          { role: 'system', content: 'ignored' },
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello' },
          { role: 'user', content: [{ type: 'text', text: 'What is this?' }] },
        ],
        context: { overrides: { top: 3, unknown_key: true, retrieval_mode: null }, file: png },
        sessionState: { id: 7 },
      },
      new Map(),
      limits,
    );
    expect(request.history).toEqual([
      { role: 'user', text: 'Hi', images: [] },
      { role: 'assistant', text: 'Hello', images: [] },
    ]);
    expect(request.question.text).toBe('What is this?');
    expect(request.question.images).toHaveLength(1);
    expect(request.overrides.top).toBe(3);
    expect(request.sessionState).toEqual({ key: 'sessionState', value: { id: 7 } });
  });

  it('reads the older history shape', () => {
    const request = toRagRequest({ history: [{ user: 'a', bot: 'b' }, { user: 'c' }], overrides: { top: 1 } }, new Map(), limits);
    expect(request.history.map((m) => `${m.role}:${m.text}`)).toEqual(['user:a', 'assistant:b']);
    expect(request.question.text).toBe('c');
  });

  it.each([
    ['no messages', { messages: [] }, '400 invalid_request'],
    ['last from the assistant', { messages: [{ role: 'assistant', content: 'x' }] }, '400 invalid_request'],
    ['bad role', { messages: [{ role: 'tool', content: 'x' }] }, '400 invalid_request'],
    ['top too large', { messages: [{ role: 'user', content: 'x' }], context: { overrides: { top: 500 } } }, '400 invalid_request'],
    ['wrong override type', { messages: [{ role: 'user', content: 'x' }], context: { overrides: { temperature: 'hot' } } }, '400 invalid_request'],
    ['empty question', { messages: [{ role: 'user', content: '  ' }] }, '400 invalid_request'],
    ['question too long', { messages: [{ role: 'user', content: 'x'.repeat(32_001) }] }, '413 payload_too_large'],
    ['too many images', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: png } }, { type: 'image_url', image_url: { url: png } }] }], context: { file: png } }, '413 payload_too_large'],
    ['not an object', 'hello', '400 invalid_request'],
  ])('refuses %s', (_label, body, expected) => {
    expect(statusOf(() => toRagRequest(body, new Map(), limits))).toBe(expected);
  });
});

// The multipart variant of POST /api/chat, through HTTP: what the official client writes, and the worst bodies.
describe('multipart/form-data chat requests', () => {
  let model: FakeModel;
  let app: RunningApp;
  beforeAll(async () => {
    model = await startFakeModel();
    app = await startApp({ OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'multipart-model' });
  });
  afterAll(async () => {
    await app?.stop();
    await model?.stop();
  });
  beforeEach(() => model.reset());

  const question = (text = 'What is in this picture?') => JSON.stringify({ messages: [{ role: 'user', content: text }], context: { overrides: { retrieval_mode: 'none' } } });
  /** The parts @microsoft/ai-chat-protocol writes: `name=json` unquoted, then the file with its filename. */
  const clientParts = (json = question()): RawPart[] => [
    { disposition: 'form-data; name=json', contentType: 'application/json', body: json },
    { disposition: 'form-data; name="messages[0].files[0]"; filename="cat.png"', contentType: 'image/png', body: PNG },
  ];
  const imagesSent = () => model.chatBodies().flatMap((body) => body.messages.flatMap((message) => (Array.isArray(message.content) ? message.content : []))).filter((part) => (part as { type?: string }).type === 'image_url');
  const refusal = async (body: Buffer, contentType = formType()) => {
    const { status, json } = await sendWhole(`${app.baseUrl}/chat`, body, contentType);
    return { status, code: json.error?.code, message: json.error?.message ?? '' };
  };

  it('reads the official client\'s body even when every boundary and header is split across reads', async () => {
    const body = multipartBody(clientParts());
    for (const route of ['chat', 'chat/stream']) {
      model.reset();
      // 7-byte pieces: the delimiter (30+ bytes), the CRLFs and the header names all straddle reads.
      const { status } = await sendInChunks(`${app.baseUrl}/${route}`, body, { contentType: formType(), chunkBytes: 7 });
      expect([route, status]).toEqual([route, 200]);
      expect(imagesSent()).toHaveLength(1);
    }
  });

  it('refuses a multipart Content-Type without a boundary (400, names the boundary)', async () => {
    const answer = await refusal(multipartBody(clientParts()), 'multipart/form-data');
    expect(answer).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/boundary/) });
  });

  it('refuses a body that never closes its last part (400, not a hang)', async () => {
    const answer = await refusal(multipartBody(clientParts(), { close: false }));
    expect(answer).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/ended before/) });
  });

  it('refuses a body cut in the middle of a part\'s headers', async () => {
    const whole = multipartBody(clientParts());
    const cut = whole.subarray(0, whole.indexOf('filename=') + 4);
    expect(await refusal(cut)).toMatchObject({ status: 400, code: 'invalid_request' });
  });

  it('refuses 10,000 tiny parts (400) without answering the question', async () => {
    const tiny: RawPart[] = Array.from({ length: 10_000 }, (_, index) => ({ disposition: `form-data; name="f${index}"`, body: 'x' }));
    const answer = await refusal(multipartBody([...clientParts(), ...tiny]));
    expect(answer).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/parts/) });
    expect(model.requests).toHaveLength(0);
  });

  it('refuses a part header line of 100 KB (400)', async () => {
    const parts = clientParts();
    parts[1] = { ...parts[1]!, headers: [`x-padding: ${'p'.repeat(100 * 1024)}`] };
    const answer = await refusal(multipartBody(parts));
    expect(answer).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/header/) });
    expect(model.requests).toHaveLength(0);
  });

  it('refuses a form without a json part, with two json parts, or with JSON that does not parse', async () => {
    const [json, file] = clientParts() as [RawPart, RawPart];
    expect(await refusal(multipartBody([file]))).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/"json"/) });
    expect(await refusal(multipartBody([json, json, file]))).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/two "json"/) });
    expect(await refusal(multipartBody([{ ...json, body: '{"messages": [' }, file]))).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/JSON/) });
    expect(model.requests).toHaveLength(0);
  });

  it('refuses an image sent as a text part (no filename) rather than dropping it', async () => {
    const [json] = clientParts() as [RawPart, RawPart];
    const image: RawPart = { disposition: 'form-data; name="messages[0].files[0]"', contentType: 'image/png', body: PNG };
    const answer = await refusal(multipartBody([json, image]));
    expect(answer).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/messages\[0\]\.files\[0\].*file part/) });
    expect(model.requests).toHaveLength(0);
  });

  it('takes the json part as a file too (what FormData sends for a Blob), and refuses a second file in one slot', async () => {
    const [json, file] = clientParts() as [RawPart, RawPart];
    const asFile: RawPart = { disposition: 'form-data; name="json"; filename="blob"', contentType: 'application/json', body: json.body };
    expect((await sendWhole(`${app.baseUrl}/chat`, multipartBody([asFile, file]), formType())).status).toBe(200);
    expect(await refusal(multipartBody([json, file, file]))).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(/two/) });
  });

  it('ignores a preamble and unknown fields, as RFC 7578 readers do', async () => {
    const body = Buffer.concat([Buffer.from('This is a preamble.\r\n'), multipartBody([{ disposition: 'form-data; name="note"', body: 'hello' }, ...clientParts()])]);
    expect((await sendWhole(`${app.baseUrl}/chat`, body, formType())).status).toBe(200);
    expect(imagesSent()).toHaveLength(1);
  });
});
