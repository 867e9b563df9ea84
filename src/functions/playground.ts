import { z } from 'zod';
import { notFound } from '../errors/index.js';
import { defineRoute, registerRoutes } from '../http/route.js';
import { assetHeaders, namedAsset, pageAsset } from '../playground/assets.js';

export const playgroundAssetParams = z.object({ file: z.string().min(1, 'must name a file') });

const tags = ['playground'];

// Anonymous: the page and its scripts hold no data and no secret. In Azure the page asks for the function
// key and sends it as x-functions-key on every API call, which stay authLevel 'function'.
export const playgroundRoute = defineRoute({
  name: 'playground',
  method: 'GET',
  route: 'playground',
  authLevel: 'anonymous',
  tags,
  summary: 'A web page to try every route in a browser',
  responses: { 200: { description: 'The page', content: { 'text/html': z.string() } } },
  handler: async ({ request }) => {
    const page = pageAsset(new URL(request.url).pathname.replace(/\/+$/, ''));
    return { status: 200, headers: assetHeaders(page), body: page.body };
  },
});

export const playgroundAssetRoute = defineRoute({
  name: 'playgroundAsset',
  method: 'GET',
  route: 'playground/{file}',
  authLevel: 'anonymous',
  tags,
  summary: "The playground's stylesheet and scripts",
  params: playgroundAssetParams,
  responses: {
    200: { description: 'The file', content: { 'text/css': z.string(), 'text/javascript': z.string() } },
    404: 'not_found: unknown file',
  },
  handler: async ({ params: { file } }) => {
    const asset = await namedAsset(file);
    if (asset == null) throw notFound(`The playground has no file "${file}".`);
    return { status: 200, headers: assetHeaders(asset), body: asset.body };
  },
});

registerRoutes([playgroundRoute, playgroundAssetRoute]);
