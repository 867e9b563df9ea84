import { describe, expect, it } from 'vitest';
import { AppError } from '../src/errors/index.js';
import { parseImageDataUri, sniffImageType } from '../src/rag/images.js';
import { toRagRequest } from '../src/rag/request.js';

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
