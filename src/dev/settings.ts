import { readFile } from 'node:fs/promises';

/**
 * Loads `Values` from local.settings.json into the environment as Core Tools does: variables that are
 * already set win. Returns the names it set (never their values: they may be keys).
 */
export async function loadLocalSettings(file: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error: unknown) {
    throw new Error(`${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const values = typeof parsed === 'object' && parsed != null ? (parsed as { Values?: unknown }).Values : undefined;
  if (values == null) return [];
  if (typeof values !== 'object') throw new Error(`${file}: "Values" must be an object of strings.`);
  const applied: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (env[name] !== undefined || value == null) continue;
    env[name] = String(value);
    applied.push(name);
  }
  return applied;
}

/** The `Host` section of local.settings.json that Core Tools honours: port and CORS. */
export interface LocalHostSettings {
  localHttpPort?: number;
  cors?: unknown;
  corsCredentials?: unknown;
}

export async function readLocalHostSettings(file: string): Promise<LocalHostSettings> {
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
  } catch {
    return {};
  }
  const host = typeof parsed === 'object' && parsed != null && 'Host' in parsed ? parsed.Host : undefined;
  if (typeof host !== 'object' || host == null) return {};
  const port = 'LocalHttpPort' in host ? Number(host.LocalHttpPort) : undefined;
  return {
    localHttpPort: port != null && Number.isInteger(port) && port >= 0 && port <= 65535 ? port : undefined,
    cors: 'CORS' in host ? host.CORS : undefined,
    corsCredentials: 'CORSCredentials' in host ? host.CORSCredentials : undefined,
  };
}

/** `extensions.http.routePrefix` from host.json (default `api`, as the Functions host). */
export async function readRoutePrefix(file: string): Promise<string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
  } catch {
    return 'api';
  }
  const extensions = typeof parsed === 'object' && parsed != null && 'extensions' in parsed ? parsed.extensions : undefined;
  const http = typeof extensions === 'object' && extensions != null && 'http' in extensions ? extensions.http : undefined;
  const prefix = typeof http === 'object' && http != null && 'routePrefix' in http ? http.routePrefix : undefined;
  return typeof prefix === 'string' ? prefix : 'api';
}
