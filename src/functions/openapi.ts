import { app, type HttpResponseInit } from '@azure/functions';
import { describeRoute, openApiDocument } from '../http/openapi.js';
import { withErrors } from '../http/respond.js';
import { appVersion } from '../version.js';

export async function openapi(): Promise<HttpResponseInit> {
  return { status: 200, jsonBody: openApiDocument(appVersion) };
}

app.http('openapi', { route: 'openapi.json', methods: ['GET'], authLevel: 'function', handler: withErrors(openapi) });

describeRoute({ method: 'GET', path: '/openapi.json', summary: 'This OpenAPI document', responses: { 200: 'OpenAPI 3.1' } });
