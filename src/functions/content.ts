import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { abortSignalOf } from '../http/abort.js';
import { validate } from '../http/body.js';
import { notFound } from '../errors/index.js';
import { describeRoute } from '../http/openapi.js';
import { withErrors } from '../http/respond.js';
import { documentName } from '../ingest/pipeline.js';
import { contentStore } from '../services.js';

export const contentParams = z.object({ path: z.string().min(1, 'must name a document') });

/** The document name a citation path refers to: `#page=N` (sent encoded by some clients) is dropped. */
export function citedDocument(path: string): string | undefined {
  const name = path.replace(/#.*$/s, '');
  return documentName.safeParse(name).success ? name : undefined;
}

export async function content(request: HttpRequest): Promise<HttpResponseInit> {
  const { path } = validate(contentParams, request.params, 'path');
  const name = citedDocument(path);
  // Anything that is not a plain file name (folders, `..`) cannot be a stored document.
  const stored = name == null ? undefined : await (await contentStore()).open(name, abortSignalOf(request));
  if (stored == null) throw notFound(`No document named "${path}".`);
  return {
    status: 200,
    headers: {
      'Content-Type': stored.contentType,
      'Content-Length': String(stored.size),
      'Content-Disposition': `inline; filename*=UTF-8''${encodeURIComponent(name ?? '')}`,
      'X-Content-Type-Options': 'nosniff',
      // Uploaded HTML is shown, never run with this origin's rights.
      'Content-Security-Policy': 'sandbox',
      'Cache-Control': 'private, max-age=300',
    },
    body: stored.body,
  };
}

app.http('content', { route: 'content/{*path}', methods: ['GET'], authLevel: 'function', handler: withErrors(content) });

describeRoute({
  method: 'GET',
  path: '/content/{path}',
  summary: 'The source file behind a citation (a #page=N suffix is ignored), inline with its content type',
  params: contentParams,
  responses: { 200: 'the file', 404: 'unknown document' },
});
