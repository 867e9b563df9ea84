import { z } from 'zod';

// Each function module describes its routes next to its app.http registration; GET /api/openapi.json
// renders them, so the document is made from the very schemas that validate requests.

export interface RouteDescription {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path under /api in OpenAPI form, e.g. `/chats/{chatId}`. */
  path: string;
  summary: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Content type of the raw body when `body` is not JSON (documents). */
  rawBody?: string[];
  responses: Record<number, string>;
}

/** The answers every route that calls the model can give, shared so the document stays consistent. */
export const modelCallResponses = {
  429: 'model throttled (Retry-After passed on)',
  502: 'model failed',
  503: 'model not configured, or storage unavailable',
  504: 'model timed out',
};

const routes: RouteDescription[] = [];

export function describeRoute(description: RouteDescription): void {
  routes.push(description);
}

function parameters(schema: z.ZodObject | undefined, location: 'path' | 'query') {
  if (schema == null) return [];
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: location,
    required: location === 'path' || !field.safeParse(undefined).success,
    schema: z.toJSONSchema(field, { io: 'input', unrepresentable: 'any' }),
  }));
}

export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operation: Record<string, unknown> = {
      summary: route.summary,
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      responses: Object.fromEntries(
        Object.entries(route.responses).map(([status, description]) => [status, { description }]),
      ),
    };
    if (route.body != null) {
      operation.requestBody = {
        content: { 'application/json': { schema: z.toJSONSchema(route.body, { io: 'input', unrepresentable: 'any' }) } },
      };
    } else if (route.rawBody != null) {
      operation.requestBody = {
        content: Object.fromEntries(route.rawBody.map((type) => [type, { schema: { type: 'string', format: 'binary' } }])),
      };
    }
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'functions-openai-chat', version },
    servers: [{ url: '/api' }],
    components: {
      securitySchemes: { functionKey: { type: 'apiKey', in: 'header', name: 'x-functions-key' } },
    },
    security: [{ functionKey: [] }],
    paths,
  };
}
