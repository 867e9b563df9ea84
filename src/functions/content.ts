import { z } from 'zod';
import { abortSignalOf } from '../http/abort.js';
import { notFound } from '../errors/index.js';
import { defineRoute, registerRoutes } from '../http/route.js';
import { documentName } from '../ingest/prepare.js';
import { contentStore } from '../services.js';

export const contentParams = z.object({ path: z.string().min(1, 'must name a document') });

/** The document name a citation path refers to: `#page=N` (sent encoded by some clients) is dropped. */
export function citedDocument(path: string): string | undefined {
  const name = path.replace(/#.*$/s, '');
  return documentName.safeParse(name).success ? name : undefined;
}

export const contentRoute = defineRoute({
  name: 'content',
  method: 'GET',
  route: 'content/{*path}',
  tags: ['documents'],
  summary: 'The source file behind a citation (a #page=N suffix is ignored), inline with its content type',
  params: contentParams,
  responses: {
    200: { description: 'The file, inline, with its stored content type', content: { 'application/octet-stream': z.string().describe('the file') } },
    400: 'invalid_request: an empty path',
    404: 'not_found: unknown document',
    503: 'storage_unavailable, storage_auth_failed or configuration_error',
  },
  handler: async ({ params: { path }, request }) => {
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
  },
});

registerRoutes([contentRoute]);
