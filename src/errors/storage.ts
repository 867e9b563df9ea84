// Azure Storage SDK RestErrors (Table and Blob) → API.md errors.
import { AppError, storageAuthFailed, storageUnavailable } from './app-error.js';

interface RestLikeError {
  name: 'RestError';
  statusCode?: number;
  code?: string;
  message: string;
}

/**
 * An error the storage SDKs raised for a request (`RestError` from @azure/core-rest-pipeline), as opposed to a
 * bug in our code (a TypeError, a parse error of a bad row), which must stay a 500.
 */
export function isStorageSdkError(error: unknown): error is RestLikeError {
  return error instanceof Error && error.name === 'RestError';
}

/** The HTTP status of an Azure SDK RestError, for callers that give 404/409/412 their own meaning. */
export function storageStatus(error: unknown): number | undefined {
  return isStorageSdkError(error) ? error.statusCode : undefined;
}

/**
 * Real storage failures become 503: `storage_auth_failed` when the service refused our credential (401/403),
 * `storage_unavailable` when it could not be reached, timed out (after the SDK's bounded retries) or failed
 * (5xx, 408). Anything else is returned unchanged: 404/409/412 for the caller to interpret, and errors that
 * are not from the SDK, which are bugs and end as 500 internal_error.
 */
export function translateStorageError(error: unknown): unknown {
  if (error instanceof AppError || !isStorageSdkError(error)) return error;
  const status = error.statusCode;
  if (status === 401 || status === 403) {
    return storageAuthFailed(
      `Storage refused our credential (status ${status}). Check the account key in AzureWebJobsStorage (or ` +
        `CHAT_STORAGE_CONNECTION's setting), or the identity's role assignments (Storage Table/Blob Data Contributor).`,
      error,
    );
  }
  if (status == null || status >= 500 || status === 408) {
    const reason = status == null ? (error.code ?? 'unreachable') : `status ${status}`;
    return storageUnavailable(`Storage cannot be reached (${reason}). Check AzureWebJobsStorage and that the service (Azurite locally) is running.`, error);
  }
  return error;
}

/** Runs storage calls; SDK failures are translated (see translateStorageError), anything else propagates. */
export async function storageCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error: unknown) {
    throw translateStorageError(error);
  }
}
