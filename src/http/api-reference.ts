import { commonErrors, type RouteDefinition } from './route.js';
import { openApiPath } from './openapi.js';

// docs/api.md, rendered from the route table by `npm run openapi` (and checked by `npm test`), so the
// reference in the repository cannot drift from what the app serves. API.md's prose stays the contract.

const header = `# API reference

Generated from the route table (\`src/http/route.ts\` declarations in \`src/functions/\`) by \`npm run openapi\`;
\`npm test\` fails when this file is stale. The machine-readable form is \`GET /api/openapi.json\` (OpenAPI 3.1).

Base URL: \`http://localhost:7071/api\` locally, \`https://<app>.azurewebsites.net/api\` in Azure. Routes marked
*function key* need \`x-functions-key: <key>\` (or \`?code=<key>\`) in Azure; locally no key is needed.

Every error is JSON: \`{"error": {"code": "<snake_case>", "message": "..."}}\`. Every route can also answer
${Object.entries(commonErrors).map(([status, text]) => `${status} (${text})`).join(' and ')}; routes with a function key answer 401 in Azure
(from the host, empty body) without a valid key. An unknown route or method is a JSON 404.
`;

function fieldList(schemaObject: unknown): string[] {
  if (typeof schemaObject !== 'object' || schemaObject == null || !('properties' in schemaObject)) return [];
  const { properties } = schemaObject;
  return typeof properties === 'object' && properties != null ? Object.keys(properties) : [];
}

function operationOf(document: Record<string, unknown>, route: RouteDefinition): Record<string, unknown> {
  const paths = document.paths;
  if (typeof paths !== 'object' || paths == null) return {};
  const item: unknown = Reflect.get(paths, openApiPath(route.route));
  const operation: unknown = typeof item === 'object' && item != null ? Reflect.get(item, route.method.toLowerCase()) : undefined;
  return typeof operation === 'object' && operation != null ? { ...operation } : {};
}

function section(route: RouteDefinition, document: Record<string, unknown>): string {
  const lines = [`### \`${route.method} /api/${openApiPath(route.route).slice(1)}\``, ''];
  lines.push(`${route.summary}. Operation \`${route.name}\`, ${route.authLevel === 'anonymous' ? 'anonymous' : 'function key'}.`, '');
  const params = route.params == null ? [] : Object.keys(route.params.shape);
  const query = route.query == null ? [] : Object.keys(route.query.shape);
  if (params.length > 0) lines.push(`- Path: ${params.map((name) => `\`${name}\``).join(', ')}`);
  if (query.length > 0) lines.push(`- Query: ${query.map((name) => `\`${name}\``).join(', ')}`);
  const operation = operationOf(document, route);
  const body = operation.requestBody;
  const content = typeof body === 'object' && body != null && 'content' in body && typeof body.content === 'object' && body.content != null ? body.content : {};
  for (const [type, media] of Object.entries(content)) {
    const schema: unknown = typeof media === 'object' && media != null ? Reflect.get(media, 'schema') : undefined;
    const fields = fieldList(schema);
    lines.push(`- Body \`${type}\`${fields.length > 0 ? `: ${fields.map((name) => `\`${name}\``).join(', ')}` : ''}`);
  }
  lines.push('', '| status | answer |', '|---|---|');
  for (const [status, spec] of Object.entries(route.responses).sort(([a], [b]) => Number(a) - Number(b))) {
    if (typeof spec === 'string') {
      lines.push(`| ${status} | ${spec} |`);
    } else {
      const types = Object.keys(spec.content ?? {}).map((type) => `\`${type}\``).join(', ');
      const headers = (spec.headers ?? []).map((name) => `header \`${name}\``).join(', ');
      lines.push(`| ${status} | ${[spec.description, types, headers].filter((part) => part !== '').join('; ')} |`);
    }
  }
  return lines.join('\n');
}

export function apiReference(routes: readonly RouteDefinition[], document: Record<string, unknown>): string {
  const visible = routes.filter((route) => route.hidden !== true);
  return `${header}\n${visible.map((route) => section(route, document)).join('\n\n')}\n`;
}
