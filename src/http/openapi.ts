import { z } from 'zod';
import { errorCodes } from '../errors/index.js';
import { commonErrors, declaredRoutes, type DocumentedHeader, type ResponseSpec, type RouteDefinition, type SuccessResponse } from './route.js';

// The OpenAPI 3.1 document, rendered from the route table (http/route.ts): the very schemas that validate
// requests, and the response schemas each route declares. GET /api/openapi.json serves it; `npm test` lints it
// with Redocly and compiles a client generated from it.

/** API.md's error body, shared by every error response. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.enum(errorCodes).describe('stable snake_case code (API.md error table)'),
      message: z.string().describe('what went wrong and how to fix it'),
      details: z.unknown().optional(),
    }),
  })
  .meta({ description: 'Every non-2xx answer (API.md § Conventions)' });

/** The answers every route that calls the model can give, shared so the document stays consistent. */
export const modelCallResponses = {
  400: 'invalid_request, content_filter or context_length_exceeded',
  429: 'rate_limited: the model throttled us (Retry-After passed on), or quota_exceeded',
  502: 'model_error: the model failed or answered something invalid',
  503: 'model_not_configured, configuration_error or model_auth_failed',
  504: 'model_timeout: the model sent nothing for MODEL_TIMEOUT_MS',
} as const;

const headerObjects: Record<DocumentedHeader, Record<string, unknown>> = {
  'Retry-After': {
    description: 'Seconds to wait before retrying (passed on from the throttling upstream)',
    schema: { type: 'integer', minimum: 0 },
  },
  'x-chat-stored': {
    description: '`false` when the model answered but the turn could not be stored: the reply is in the body, the chat unchanged',
    schema: { type: 'string', enum: ['false'] },
  },
};

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });

/** `chats/{chatId}` → `/chats/{chatId}`; a catch-all `{*path}` is one path parameter in OpenAPI. */
export function openApiPath(route: string): string {
  return `/${route.replace(/^\/+|\/+$/g, '').replace(/\{\*?([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]*)?\??\}/g, '{$1}')}`;
}

function parameters(schema: z.ZodObject | undefined, location: 'path' | 'query') {
  if (schema == null) return [];
  return Object.entries(schema.shape).map(([name, field]) => {
    const { description, ...fieldSchema } = jsonSchema(field, 'input');
    return {
      name,
      in: location,
      required: location === 'path' || !field.safeParse(undefined).success,
      ...(typeof description === 'string' ? { description } : {}),
      schema: fieldSchema,
    };
  });
}

function requestBody(route: RouteDefinition): Record<string, unknown> | undefined {
  const body = route.body;
  if (body == null) return undefined;
  if (body.kind === 'json') {
    return {
      required: body.whenEmpty === undefined,
      description: 'JSON, whatever the Content-Type says (application/json, text/json, text/plain or none)',
      content: { 'application/json': { schema: jsonSchema(body.schema, 'input') } },
    };
  }
  return {
    required: true,
    content: Object.fromEntries(
      Object.entries(body.content).map(([type, schema]) => [
        type,
        { schema: schema === 'binary' ? { type: 'string', contentMediaType: type } : jsonSchema(schema, 'input') },
      ]),
    ),
  };
}

/** In Azure the host itself refuses a function-level call without a valid key, before any code of ours runs. */
const missingKey: SuccessResponse = { description: 'Azure only: no valid function key (x-functions-key or ?code=); the host answers, with an empty body' };

function responses(route: RouteDefinition): Record<string, unknown> {
  const all: Record<string, ResponseSpec> = { ...commonErrors, ...(route.authLevel === 'anonymous' ? {} : { 401: missingKey }), ...route.responses };
  return Object.fromEntries(
    Object.entries(all).map(([status, spec]) => {
      if (typeof spec === 'string') {
        const headers = status === '429' ? { headers: { 'Retry-After': headerObjects['Retry-After'] } } : {};
        return [status, { description: spec, ...headers, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }];
      }
      const content = spec.content == null
        ? undefined
        : Object.fromEntries(Object.entries(spec.content).map(([type, schema]) => [type, { schema: jsonSchema(schema, 'output') }]));
      const headers = spec.headers == null ? undefined : Object.fromEntries(spec.headers.map((name) => [name, headerObjects[name]]));
      return [status, { description: spec.description, ...(headers == null ? {} : { headers }), ...(content == null ? {} : { content }) }];
    }),
  );
}

function operation(route: RouteDefinition): Record<string, unknown> {
  const parameterList = [...parameters(route.params, 'path'), ...parameters(route.query, 'query')];
  const body = requestBody(route);
  return {
    operationId: route.name,
    summary: route.summary,
    ...(route.description == null ? {} : { description: route.description }),
    tags: route.tags ?? [],
    // authLevel anonymous: no function key, even in Azure.
    ...(route.authLevel === 'anonymous' ? { security: [] } : {}),
    ...(parameterList.length === 0 ? {} : { parameters: parameterList }),
    ...(body == null ? {} : { requestBody: body }),
    responses: responses(route),
  };
}

const tagDescriptions: Record<string, string> = {
  completions: 'One-shot completions (ask, whois)',
  chats: 'Stateful chats on Table Storage',
  'chat-with-data': 'Chat with your documents (Microsoft AI Chat Protocol)',
  documents: 'Documents: upload, list, delete, and the source files behind citations',
  operations: 'Health and this document',
  playground: 'A browser page to try the API',
};

export function openApiDocument(version: string, routes: readonly RouteDefinition[] = declaredRoutes()): { paths: Record<string, Record<string, unknown>>; [key: string]: unknown } {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (route.hidden === true) continue;
    (paths[openApiPath(route.route)] ??= {})[route.method.toLowerCase()] = operation(route);
  }
  const used = new Set(routes.filter((route) => route.hidden !== true).flatMap((route) => route.tags ?? []));
  return {
    openapi: '3.1.0',
    info: {
      title: 'functions-openai-chat',
      version,
      description: 'Azure Functions app: OpenAI-style ask, stateful chats on Table Storage and chat with your data. See docs/api.md.',
    },
    // Relative: the same document describes http://localhost:7071/api and https://<app>.azurewebsites.net/api.
    servers: [{ url: '/api', description: 'this app (http://localhost:7071/api locally)' }],
    tags: Object.entries(tagDescriptions).filter(([name]) => used.has(name)).map(([name, description]) => ({ name, description })),
    components: {
      securitySchemes: {
        functionKey: { type: 'apiKey', in: 'header', name: 'x-functions-key', description: 'Function key (Azure only; not needed locally)' },
      },
      schemas: { Error: jsonSchema(errorSchema, 'output') },
    },
    security: [{ functionKey: [] }],
    paths,
  };
}
