// The suites that walk every route (fuzz, secrets, faults, limits, storage outage) take their list of routes
// from the app's route table, not from a list of their own or from /openapi.json: a route the table gains
// fails each suite that cannot drive it, instead of being skipped in silence.
import { routeTable } from '../../src/route-table.js';
import type { RouteDefinition } from '../../src/http/route.js';

/** The served operations (the hidden catch-all is driven by the fuzzer's stray requests instead). */
export const servedRoutes = (): RouteDefinition[] => routeTable().filter((route) => route.hidden !== true);

/** Operations that call the model: they declare its timeout (API.md: 504 model_timeout). */
export const modelRoutes = (): RouteDefinition[] => servedRoutes().filter((route) => describes(route, 504, 'model_timeout'));

/** Operations that use storage: they declare 503 storage_unavailable. */
export const storageRoutes = (): RouteDefinition[] => servedRoutes().filter((route) => describes(route, 503, 'storage_unavailable'));

/** Operations that take input a limit applies to: a body or a path parameter. */
export const inputRoutes = (): RouteDefinition[] => servedRoutes().filter((route) => route.body != null || route.params != null);

function describes(route: RouteDefinition, status: number, code: string): boolean {
  const response = route.responses[status];
  const text = typeof response === 'string' ? response : (response?.description ?? '');
  return text.includes(code);
}

/**
 * Which of `required` a suite neither drives nor excuses (with a reason), and which names it mentions that the
 * table does not have (a renamed route), as one message per problem; empty when the suite covers the table.
 */
export function coverageProblems(required: RouteDefinition[], driven: Iterable<string>, excused: Record<string, string> = {}): string[] {
  const known = new Set(routeTable().map((route) => route.name));
  const covered = new Set([...driven, ...Object.keys(excused)]);
  return [
    ...required.filter((route) => !covered.has(route.name)).map((route) => `${route.name} (${route.method} /${route.route}) is not driven: add a case or excuse it with a reason`),
    ...[...covered].filter((name) => !known.has(name)).map((name) => `${name} is not in the route table (renamed or removed?)`),
  ];
}
