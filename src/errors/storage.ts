// Azure Storage SDK RestErrors (Table and Blob) → API.md errors.
import { AppError, storageUnavailable } from './app-error.js';
import { statusOf } from './status.js';

/** The HTTP status of an Azure SDK RestError, for callers that give 404/409/412 their own meaning. */
export function storageStatus(error: unknown): number | undefined {
  return statusOf(error);
}

/**
 * Failures to reach storage at all (refused, reset, DNS, 5xx after the SDK's retries, auth) become 503
 * storage_unavailable; everything else is for the caller to interpret by status.
 */
export function translateStorageError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  if (typeof error !== 'object' || error == null) return error;
  const status = statusOf(error);
  if (status == null || status >= 500 || status === 401 || status === 403) {
    const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
    const reason = status == null ? (code ?? 'unreachable') : `status ${status}`;
    return storageUnavailable(`Storage cannot be reached (${reason}). Check AzureWebJobsStorage and that the service (Azurite locally) is running.`, error);
  }
  return error;
}
