import { z } from 'zod';
import { openApiDocument } from '../http/openapi.js';
import { defineRoute, registerRoutes } from '../http/route.js';
import { routeTable } from '../route-table.js';
import { appVersion } from '../version.js';

export const openApiRoute = defineRoute({
  name: 'openapi',
  method: 'GET',
  route: 'openapi.json',
  tags: ['operations'],
  summary: 'This OpenAPI 3.1 document',
  responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': z.record(z.string(), z.unknown()) } } },
  handler: async () => ({ status: 200, jsonBody: openApiDocument(appVersion, routeTable()) }),
});

registerRoutes([openApiRoute]);
