// One declaration per operation. `defineRoute` takes the route's name, method, template, schemas for its input
// and for every response it can give, and its handler; from that one object the app registers `app.http`,
// validates the input before the handler runs, maps every failure to API.md's JSON error, and renders the
// OpenAPI operation (http/openapi.ts). Nothing about a route is written twice.
import { app, type HttpMethod, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import { config, type AppConfig } from '../config.js';
import { readJson, validate } from './body.js';
import { withinDeadline } from './deadline.js';
import { withErrors } from './respond.js';

/** A JSON body, parsed whatever its Content-Type (API.md) and refused over `limit` bytes. */
export interface JsonBody<Schema extends z.ZodType = z.ZodType> {
  kind: 'json';
  schema: Schema;
  /** Byte limit from the settings (default MAX_BODY_BYTES). */
  limit?: (settings: AppConfig) => number;
  /** Used when the body is empty; without it an empty body is a 400. */
  whenEmpty?: z.input<Schema>;
}

/**
 * A body the handler reads itself, because it streams it (document uploads) or takes several forms (JSON or
 * multipart with images): its content types with their schemas, `'binary'` for raw bytes.
 */
export interface HandlerBody {
  kind: 'handler';
  content: Record<string, z.ZodType | 'binary'>;
}

export type BodySpec = JsonBody | HandlerBody;

export const jsonBody = <Schema extends z.ZodType>(schema: Schema, options: Omit<JsonBody<Schema>, 'kind' | 'schema'> = {}): JsonBody<Schema> => ({
  kind: 'json',
  schema,
  ...options,
});

export const handlerBody = (content: HandlerBody['content']): HandlerBody => ({ kind: 'handler', content });

/** Response headers the API documents (API.md): named here so OpenAPI describes them once. */
export type DocumentedHeader = 'Retry-After' | 'x-chat-stored';

/** A successful response: its content types with their schemas (stream schemas describe one event or line). */
export interface SuccessResponse {
  description: string;
  content?: Record<string, z.ZodType>;
  headers?: DocumentedHeader[];
}

/** An error response is described by a sentence; its body is always API.md's Error. */
export type ResponseSpec = SuccessResponse | string;

type Output<Schema> = Schema extends z.ZodType ? z.output<Schema> : undefined;
type BodyOutput<Body> = Body extends JsonBody<infer Schema> ? z.output<Schema> : undefined;

export interface RouteInput<Params, Query, Body> {
  params: Output<Params>;
  query: Output<Query>;
  body: BodyOutput<Body>;
  request: HttpRequest;
  context: InvocationContext;
}

export interface RouteSpec<
  Params extends z.ZodObject | undefined = z.ZodObject | undefined,
  Query extends z.ZodObject | undefined = z.ZodObject | undefined,
  Body extends BodySpec | undefined = BodySpec | undefined,
> {
  /** Function name and OpenAPI operationId. */
  name: string;
  method: HttpMethod;
  /** Functions route template under the route prefix, e.g. `chats/{chatId}`, `content/{*path}`. */
  route: string;
  authLevel?: 'function' | 'anonymous' | 'admin';
  summary: string;
  description?: string;
  tags?: string[];
  params?: Params;
  query?: Query;
  body?: Body;
  /** Every status the route can give, besides the ones every route can (see `commonErrors`). */
  responses: Record<number, ResponseSpec>;
  /** Left out of the OpenAPI document (the catch-all). */
  hidden?: boolean;
  /** False for the one route that reports bad settings itself (health); every other route answers 503 first. */
  checksSettings?: boolean;
  /** Registered for all of these instead of `method` alone (the catch-all, which serves every method). */
  methods?: HttpMethod[];
  handler: (input: RouteInput<Params, Query, Body>) => Promise<HttpResponseInit>;
}

/** What the rest of the app sees of a route: its declaration, types erased. */
export type RouteDefinition = RouteSpec<z.ZodObject | undefined, z.ZodObject | undefined, BodySpec | undefined> & {
  /** The handler the host calls: validation and error mapping included. */
  invoke: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;
};

/** Statuses any route can answer: a bad setting (API.md: 503 configuration_error on every route) and a bug. */
export const commonErrors: Record<number, string> = {
  500: 'internal_error: a bug; the message carries the invocation id',
  503: 'configuration_error: a setting is missing or invalid (the message names it)',
};

const declared: RouteDefinition[] = [];

/** Declares one operation; `registerRoutes` hands it to the Functions host. */
export function defineRoute<
  Params extends z.ZodObject | undefined = undefined,
  Query extends z.ZodObject | undefined = undefined,
  Body extends BodySpec | undefined = undefined,
>(spec: RouteSpec<Params, Query, Body>): RouteDefinition {
  const invoke = withErrors(async (request: HttpRequest, context: InvocationContext) => {
    // A bad setting is 503 configuration_error on every route, before anything else runs (API.md).
    if (spec.checksSettings !== false) config();
    return withinDeadline(request, async () => {
      // Validation order: path, query, then the body (the only part that costs reading), all before the handler.
      const params = (spec.params == null ? undefined : validate(spec.params, request.params, 'path')) as Output<Params>;
      const query = (spec.query == null ? undefined : validate(spec.query, Object.fromEntries(request.query), 'query')) as Output<Query>;
      const body = (await readDeclaredBody(spec.body, request)) as BodyOutput<Body>;
      return spec.handler({ params, query, body, request, context });
    });
  });
  // The casts above only restate what the schemas just proved; the erased definition keeps the typed handler.
  const definition = { ...spec, invoke } as unknown as RouteDefinition;
  declared.push(definition);
  return definition;
}

async function readDeclaredBody(body: BodySpec | undefined, request: HttpRequest): Promise<unknown> {
  if (body == null || body.kind === 'handler') return undefined;
  const settings = config();
  const limit = body.limit?.(settings) ?? settings.maxBodyBytes;
  return readJson(request, body.schema, { limit, whenEmpty: body.whenEmpty });
}

/**
 * Registers the routes with the Functions host. Outside a host (vitest importing the route table) there is no
 * `@azure/functions-core`, and the declarations are only read, so nothing is registered.
 */
export function registerRoutes(routes: RouteDefinition[]): void {
  if (!hostPresent()) return;
  for (const route of routes) {
    app.http(route.name, { route: route.route, methods: route.methods ?? [route.method], authLevel: route.authLevel ?? 'function', handler: route.invoke });
  }
}

function hostPresent(): boolean {
  try {
    require('@azure/functions-core');
    return true;
  } catch {
    return false;
  }
}

/** Every route declared so far, in declaration order (the route table imports every function module first). */
export function declaredRoutes(): readonly RouteDefinition[] {
  return declared;
}
