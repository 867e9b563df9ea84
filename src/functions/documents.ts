import type { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import { config } from '../config.js';
import { readBytes, validate } from '../http/body.js';
import { invalidRequest } from '../errors/index.js';
import { isMultipart, readForm, type FormLimits } from '../http/multipart.js';
import { defineRoute, handlerBody, registerRoutes } from '../http/route.js';
import { supportedTypes } from '../ingest/loaders.js';
import { abortSignalOf } from '../http/abort.js';
import { deleteDocument, ingestDocument, listDocuments } from '../ingest/pipeline.js';
import { documentCategory, documentName, type IngestInput } from '../ingest/prepare.js';
import { contentStore, ingestDependencies } from '../services.js';

export const uploadQuery = z.object({ name: documentName.optional(), category: documentCategory });
export const documentParams = z.object({ name: documentName });

/** Room for multipart boundaries and part headers on top of the document itself. */
const MULTIPART_OVERHEAD = 64 * 1024;

/** A form with the document as its one file part; text parts (a client's extra fields) are ignored. */
const uploadFormLimits = (maxDocumentBytes: number): FormLimits => ({
  bodyBytes: maxDocumentBytes + MULTIPART_OVERHEAD,
  fileBytes: () => ({ bytes: maxDocumentBytes, setting: 'MAX_DOCUMENT_BYTES' }),
  fieldBytes: { bytes: 64 * 1024 },
  parts: 16,
  files: { max: 1, tooMany: () => invalidRequest('The form has more than one file part; upload one file per request.') },
});

/** The upload as name + bytes + type, from a raw body (`?name=`) or the file part of a multipart form. */
async function readUpload(request: HttpRequest, query: z.infer<typeof uploadQuery>): Promise<IngestInput> {
  const limit = config().maxDocumentBytes;
  if (isMultipart(request)) {
    const file = (await readForm(request, uploadFormLimits(limit))).find((part) => part.kind === 'file');
    if (file == null) throw invalidRequest('The form has no file part; send the document as a file field.');
    const name = query.name ?? validate(documentName, file.filename, 'file name');
    return { name, bytes: file.bytes, contentType: file.contentType, category: query.category };
  }
  if (query.name == null) throw invalidRequest('Name the document with ?name=<file name>, or upload it as multipart/form-data.');
  return { name: query.name, bytes: await readBytes(request, limit), contentType: request.headers.get('content-type') ?? '', category: query.category };
}

export const documentInfoSchema = z.object({
  name: z.string(),
  chunks: z.number().int(),
  pages: z.number().int(),
  contentType: z.string(),
  size: z.number().int(),
  indexedAt: z.iso.datetime(),
  category: z.string().optional(),
});

const tags = ['documents'];
const storageErrors = { 503: 'storage_unavailable, storage_auth_failed or configuration_error' };

export const uploadDocumentRoute = defineRoute({
  name: 'uploadDocument',
  method: 'POST',
  route: 'documents',
  tags,
  summary: 'Store, split, embed (when configured) and index a document; re-posting a name replaces it',
  query: uploadQuery,
  body: handlerBody({
    ...Object.fromEntries(supportedTypes.map((type) => [type, 'binary' as const])),
    'multipart/form-data': z.object({ file: z.string().describe('the document (its file name names it unless ?name= does)') }),
  }),
  responses: {
    201: {
      description: 'Stored and indexed',
      content: { 'application/json': z.object({ name: z.string(), chunks: z.number().int(), pages: z.number().int() }) },
    },
    400: 'invalid_request: missing or invalid name, corrupt or empty file, a malformed multipart form, or one with no file part or two',
    413: 'payload_too_large: over MAX_DOCUMENT_BYTES, MAX_DOCUMENT_PAGES or MAX_DOCUMENT_TEXT_CHARS, or too complex to read within the parser\'s memory and time budget',
    415: 'unsupported_media_type: a type that cannot be ingested',
    429: 'rate_limited: the embedding model or the search service throttled us',
    502: 'model_error or search_error: embedding or indexing failed',
    ...storageErrors,
  },
  handler: async ({ query, request }) => {
    const upload = await readUpload(request, query);
    const result = await ingestDocument(upload, await ingestDependencies(), abortSignalOf(request));
    return { status: 201, jsonBody: { name: result.name, chunks: result.chunks, pages: result.pages } };
  },
});

export const listDocumentsRoute = defineRoute({
  name: 'listDocuments',
  method: 'GET',
  route: 'documents',
  tags,
  summary: 'Indexed documents: name, chunks, pages, contentType, size, indexedAt',
  responses: { 200: { description: 'The catalogue', content: { 'application/json': z.array(documentInfoSchema) } }, ...storageErrors },
  handler: async () => ({ status: 200, jsonBody: await listDocuments(await contentStore()) }),
});

export const deleteDocumentRoute = defineRoute({
  name: 'deleteDocument',
  method: 'DELETE',
  route: 'documents/{name}',
  tags,
  summary: 'Remove a document and its chunks',
  params: documentParams,
  responses: {
    204: { description: 'Deleted' },
    400: 'invalid_request: not a valid document name',
    404: 'not_found: unknown document',
    502: 'search_error: removing its chunks failed',
    ...storageErrors,
  },
  handler: async ({ params: { name } }) => {
    await deleteDocument(name, await ingestDependencies());
    return { status: 204 };
  },
});

registerRoutes([uploadDocumentRoute, listDocumentsRoute, deleteDocumentRoute]);
