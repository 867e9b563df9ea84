import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTable } from '../src/route-table.js';
import { startApp, type RunningApp } from './support/app.js';

let app: RunningApp;

beforeAll(async () => {
  app = await startApp({ CHAT_TABLE_NAME: 'x' });
});
afterAll(async () => {
  await app?.stop();
});

describe('a host that behaves like Azure', () => {
  it('names the catch-all so it sorts after every other function (the Functions host tries routes by name)', () => {
    const names = routeTable().map((route) => route.name.toLowerCase());
    const catchAll = routeTable().find((route) => route.route === '{*path}');
    expect(catchAll?.name.toLowerCase()).toBe([...names].sort().at(-1));
  });

  it('answers an invalid CHAT_TABLE_NAME with 503 configuration_error naming it, on every route, and unhealthy health', async () => {
    const chat = await fetch(`${app.baseUrl}/chats/abc`);
    expect(chat.status).toBe(503);
    const body = (await chat.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('configuration_error');
    expect(body.error.message).toContain('CHAT_TABLE_NAME');
    const health = await fetch(`${app.baseUrl}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'unhealthy' });
  });

  it('answers an unknown route with a JSON 404 from the catch-all function', async () => {
    const response = await fetch(`${app.baseUrl}/no/such/route`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});
