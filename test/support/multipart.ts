// Hand-built multipart/form-data bodies for hostile requests (FormData cannot send a truncated body, unquoted
// parameters or a 100 KB header line), sent in chunks of our choosing so boundaries land across reads.
import { request } from 'node:http';

export interface RawPart {
  /** The whole Content-Disposition value, e.g. `form-data; name=json` (sent exactly as written). */
  disposition: string;
  contentType?: string;
  /** Extra header lines, sent as written. */
  headers?: string[];
  body: string | Uint8Array;
}

export const BOUNDARY = '---Part-5f1c2a9e-boundary';

/** The parts as a body; `close: false` leaves out the closing delimiter (a body that never ends its last part). */
export function multipartBody(parts: RawPart[], options: { boundary?: string; close?: boolean } = {}): Buffer {
  const boundary = options.boundary ?? BOUNDARY;
  const pieces: Buffer[] = [];
  for (const part of parts) {
    const headers = [`content-disposition: ${part.disposition}`, ...(part.contentType == null ? [] : [`content-type: ${part.contentType}`]), ...(part.headers ?? [])];
    pieces.push(Buffer.from(`--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n`), Buffer.from(part.body), Buffer.from('\r\n'));
  }
  if (options.close !== false) pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

export const formType = (boundary = BOUNDARY) => `multipart/form-data; boundary=${boundary}`;

export interface SentUpload {
  status: number;
  /** The body parsed as JSON; empty when it is not JSON (an NDJSON stream). */
  json: { error?: { code: string; message: string } } & Record<string, unknown>;
  text: string;
  /** Bytes of the body written when the answer's status line arrived. */
  sentWhenAnswered: number;
}

export interface ChunkedOptions {
  contentType: string;
  chunkBytes: number;
  pauseMs?: number;
  timeoutMs?: number;
  /**
   * Stop writing after this many bytes, without ending the request, and wait for the answer: one that arrives
   * proves the server decided without the rest of the body, however slow it is to answer.
   */
  holdAfterBytes?: number;
}

/**
 * POSTs `body` in pieces of `chunkBytes` with a pause between them, so the server reads it in many small
 * chunks. The server may answer (413, 400) before the whole body is written; writing stops then.
 */
export function sendInChunks(url: string, body: Buffer, options: ChunkedOptions): Promise<SentUpload> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: 'POST',
        headers: { 'content-type': options.contentType, 'transfer-encoding': 'chunked' },
        timeout: options.timeoutMs ?? 20_000,
      },
      (res) => {
        answered = true;
        const sentWhenAnswered = sent;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, json: parseJson(text), text, sentWhenAnswered });
          req.destroy();
        });
      },
    );
    req.setNoDelay(true);
    req.on('timeout', () => req.destroy(new Error(`no answer in ${options.timeoutMs ?? 20_000} ms after ${sent} bytes`)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The server closing on us while we still write is how an early refusal looks from here.
      if (answered || error.code === 'ECONNRESET' || error.code === 'EPIPE') return;
      reject(error);
    });
    const pump = () => {
      if (answered) return;
      if (options.holdAfterBytes != null && sent >= options.holdAfterBytes) return;
      if (sent >= body.length) {
        req.end();
        return;
      }
      const piece = body.subarray(sent, Math.min(sent + options.chunkBytes, options.holdAfterBytes ?? body.length));
      sent += piece.length;
      req.write(piece, () => setTimeout(pump, options.pauseMs ?? 0));
    };
    pump();
  });
}

function parseJson(text: string): SentUpload['json'] {
  try {
    return JSON.parse(text) as SentUpload['json'];
  } catch {
    return {};
  }
}

/** POSTs the whole body at once with a Content-Length. */
export async function sendWhole(url: string, body: Buffer, contentType: string, timeoutMs = 20_000): Promise<{ status: number; json: SentUpload['json'] }> {
  const response = await fetch(url, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': contentType }, signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  try {
    return { status: response.status, json: JSON.parse(text) as SentUpload['json'] };
  } catch {
    throw new Error(`status ${response.status}: not JSON: ${text.slice(0, 200)}`);
  }
}
