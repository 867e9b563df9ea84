#!/usr/bin/env node
// `npm start`: the local stand-in for `func start`. Loads local.settings.json, starts Azurite if needed,
// imports the app's compiled function modules (capturing their registrations) and serves them on :7071/api.
import type { ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import { installFunctionsCore, type HttpRegistration } from './functions-core.js';
import { parseCors } from './cors.js';
import { createLocalHost, type Logger } from './server.js';
import { loadLocalSettings, readLocalHostSettings, readRoutePrefix } from './settings.js';
import { startAzurite } from './azurite.js';
import { config, ConfigError, developmentStorage, listenSettings, type AppConfig } from '../config.js';

const appRoot = path.resolve(__dirname, '..');

const levels = { trace: 0, debug: 1, information: 2, warning: 3, error: 4, critical: 5, none: 6 } as const;

function makeLogger(minimum: keyof typeof levels): Logger {
  return (level, functionName, args) => {
    if (levels[level] < levels[minimum]) return;
    const line = `[${new Date().toISOString()}] ${functionName}: ${args.map((arg) => (arg instanceof Error ? `${arg.name}: ${arg.message}` : typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')}`;
    if (levels[level] >= levels.warning) console.error(line);
    else console.log(line);
  };
}

/** Strips credentials and query from a URL before printing it (a base URL may carry user:password). */
function printable(value: string): string {
  try {
    const url = new URL(value);
    return url.origin + url.pathname;
  } catch {
    return '(unparseable URL)';
  }
}

function describeModel(settings: AppConfig): string {
  const model = settings.chatModel == null ? '' : ` (chat model ${settings.chatModel})`;
  const provider = settings.model;
  if (provider.kind === 'azure') {
    return `Azure OpenAI at ${printable(provider.endpoint)}${model}, ${provider.apiKey == null ? 'Microsoft Entra ID' : 'API key'}`;
  }
  if (provider.kind === 'openai') {
    if (provider.baseURL == null) return `OpenAI${model}`;
    const warning = settings.chatModel == null ? ' — set CHAT_MODEL_DEPLOYMENT_NAME to the model to use' : '';
    return `OpenAI-compatible server at ${printable(provider.baseURL)}${model}${warning}`;
  }
  return 'none configured: model routes answer 503 model_not_configured (see README § Configuration)';
}

async function main(): Promise<void> {
  const started = performance.now();
  const applied = await loadLocalSettings(path.resolve('local.settings.json'));
  if (applied.length > 0) console.log(`Loaded ${applied.length} settings from local.settings.json`);
  const hostSettings = await readLocalHostSettings(path.resolve('local.settings.json'));
  const routePrefix = await readRoutePrefix(path.resolve(appRoot, '../../host.json'));
  const listen = listenSettings();
  // PORT (used by tests and scripts) wins over Host.LocalHttpPort, as `func start --port` does.
  const port = listen.portSet ? listen.port : (hostSettings.localHttpPort ?? listen.port);
  // Like the Azure host, start even with invalid settings: every route then answers 503 configuration_error.
  let settings: AppConfig | undefined;
  try {
    settings = config();
  } catch (error: unknown) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${error.message}\nEvery route answers 503 configuration_error until the settings are fixed.`);
  }
  const log = makeLogger('information');

  const children: ChildProcess[] = [];
  process.on('exit', () => children.forEach((child) => child.kill('SIGTERM')));
  const storages = settings == null ? [] : [settings.storage, settings.chatStorage];
  if (storages.some((storage) => storage.connectionString === developmentStorage)) {
    const azurite = await startAzurite(path.resolve('.azurite'));
    children.push(...azurite.children);
    if (azurite.started.length > 0) console.log(`Started Azurite (${azurite.started.join(', ')}), data in .azurite/`);
  }

  const registrations: HttpRegistration[] = [];
  const setup = { enableHttpStream: false };
  installFunctionsCore(registrations, setup);
  await import(pathToFileURL(path.join(appRoot, 'index.js')).href);
  const functionsDir = path.join(appRoot, 'functions');
  for (const file of (await readdir(functionsDir)).filter((name) => name.endsWith('.js')).sort()) {
    await import(pathToFileURL(path.join(functionsDir, file)).href);
  }

  const cors = parseCors(hostSettings.cors, hostSettings.corsCredentials);
  const { server } = createLocalHost(registrations, log, { routePrefix, cors, enableHttpStream: setup.enableHttpStream });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, listen.host, resolve);
  });
  const actualPort = (server.address() as AddressInfo).port;
  const shownHost = listen.host === '0.0.0.0' || listen.host === '::' ? 'localhost' : listen.host;
  const base = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${actualPort}${routePrefix === '' ? '' : `/${routePrefix}`}`;

  console.log('\nFunctions:\n');
  for (const registration of registrations) {
    console.log(`        ${registration.name}: [${registration.methods.join(',')}] ${base}/${registration.route}`);
  }
  if (!setup.enableHttpStream) console.log('\napp.setup({ enableHttpStream: true }) is not called: requests and responses are buffered, nothing streams.');
  if (settings != null) console.log(`\nModel: ${describeModel(settings)}`);
  console.log(`Host started in ${Math.round(performance.now() - started)} ms. Listening on ${base}\n`);

  // In the background: repair documents an interrupted upload or delete left half-changed (a crash). At once:
  // delaying it (to keep the Blob SDK's load off a first request) only moved that 130-170 ms block onto
  // whatever request ran later (docs/performance.md, P10).
  void import('../services.js').then(({ ingestDependencies }) => ingestDependencies()).catch(() => undefined);

  if (settings?.ingestSampleData === true && settings.search.endpoint == null) {
    // In the background, after the host listens: the sample corpus must not delay start-up.
    void ingestSampleData(path.resolve(appRoot, '../../data'));
  }

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const child of children) child.kill('SIGTERM');
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** On first start with an empty local index, ingests the sample corpus so chat with your data works at once. */
async function ingestSampleData(folder: string): Promise<void> {
  try {
    const { ingestDependencies, searchIndex } = await import('../services.js');
    // Only the index is needed to know; the rest is built when there is something to ingest.
    if ((await (await searchIndex()).count()) > 0) return;
    const dependencies = await ingestDependencies();
    const { collectFiles, ingestFiles } = await import('../ingest/files.js');
    const files = await collectFiles([folder]).catch(() => []);
    if (files.length === 0) return;
    console.log(`Local search index is empty: ingesting ${files.length} sample documents from ${folder} ...`);
    const summary = await ingestFiles(files, dependencies);
    const failures = summary.failed.map((failure) => `\n  ${path.basename(failure.file)}: ${failure.message}`).join('');
    console.log(`Sample data indexed: ${summary.files} files, ${summary.pages} pages, ${summary.chunks} chunks in ${Math.round(summary.milliseconds)} ms.${failures}`);
  } catch (error: unknown) {
    console.error(`Sample data was not indexed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
