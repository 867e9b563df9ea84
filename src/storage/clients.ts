import type { TableClient } from '@azure/data-tables';
import type { BlobServiceClient } from '@azure/storage-blob';
import { ConfigError, type StorageSettings } from '../config.js';
import { azureCredential } from '../azure-credential.js';

// Storage SDKs are required on first use, not at import time: each costs 150-250 ms to load.

let tablesModule: typeof import('@azure/data-tables') | undefined;

/** The Tables SDK, required on first use and kept: a `require` per call resolves the package again every time. */
export function tablesSdk(): typeof import('@azure/data-tables') {
  tablesModule ??= require('@azure/data-tables') as typeof import('@azure/data-tables');
  return tablesModule;
}

function serviceUri(settings: StorageSettings, service: 'table' | 'blob'): string {
  const explicit = service === 'table' ? settings.tableServiceUri : settings.blobServiceUri;
  if (explicit != null) return explicit;
  if (settings.accountName != null) return `https://${settings.accountName}.${service}.core.windows.net`;
  throw new ConfigError(
    `Storage is not configured: set ${settings.settingName} to a connection string, or ` +
      `${settings.settingName}__accountName (or __${service}ServiceUri) for identity-based access.`,
  );
}

function isLoopback(connectionString: string): boolean {
  return /Endpoint=http:\/\/(127\.0\.0\.1|localhost)/i.test(connectionString);
}

// Storage that accepts connections and never answers must not hang a request (API.md: 503 storage_unavailable
// "did not answer in time"). Every try gets its own timeout, and retries are few and quick: at most
// STORAGE_TRY_TIMEOUT_MS × STORAGE_TRIES plus ~0.3 s of backoff (≈ 24 s) before the 503, under Azure's 230 s
// HTTP limit with room for the rest of the request.
/** One try of one storage request. Long enough for a 4 MB transaction or block on a slow link. */
export const STORAGE_TRY_TIMEOUT_MS = 8_000;
/** Tries per storage request (the first and two retries). */
export const STORAGE_TRIES = 3;
const tableRetry = { maxRetries: STORAGE_TRIES - 1, retryDelayInMs: 100, maxRetryDelayInMs: 1000 };
const blobRetry = { maxTries: STORAGE_TRIES, retryDelayInMs: 100, maxRetryDelayInMs: 1000, tryTimeoutInMs: STORAGE_TRY_TIMEOUT_MS };

/**
 * Try counters of tracked requests, keyed by the abort signal the request carries (the SDK passes a request's
 * `abortSignal` option through to every try). Not an AsyncLocalStorage: on Node 20 and 22 its first `run`
 * installs async and promise hooks that tax every promise of the process from then on.
 */
const tryCounters = new WeakMap<object, { tries: number }>();

/**
 * Runs `work`, counting the HTTP tries of the storage request it makes with the signal it is given (pass it as
 * the request's `abortSignal`; the SDK's retries are otherwise invisible). More than one try of a write means
 * its outcome is unknown: an earlier try may have been applied before its connection dropped.
 */
export function trackTries<T>(work: (abortSignal: AbortSignal) => Promise<T>): { result: Promise<T>; tries: () => number } {
  const counter = { tries: 0 };
  const signal = new AbortController().signal;
  tryCounters.set(signal, counter);
  return { result: work(signal), tries: () => counter.tries };
}

type PipelinePolicy = NonNullable<import('@azure/data-tables').TableServiceClientOptions['additionalPolicies']>[number]['policy'];

/**
 * A per-try timeout for the Tables SDK, which has none of its own (its `timeout` request option makes an
 * AbortError that is never retried). A try that gets no response headers in time is abandoned and reported as
 * ETIMEDOUT, which the SDK's retry strategy retries like any network failure. Runs per retry, so each try
 * gets the full time; a caller's own abort signal still wins.
 */
export function perTryTimeoutPolicy(timeoutMs: number): PipelinePolicy {
  const { RestError } = tablesSdk();
  return {
    name: 'perTryTimeout',
    async sendRequest(request, next) {
      const callerSignal = request.abortSignal;
      const counter = callerSignal == null ? undefined : tryCounters.get(callerSignal);
      if (counter != null) counter.tries += 1;
      const controller = new AbortController();
      const onCallerAbort = () => controller.abort();
      callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
      if (callerSignal?.aborted === true) controller.abort();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      request.abortSignal = controller.signal;
      try {
        return await next(request);
      } catch (error: unknown) {
        if (!timedOut) throw error;
        throw new RestError(`Storage did not answer within ${timeoutMs} ms.`, { code: 'ETIMEDOUT', request });
      } finally {
        clearTimeout(timer);
        callerSignal?.removeEventListener('abort', onCallerAbort);
        request.abortSignal = callerSignal;
      }
    },
  };
}

/** A client for one table, from a connection string or an Entra ID identity. */
export async function createTableClient(
  settings: StorageSettings,
  tableName: string,
  additionalPolicies: import('@azure/data-tables').TableServiceClientOptions['additionalPolicies'] = [],
): Promise<TableClient> {
  const { TableClient } = tablesSdk();
  const options = {
    retryOptions: tableRetry,
    additionalPolicies: [{ policy: perTryTimeoutPolicy(STORAGE_TRY_TIMEOUT_MS), position: 'perRetry' as const }, ...additionalPolicies],
  };
  if (settings.connectionString != null) {
    return TableClient.fromConnectionString(settings.connectionString, tableName, {
      ...options,
      allowInsecureConnection: isLoopback(settings.connectionString),
    });
  }
  return new TableClient(serviceUri(settings, 'table'), tableName, await azureCredential(settings.clientId), options);
}

/** A Blob service client, from a connection string or an Entra ID identity. */
export async function createBlobServiceClient(settings: StorageSettings): Promise<BlobServiceClient> {
  const { BlobServiceClient } = require('@azure/storage-blob') as typeof import('@azure/storage-blob');
  if (settings.connectionString != null) {
    return BlobServiceClient.fromConnectionString(settings.connectionString, { retryOptions: blobRetry });
  }
  return new BlobServiceClient(serviceUri(settings, 'blob'), await azureCredential(settings.clientId), {
    retryOptions: blobRetry,
  });
}


/** True when the Table service answers within `timeoutMs` (health check). */
export async function pingTableService(settings: StorageSettings, timeoutMs = 2000): Promise<boolean> {
  try {
    const { TableServiceClient } = tablesSdk();
    const options = { retryOptions: { maxRetries: 0 } };
    const service =
      settings.connectionString != null
        ? TableServiceClient.fromConnectionString(settings.connectionString, {
            ...options,
            allowInsecureConnection: isLoopback(settings.connectionString),
          })
        : new TableServiceClient(serviceUri(settings, 'table'), await azureCredential(settings.clientId), options);
    await service.listTables({ abortSignal: AbortSignal.timeout(timeoutMs) }).byPage({ maxPageSize: 1 }).next();
    return true;
  } catch {
    return false;
  }
}
