// The stable error codes of API.md's error table, with the status each one is answered with.
// One list, so the OpenAPI Error schema, the factories and the docs cannot disagree.

export const errorStatuses = {
  invalid_request: 400,
  context_length_exceeded: 400,
  content_filter: 400,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  tool_outputs_required: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  quota_exceeded: 429,
  client_closed_request: 499,
  internal_error: 500,
  model_error: 502,
  search_error: 502,
  storage_error: 502,
  model_not_configured: 503,
  configuration_error: 503,
  model_auth_failed: 503,
  storage_auth_failed: 503,
  storage_unavailable: 503,
  model_timeout: 504,
} as const;

export type ErrorCode = keyof typeof errorStatuses;

export const errorCodes = Object.keys(errorStatuses) as ErrorCode[];
