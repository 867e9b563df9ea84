// Route templates as the Functions host understands them (ASP.NET style): literal segments, `{name}`,
// `{name:constraint}`, optional `{name?}` and catch-all `{*name}`; matched case-insensitively, and a
// trailing slash is ignored (the seed's curl posts to `/api/ask/`).

export interface CompiledRoute<T> {
  template: string;
  pattern: RegExp;
  names: string[];
  /** Sort key: literal routes before parameterized ones, catch-alls last. */
  rank: number;
  value: T;
}

const PARAMETER = /\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]*)?(\??)\}/g;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function compileRoute<T>(template: string, value: T): CompiledRoute<T> {
  const trimmed = template.replace(/^\/+|\/+$/g, '');
  const names: string[] = [];
  let source = '';
  let last = 0;
  let rank = 0;
  for (const match of trimmed.matchAll(PARAMETER)) {
    const [whole, star, name, optional] = match;
    const index = match.index ?? 0;
    source += escape(trimmed.slice(last, index));
    last = index + whole.length;
    names.push(name ?? '');
    if (star === '*') {
      source += '(.*)';
      rank += 100;
    } else if (optional === '?') {
      // An optional last segment also matches without its slash.
      if (source.endsWith('/')) source = `${source.slice(0, -1)}(?:/([^/]*))?`;
      else source += '([^/]*)';
      rank += 10;
    } else {
      source += '([^/]+)';
      rank += 10;
    }
  }
  source += escape(trimmed.slice(last));
  return { template: trimmed, pattern: new RegExp(`^${source}/?$`, 'i'), names, rank, value };
}

/**
 * Decodes a route value as ASP.NET Core (Kestrel) does: every escape except `%2F`, which stays encoded so a
 * value can never gain a path separator. Broken escapes throw.
 */
export function decodeRouteValue(raw: string): string {
  return raw.split(/%2F/i).map(decodeURIComponent).join('%2F');
}

/**
 * The order the Azure Functions host tries routes in: the order it registers them, which is by function name,
 * not ASP.NET Core's template precedence (azure-functions-host#9876, azure-webjobs-sdk-extensions#842). The local
 * host does the same, so an ambiguous pair of routes misbehaves locally exactly as in Azure.
 */
export function byFunctionName<T extends { name: string }>(a: CompiledRoute<T>, b: CompiledRoute<T>): number {
  const left = a.value.name.toLowerCase();
  const right = b.value.name.toLowerCase();
  return left < right ? -1 : left > right ? 1 : 0;
}

export type RouteMatch<T> = { route: CompiledRoute<T>; params: Record<string, string> };

/** Returns every route whose template matches `path` (no leading `/api/`), best first. */
export function matchRoutes<T>(routes: CompiledRoute<T>[], path: string): RouteMatch<T>[] {
  const trimmed = path.replace(/^\/+/, '');
  const matches: RouteMatch<T>[] = [];
  for (const route of routes) {
    const found = route.pattern.exec(trimmed);
    if (found == null) continue;
    const params: Record<string, string> = {};
    route.names.forEach((name, index) => {
      const raw = found[index + 1];
      if (raw != null && raw !== '') params[name] = decodeRouteValue(raw);
    });
    matches.push({ route, params });
  }
  return matches.sort((a, b) => a.route.rank - b.route.rank);
}
