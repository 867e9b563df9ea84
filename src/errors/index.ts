// AppError, its factories, the codes of API.md and the helpers every vendor translator uses.
// The vendor translators themselves (errors/model.ts, errors/storage.ts, errors/search.ts) are imported
// directly where the vendor is called: they pull in SDK classes that must not load on cold start.
export * from './app-error.js';
export * from './codes.js';
export { retryAfterMs, retryAfterSeconds, type HeaderSource } from './retry-after.js';
export { statusOf } from './status.js';
