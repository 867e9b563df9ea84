import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { config } from '../config.js';
import { readBytes, validate } from '../http/body.js';
import { invalidRequest } from '../errors/index.js';
import { describeRoute } from '../http/openapi.js';
import { withErrors } from '../http/respond.js';
import { supportedTypes } from '../ingest/loaders.js';
import { deleteDocument, documentCategory, documentName, ingestDocument, listDocuments, type IngestInput } from '../ingest/pipeline.js';
import { contentStore, ingestDependencies } from '../services.js';

export const uploadQuery = z.object({ name: documentName.optional(), category: documentCategory });
export const documentParams = z.object({ name: documentName });

/** Room for multipart boundaries and part headers on top of the document itself. */
const MULTIPART_OVERHEAD = 64 * 1024;

/** The upload as name + bytes + type, from a raw body (`?name=`) or the first file of a multipart form. */
async function readUpload(request: HttpRequest, query: z.infer<typeof uploadQuery>): Promise<IngestInput> {
  const limit = config().maxDocumentBytes;
  const contentType = request.headers.get('content-type') ?? '';
  if (/^multipart\/form-data/i.test(contentType)) {
    // Read with the size check first, then let the platform's parser split the parts.
    const bytes = await readBytes(request, limit + MULTIPART_OVERHEAD);
    const form = await new Response(new Uint8Array(bytes), { headers: { 'content-type': contentType } }).formData().catch(() => {
      throw invalidRequest('The multipart/form-data body could not be parsed.');
    });
    const file = [...form.values()].find((value): value is File => typeof value !== 'string');
    if (file == null) throw invalidRequest('The form has no file part; send the document as a file field.');
    const name = query.name ?? validate(documentName, file.name, 'file name');
    return { name, bytes: new Uint8Array(await file.arrayBuffer()), contentType: file.type, category: query.category };
  }
  if (query.name == null) throw invalidRequest('Name the document with ?name=<file name>, or upload it as multipart/form-data.');
  return { name: query.name, bytes: await readBytes(request, limit), contentType, category: query.category };
}

export async function uploadDocument(request: HttpRequest): Promise<HttpResponseInit> {
  const query = validate(uploadQuery, Object.fromEntries(request.query), 'query');
  const upload = await readUpload(request, query);
  const result = await ingestDocument(upload, await ingestDependencies());
  return { status: 201, jsonBody: { name: result.name, chunks: result.chunks, pages: result.pages } };
}

export async function getDocuments(_request: HttpRequest): Promise<HttpResponseInit> {
  return { status: 200, jsonBody: await listDocuments(await contentStore()) };
}

export async function removeDocument(request: HttpRequest): Promise<HttpResponseInit> {
  const { name } = validate(documentParams, request.params, 'path');
  await deleteDocument(name, await ingestDependencies());
  return { status: 204 };
}

app.http('uploadDocument', { route: 'documents', methods: ['POST'], authLevel: 'function', handler: withErrors(uploadDocument) });
app.http('listDocuments', { route: 'documents', methods: ['GET'], authLevel: 'function', handler: withErrors(getDocuments) });
app.http('deleteDocument', { route: 'documents/{name}', methods: ['DELETE'], authLevel: 'function', handler: withErrors(removeDocument) });

describeRoute({
  method: 'POST',
  path: '/documents',
  summary: 'Store, split, embed (when configured) and index a document; re-posting a name replaces it',
  query: uploadQuery,
  rawBody: [...supportedTypes, 'multipart/form-data'],
  responses: { 201: '{name, chunks, pages}', 400: 'missing name, corrupt or empty file', 413: 'over MAX_DOCUMENT_BYTES', 415: 'unsupported type', 503: 'storage unavailable' },
});
describeRoute({ method: 'GET', path: '/documents', summary: 'Indexed documents: name, chunks, pages, contentType, size, indexedAt', responses: { 200: 'the catalogue' } });
describeRoute({ method: 'DELETE', path: '/documents/{name}', summary: 'Remove a document and its chunks', params: documentParams, responses: { 204: 'deleted', 404: 'unknown document' } });
