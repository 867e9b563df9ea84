import { AppError, storageUnavailable } from '../http/errors.js';

interface RestLikeError {
  name?: string;
  statusCode?: number;
  code?: string;
  message?: string;
}

function asRestError(error: unknown): RestLikeError | undefined {
  return typeof error === 'object' && error != null ? (error as RestLikeError) : undefined;
}

/** The HTTP status of an Azure SDK RestError (Azurite sets `statusCode` reliably, not always `code`). */
export function storageStatus(error: unknown): number | undefined {
  return asRestError(error)?.statusCode;
}

/**
 * Failures to reach storage at all (refused, reset, DNS, 5xx after the SDK's retries, auth) become 503
 * storage_unavailable; everything else is for the caller to interpret by status.
 */
export function translateStorageError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const rest = asRestError(error);
  if (rest == null) return error;
  const status = rest.statusCode;
  if (status == null || status >= 500 || status === 401 || status === 403) {
    const reason = status == null ? (rest.code ?? 'unreachable') : `status ${status}`;
    return storageUnavailable(`Storage cannot be reached (${reason}). Check AzureWebJobsStorage and that the service (Azurite locally) is running.`, error);
  }
  return error;
}
