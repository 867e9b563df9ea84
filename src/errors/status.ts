// The one place that reads an HTTP status off a vendor error: Azure SDK RestErrors carry `statusCode`
// (Azurite sets it reliably, not always `code`); the openai SDK's APIError carries `status`.

export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error == null) return undefined;
  if ('statusCode' in error && typeof error.statusCode === 'number') return error.statusCode;
  if ('status' in error && typeof error.status === 'number') return error.status;
  return undefined;
}
