import { z } from 'zod';
import { notFound } from '../errors/index.js';
import { defineRoute, registerRoutes } from '../http/route.js';
import { compileRoute, matchRoutes } from '../http/route-template.js';
import { routeTable } from '../route-table.js';

// Without this function the Azure host answers an unknown route with an empty 404; API.md wants JSON
// everywhere. Precedence: ASP.NET Core would try a `{*path}` template last (literal > parameter > catch-all),
// but the Functions host does not use that precedence — it tries routes in the order it registered them, which
// is by function name (azure-functions-host#9876, azure-webjobs-sdk-extensions#842, both open). So this
// function's name sorts after every other one, and test/route-table.test.ts keeps it so. It serves every
// method, so a known path with a method it does not serve also lands here; then the message names the
// methods that path does serve.

const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const;

function allowedMethods(path: string): string[] {
  const served = routeTable().filter((route) => route.hidden !== true);
  let matches;
  try {
    matches = matchRoutes(served.map((route) => compileRoute(route.route, route)), path);
  } catch {
    return [];
  }
  return [...new Set(matches.map((match) => match.route.value.method))];
}

export const notFoundRoute = defineRoute({
  // Named to sort last: the Functions host tries routes in function-name order (see above).
  name: 'zzzUnknownRoute',
  method: 'GET',
  methods: [...methods],
  route: '{*path}',
  // Anonymous, so an unknown route is a JSON 404 with or without a key (with 'function' Azure would answer 401).
  authLevel: 'anonymous',
  hidden: true,
  // An unknown route is unknown whatever the settings: 404, not 503.
  checksSettings: false,
  summary: 'Unknown route: JSON 404',
  // The rest of the path after the route prefix, as the host matched it.
  params: z.object({ path: z.string().optional() }),
  responses: { 404: 'not_found: no function serves this method and path' },
  handler: async ({ params, request }) => {
    const { pathname } = new URL(request.url);
    const allowed = allowedMethods(params.path ?? '');
    throw notFound(
      allowed.length > 0
        ? `${request.method} is not supported on ${pathname}; use ${allowed.join(', ')}.`
        : `No function matches ${request.method} ${pathname}.`,
    );
  },
});

registerRoutes([notFoundRoute]);
