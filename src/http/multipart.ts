// multipart/form-data, read with busboy while the body streams in: every limit (the whole body, each part, the
// number of parts and files, a part's headers) is applied as bytes arrive, so an oversized upload is refused after
// at most one chunk past its limit (a text part: past its limit plus room for its headers), never read to its end
// nor kept in memory beyond its limit. Busboy takes the
// parameters other parsers refuse (RFC 7578 readers accept `name=json` unquoted, which the official AI Chat
// Protocol client writes) and `filename*` (RFC 5987).
import type { HttpRequest } from '@azure/functions';
import busboy from 'busboy';
import { invalidRequest, payloadTooLarge, type AppError } from '../errors/index.js';

/** A file part (it had a filename, or was application/octet-stream), whole in memory once read. */
export interface FormFile {
  kind: 'file';
  /** The part's `name` ('' when it had none). */
  name: string;
  /** As sent, path and all: the caller decides what a valid name is ('' when there was none). */
  filename: string;
  /** The part's Content-Type (RFC 7578's default text/plain when it had none). */
  contentType: string;
  bytes: Buffer;
}

/** A text part, decoded with its charset (UTF-8 by default). */
export interface FormField {
  kind: 'field';
  name: string;
  value: string;
  contentType: string;
}

export type FormPart = FormFile | FormField;

export interface FormLimits {
  /** The whole body, boundaries and headers included (413). */
  bodyBytes: number;
  /** The most one file part may hold, by part name, with the setting that sets it (413, naming both). */
  fileBytes: (name: string) => { bytes: number; setting: string };
  /** The most one text part may hold, and the setting behind it if one is (413, naming the part). */
  fieldBytes: { bytes: number; setting?: string };
  /** The most parts of any kind (400). */
  parts: number;
  /** The most file parts, and the error for one more: what "too many" means is the route's to say. */
  files: { max: number; tooMany: () => AppError };
}

/** Busboy's own cap on one part's header block (Node's HTTP header limit); it reports only "malformed". */
const PART_HEADER_BYTES = 16 * 1024;

export const isMultipart = (request: HttpRequest) => /^multipart\/form-data\b/i.test(request.headers.get('content-type') ?? '');

/**
 * Reads a multipart/form-data body into its parts, in the order they end. 400 `invalid_request` for a body that is
 * not a well-formed form (no boundary, cut short, too many parts, bad headers); 413 `payload_too_large` for one
 * over a byte limit. Parts that fail nothing are not interpreted here: the route decides what they mean.
 */
export async function readForm(request: HttpRequest, limits: FormLimits): Promise<FormPart[]> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limits.bodyBytes) throw bodyTooLarge(limits.bodyBytes);
  const parser = createParser(request.headers.get('content-type') ?? '', limits);
  const parts: FormPart[] = [];
  let failure: AppError | undefined;
  const fail = (error: AppError) => {
    failure ??= error;
  };
  const closed = new Promise<void>((resolve) => parser.once('close', resolve));

  const progress: PartProgress = { sincePartEvent: 0, filesOpen: 0 };
  parser.on('field', (name, value, info) => {
    progress.sincePartEvent = 0;
    if (info.valueTruncated) fail(payloadTooLarge(`${name || 'a text part'}: the part is larger than ${describe(limits.fieldBytes)}.`));
    else parts.push({ kind: 'field', name, value, contentType: info.mimeType });
  });
  parser.on('file', (rawName: string | undefined, stream, info) => {
    const name = rawName ?? '';
    const limit = limits.fileBytes(name);
    const chunks: Buffer[] = [];
    let size = 0;
    progress.sincePartEvent = 0;
    progress.filesOpen += 1;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit.bytes) fail(payloadTooLarge(`${name || 'a file part'}: the file is larger than ${limit.bytes} bytes (${limit.setting}).`));
      else chunks.push(chunk);
    });
    stream.on('end', () => {
      progress.sincePartEvent = 0;
      progress.filesOpen -= 1;
      if (size <= limit.bytes) parts.push({ kind: 'file', name, filename: info.filename ?? '', contentType: info.mimeType, bytes: Buffer.concat(chunks, size) });
    });
    // A body cut inside this file errors the file stream too; the parser reports it (below), once.
    stream.on('error', () => undefined);
  });
  parser.on('partsLimit', () => fail(invalidRequest(`The form has more than ${limits.parts} parts.`)));
  parser.on('filesLimit', () => fail(limits.files.tooMany()));
  parser.on('error', (error: unknown) => fail(malformed(error)));

  try {
    await feed(request, parser, limits, progress, () => failure, fail);
  } catch (error: unknown) {
    // The body itself failed (the client hung up): the caller's error, after the parser is let go.
    parser.destroy();
    throw error;
  }
  if (failure == null) {
    parser.end();
    await closed;
  } else {
    parser.destroy();
  }
  if (failure != null) throw failure;
  return parts;
}

function createParser(contentType: string, limits: FormLimits): busboy.Busboy {
  try {
    return busboy({
      headers: { 'content-type': contentType },
      // Names are the caller's to judge: a stripped `../x.md` would be stored as `x.md` without a word.
      preservePath: true,
      // Browsers and curl send raw UTF-8 file names (`café.md`), not Latin-1.
      defParamCharset: 'utf8',
      limits: {
        // Busboy flags a limit when it is reached, so one byte more: a part of exactly the limit is fine.
        fieldSize: limits.fieldBytes.bytes + 1,
        files: limits.files.max,
        // Busboy counts a part when it ends and flags reaching the count: one more, so `parts` parts pass.
        parts: limits.parts + 1,
      },
    });
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : '';
    if (/boundary/i.test(reason)) throw invalidRequest('The multipart/form-data Content-Type has no boundary parameter (multipart/form-data; boundary=...).');
    throw invalidRequest(`The body could not be read as multipart/form-data (${reason || 'unreadable Content-Type'}).`);
  }
}

/**
 * Busboy reports a text part only once it ends (and stops keeping its bytes at the limit, but reads on): bytes fed
 * since the last part event, with no file open, are a text part in progress (or a preamble or skipped part).
 */
interface PartProgress {
  sincePartEvent: number;
  filesOpen: number;
}

/**
 * Writes the body into the parser, one chunk at a time, until it ends, a limit fails, or the body passes its limit;
 * a loop rather than `Readable.fromWeb(...).pipe()` so that nothing more is read once a limit has failed. As in
 * `readBytes`, the reader is then released, and the host closes the connection after answering (src/dev/server.ts).
 */
async function feed(
  request: HttpRequest,
  parser: busboy.Busboy,
  limits: FormLimits,
  progress: PartProgress,
  failure: () => AppError | undefined,
  fail: (error: AppError) => void,
): Promise<void> {
  const body = request.body;
  if (body == null) return;
  const reader = body.getReader();
  let size = 0;
  try {
    while (failure() == null) {
      const { done, value } = await reader.read();
      if (done) return;
      size += value.byteLength;
      if (size > limits.bodyBytes) return fail(bodyTooLarge(limits.bodyBytes));
      progress.sincePartEvent += value.byteLength;
      // Headers (at most PART_HEADER_BYTES) and the text: anything longer is a text part over its limit.
      if (progress.filesOpen === 0 && progress.sincePartEvent > limits.fieldBytes.bytes + PART_HEADER_BYTES) {
        return fail(payloadTooLarge(`A text part of the form is larger than ${describe(limits.fieldBytes)}.`));
      }
      await new Promise<void>((resolve) => {
        parser.write(value, (error) => {
          if (error != null) fail(malformed(error));
          resolve();
        });
      });
    }
  } finally {
    reader.releaseLock();
  }
}

/** Busboy's errors in words a client can act on. */
function malformed(error: unknown): AppError {
  const reason = error instanceof Error ? error.message : String(error);
  if (/unexpected end/i.test(reason)) return invalidRequest('The multipart/form-data body ended before its closing boundary (--<boundary>--).');
  if (/part header/i.test(reason)) {
    return invalidRequest(`A part's header is malformed or larger than ${PART_HEADER_BYTES} bytes (each part needs "Name: value" header lines, then an empty line).`);
  }
  return invalidRequest(`The multipart/form-data body could not be read (${reason}).`);
}

const describe = (limit: FormLimits['fieldBytes']) => `${limit.bytes} bytes${limit.setting == null ? '' : ` (${limit.setting})`}`;

function bodyTooLarge(limit: number): AppError {
  return payloadTooLarge(`The request body is larger than ${limit} bytes.`);
}
