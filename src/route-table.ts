// The route table: every operation the app serves, in one list. Importing a function module declares its
// routes (and, under a Functions host, registers them); this module imports them all, so the OpenAPI document
// and the test suites that walk every route see the same table the host serves. A new function module is
// added here.
import './functions/ask.js';
import './functions/chats.js';
import './functions/chat.js';
import './functions/documents.js';
import './functions/content.js';
import './functions/health.js';
import './functions/openapi.js';
import './functions/playground.js';
import './functions/not-found.js';
import { declaredRoutes, type RouteDefinition } from './http/route.js';

export function routeTable(): readonly RouteDefinition[] {
  return declaredRoutes();
}
