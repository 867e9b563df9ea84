// What every benchmark row runs against: the fake model, Azurite and the built app on the local host.
import { startApp, type RunningApp } from '../support/app.js';
import { startAzurite, type RunningAzurite } from '../support/azurite.js';
import { startFakeModel, type FakeModel } from '../support/fake-model.js';
import { startCountingProxy, type CountingProxy } from './counting-proxy.js';

export interface BenchEnv {
  model: FakeModel;
  azurite: RunningAzurite;
  app: RunningApp;
  /** Registered routes as "METHOD route", e.g. "POST chats/{chatId}", read from the host's start-up output. */
  routes: Set<string>;
  /** URL of a route of the main app, e.g. api('ask'). */
  api(path: string): string;
  /** A second app whose Table endpoint goes through a request-counting proxy (started on first use). */
  counted(): Promise<{ app: RunningApp; proxy: CountingProxy; api(path: string): string }>;
  stop(): Promise<void>;
}

/** Thrown by a row whose feature is not on this branch yet; the table shows "n/a (not built yet)". */
export class NotBuilt extends Error {}

export const CHAT_MODEL = 'bench-chat';

export function appSettings(model: FakeModel, storage: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AzureWebJobsStorage: storage,
    OPENAI_BASE_URL: model.url,
    OPENAI_API_KEY: 'bench-key',
    CHAT_MODEL_DEPLOYMENT_NAME: CHAT_MODEL,
    EMBEDDING_MODEL_DEPLOYMENT_NAME: 'bench-embedding',
    MODEL_TIMEOUT_MS: '30000',
    // To profile the app under the benchmark, see test/bench/cpu-profile.cjs.
    ...(process.env.BENCH_APP_NODE_OPTIONS == null ? {} : { NODE_OPTIONS: process.env.BENCH_APP_NODE_OPTIONS }),
    ...(process.env.BENCH_PROFILE_DIR == null ? {} : { BENCH_PROFILE_DIR: process.env.BENCH_PROFILE_DIR }),
    ...extra,
  };
}

export function routesOf(output: string): Set<string> {
  const routes = new Set<string>();
  for (const match of output.matchAll(/^\s+\S+: \[([A-Z,]+)\] http:\/\/\S+?\/api\/(\S*)$/gm)) {
    for (const method of match[1]!.split(',')) routes.add(`${method} ${match[2]!}`);
  }
  return routes;
}

export async function startBenchEnv(): Promise<BenchEnv> {
  const model = await startFakeModel();
  const azurite = await startAzurite();
  const app = await startApp(appSettings(model, azurite.connectionString));
  let counted: Awaited<ReturnType<BenchEnv['counted']>> | undefined;
  return {
    model,
    azurite,
    app,
    routes: routesOf(app.output()),
    api: (path) => `${app.baseUrl}/${path}`,
    async counted() {
      if (counted != null) return counted;
      const proxy = await startCountingProxy(azurite.tablePort);
      const storage = azurite.connectionString.replace(`:${azurite.tablePort}/`, `:${proxy.port}/`);
      // A history budget the 10-message chat fills, so both chats send the same window (see docs/performance.md).
      // BENCH_P2_HISTORY_TOKENS=8000 measures at the default budget instead.
      const historyTokens = process.env.BENCH_P2_HISTORY_TOKENS ?? '1000';
      const countedApp = await startApp(appSettings(model, storage, { CHAT_HISTORY_TOKENS: historyTokens }));
      counted = { app: countedApp, proxy, api: (path) => `${countedApp.baseUrl}/${path}` };
      return counted;
    },
    async stop() {
      await app.stop();
      if (counted != null) {
        await counted.app.stop();
        await counted.proxy.stop();
      }
      await azurite.stop();
      await model.stop();
    },
  };
}
