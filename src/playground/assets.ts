import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { playgroundPage } from './page.js';
import { playgroundStyles } from './styles.js';

// The playground is one HTML page, one stylesheet and the browser modules compiled from ./browser by
// `npm run build` (their own tsconfig: DOM types, ES modules). Everything is served by the app itself, so
// the page needs no network beyond its own origin, and the CSP below says exactly that.

/**
 * No inline script or style, nothing from another origin; fetches only to this app; images only from this
 * app or the data:/blob: URLs the page makes for an attached image's preview. Trusted Types forbid every
 * HTML-string sink (innerHTML and friends), so model output can only ever reach the page as text nodes.
 */
export const PLAYGROUND_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

const securityHeaders = {
  'Content-Security-Policy': PLAYGROUND_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // The page is small and changes with each deployment: revalidate rather than run a stale script.
  'Cache-Control': 'no-cache',
};

export interface Asset {
  contentType: string;
  body: string;
}

/** The page, with asset URLs under the path it was requested at (`/api/playground` in Azure and locally). */
export function pageAsset(pagePath: string): Asset {
  return { contentType: 'text/html; charset=utf-8', body: playgroundPage(pagePath) };
}

const browserDir = path.join(__dirname, 'browser');
let modules: Promise<Map<string, string>> | undefined;

/** The compiled browser modules, read once: only files that exist in the build can ever be served. */
function browserModules(): Promise<Map<string, string>> {
  modules ??= (async () => {
    const files = (await readdir(browserDir)).filter((file) => /^[a-z][a-z0-9-]*\.js$/.test(file));
    const entries = await Promise.all(files.map(async (file) => [file, await readFile(path.join(browserDir, file), 'utf8')] as const));
    return new Map(entries);
  })();
  modules.catch(() => (modules = undefined));
  return modules;
}

/** A stylesheet or browser module by file name; undefined when there is no such asset. */
export async function namedAsset(file: string): Promise<Asset | undefined> {
  if (file === 'playground.css') return { contentType: 'text/css; charset=utf-8', body: playgroundStyles };
  const script = (await browserModules()).get(file);
  return script == null ? undefined : { contentType: 'text/javascript; charset=utf-8', body: script };
}

export function assetHeaders(asset: Asset): Record<string, string> {
  return { 'Content-Type': asset.contentType, ...securityHeaders };
}
