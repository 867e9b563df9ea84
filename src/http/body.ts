import type { HttpRequest } from '@azure/functions';
import type { z } from 'zod';
import { invalidRequest, payloadTooLarge } from '../errors/index.js';

/**
 * Reads the request body into memory, refusing (413) as soon as it passes `limit` bytes,
 * so an oversized upload is never read to its end.
 */
export async function readBytes(request: HttpRequest, limit: number): Promise<Buffer> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const body = request.body;
  if (body == null) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      // Stop reading; the host closes the connection after the 413 rather than draining the rest.
      if (size > limit) throw tooLarge(limit);
      chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks, size);
}

function tooLarge(limit: number) {
  return payloadTooLarge(`The request body is larger than ${limit} bytes.`);
}

/** Strips a UTF-8 byte-order mark, which some clients (and PowerShell) put before JSON. */
function decodeText(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export interface JsonBodyOptions {
  limit: number;
  /** Value used when the body is empty; without it an empty body is a 400. */
  whenEmpty?: unknown;
}

/** Parses the body as JSON whatever the Content-Type says (API.md), then validates it. */
export async function readJson<Schema extends z.ZodType>(
  request: HttpRequest,
  schema: Schema,
  options: JsonBodyOptions,
): Promise<z.output<Schema>> {
  const text = decodeText(await readBytes(request, options.limit));
  let value: unknown;
  if (text.trim() === '') {
    if (options.whenEmpty === undefined) throw invalidRequest('The request body is empty; send a JSON object.');
    value = options.whenEmpty;
  } else {
    try {
      value = JSON.parse(text);
    } catch (error: unknown) {
      const reason = error instanceof Error ? error.message : 'unparseable';
      throw invalidRequest(`The request body is not valid JSON (${reason}).`);
    }
  }
  return validate(schema, value, 'body');
}

/** Validates any request value with its route's schema; the message names the field that failed. */
export function validate<Schema extends z.ZodType>(schema: Schema, value: unknown, where: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join('.') : where;
    return { field, message: issue.message };
  });
  const summary = issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
  throw invalidRequest(`Invalid request ${where}: ${summary}`, issues);
}
