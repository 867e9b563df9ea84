import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import { validate } from '../http/body.js';
import { notFound } from '../http/errors.js';
import { describeRoute } from '../http/openapi.js';
import { withErrors } from '../http/respond.js';
import { assetHeaders, namedAsset, pageAsset } from '../playground/assets.js';

export const playgroundAssetParams = z.object({ file: z.string().min(1, 'must name a file') });

export async function playground(request: HttpRequest): Promise<HttpResponseInit> {
  const page = pageAsset(new URL(request.url).pathname.replace(/\/+$/, ''));
  return { status: 200, headers: assetHeaders(page), body: page.body };
}

export async function playgroundAsset(request: HttpRequest): Promise<HttpResponseInit> {
  const { file } = validate(playgroundAssetParams, request.params, 'path');
  const asset = await namedAsset(file);
  if (asset == null) throw notFound(`The playground has no file "${file}".`);
  return { status: 200, headers: assetHeaders(asset), body: asset.body };
}

// Anonymous: the page and its scripts hold no data and no secret. In Azure the page asks for the function
// key and sends it as x-functions-key on every API call, which stay authLevel 'function'.
app.http('playground', { route: 'playground', methods: ['GET'], authLevel: 'anonymous', handler: withErrors(playground) });
app.http('playgroundAsset', { route: 'playground/{file}', methods: ['GET'], authLevel: 'anonymous', handler: withErrors(playgroundAsset) });

describeRoute({ method: 'GET', path: '/playground', summary: 'A web page to try every route in a browser', responses: { 200: 'text/html' } });
describeRoute({
  method: 'GET',
  path: '/playground/{file}',
  summary: "The playground's stylesheet and scripts",
  params: playgroundAssetParams,
  responses: { 200: 'text/css or text/javascript', 404: 'unknown file' },
});
