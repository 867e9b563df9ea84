import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

// CORS as Core Tools applies it from local.settings.json (`Host.CORS`: comma-separated origins or `*`;
// `Host.CORSCredentials`: allow credentials). In Azure the platform does this from the app's CORS settings
// (infra/main.bicep parameter `corsAllowedOrigins`); the functions themselves never see a preflight.

export interface CorsSettings {
  origins: string[];
  credentials: boolean;
}

export function parseCors(value: unknown, credentials: unknown): CorsSettings | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const origins = value.split(',').map((origin) => origin.trim().replace(/\/+$/, '')).filter((origin) => origin !== '');
  return { origins, credentials: credentials === true || credentials === 'true' };
}

function allowedOrigin(settings: CorsSettings, origin: string | undefined): string | undefined {
  if (origin == null) return undefined;
  if (settings.origins.includes('*')) return settings.credentials ? origin : '*';
  return settings.origins.some((allowed) => allowed.toLowerCase() === origin.toLowerCase()) ? origin : undefined;
}

/** Headers for an actual (non-preflight) request from an allowed origin. */
export function corsHeaders(settings: CorsSettings, headers: IncomingHttpHeaders): Record<string, string> {
  const origin = allowedOrigin(settings, headers.origin);
  if (origin == null) return {};
  return {
    'Access-Control-Allow-Origin': origin,
    ...(origin === '*' ? {} : { Vary: 'Origin' }),
    ...(settings.credentials ? { 'Access-Control-Allow-Credentials': 'true' } : {}),
    'Access-Control-Expose-Headers': 'Retry-After, x-chat-stored, x-ms-invocation-id',
  };
}

/** Answers a preflight (OPTIONS with Access-Control-Request-Method); true when it did. */
export function preflight(settings: CorsSettings, req: IncomingMessage, res: ServerResponse): boolean {
  const requested = req.headers['access-control-request-method'];
  if (req.method !== 'OPTIONS' || requested == null) return false;
  const origin = allowedOrigin(settings, req.headers.origin);
  if (origin == null) {
    // Not an allowed origin: no CORS headers, so the browser refuses the actual request.
    res.writeHead(204);
    res.end();
    return true;
  }
  const requestedHeaders = req.headers['access-control-request-headers'];
  res.writeHead(204, {
    'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS',
    ...(requestedHeaders == null ? {} : { 'Access-Control-Allow-Headers': requestedHeaders }),
    'Access-Control-Max-Age': '3600',
  });
  res.end();
  return true;
}
