import type { TableClient } from '@azure/data-tables';
import type { BlobServiceClient } from '@azure/storage-blob';
import { ConfigError, type StorageSettings } from '../config.js';
import { azureCredential } from '../identity.js';

// Storage SDKs are required on first use, not at import time: each costs 150-250 ms to load.

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

// Few, quick retries: a storage outage should become a 503 in seconds, not after a minute of backoff.
const tableRetry = { maxRetries: 2, retryDelayInMs: 100, maxRetryDelayInMs: 1000 };
const blobRetry = { maxTries: 3, retryDelayInMs: 100, maxRetryDelayInMs: 1000, tryTimeoutInMs: 30_000 };

/** A client for one table, from a connection string or an Entra ID identity. */
export async function createTableClient(
  settings: StorageSettings,
  tableName: string,
  additionalPolicies: import('@azure/data-tables').TableServiceClientOptions['additionalPolicies'] = [],
): Promise<TableClient> {
  const { TableClient } = require('@azure/data-tables') as typeof import('@azure/data-tables');
  const options = { retryOptions: tableRetry, additionalPolicies };
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
    const { TableServiceClient } = require('@azure/data-tables') as typeof import('@azure/data-tables');
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
