// The route families the fuzzer drives, one table entry each (method, path template, body generators), and the
// generators of hostile input they share. Each family names the route-table operation it drives, and every
// operation of the table must have one (`drivenFamilies`).
import fc from 'fast-check';
import type { RawRequest } from './http-raw.js';
import { coverageProblems, servedRoutes } from './route-coverage.js';

/** Ids and names an attacker (or a careless client) would try: injection, traversal, encoding tricks, size. */
export const hostileTexts = [
  "a'b",
  "' or PartitionKey ne '",
  "x' or RowKey gt '",
  '../',
  '..',
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%00',
  'a\u0000b',
  '%2e%2e%2f',
  '/etc/passwd',
  'x'.repeat(300),
  'état-🙂',
  '\u202e\u200b',
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  'CON',
  ' ',
  '',
  '\r\nX-Injected: 1',
  '__proto__',
  'constructor',
];

/** Raw path segments that are not what encodeURIComponent would produce: invalid or tricky escapes. */
const rawSegments = ['%', '%zz', '%E0%A4%A', '%C0%AF', '..%2F..%2Fsecret', '%2F', '.', '..', "a'b", '~', ':', '@', 'a:b@c'];

/** Any text: printable, unicode, control characters, hostile values. */
export const anyText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...hostileTexts),
);

/** A path segment: percent-encoded text, a raw tricky escape, or a well-formed value from `valid`. */
export function segment(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: valid.map(encodeURIComponent) },
    { weight: 3, arbitrary: anyText.map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.constantFrom(...rawSegments) },
  );
}

/** Values that are the wrong type almost anywhere. */
const wrongValue = fc.oneof(
  fc.constantFrom(null, true, 0, -1, 1e308, '', [], {}, [''], { $ne: null }),
  fc.integer(),
  fc.double(),
  anyText,
  fc.array(fc.jsonValue(), { maxLength: 4 }),
);

/** A string that is larger than the fuzzed app's limits (built by repetition, cheaply). */
const hugeText = fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min: 20_000, max: 150_000 })).map(([unit, times]) =>
  unit.repeat(Math.ceil(times / unit.length)).slice(0, times),
);

/**
 * Bodies built around a family's near-valid JSON value: the value itself, one field replaced by a wrong type or
 * a huge string, extra fields, random JSON, truncated JSON, random bytes, empty.
 */
export function bodies(nearValid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string | Uint8Array | undefined> {
  const mutated = fc.tuple(nearValid, fc.nat(), fc.oneof(wrongValue, hugeText)).map(([value, pick, replacement]) => {
    const keys = Object.keys(value);
    const key = keys.length === 0 ? 'field' : keys[pick % keys.length]!;
    return { ...value, [key]: replacement };
  });
  const json = (value: unknown) => JSON.stringify(value);
  return fc.oneof(
    { weight: 4, arbitrary: nearValid.map(json) },
    { weight: 3, arbitrary: mutated.map(json) },
    { weight: 1, arbitrary: fc.tuple(nearValid, fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })).map(([value, extra]) => json({ ...extra, ...value })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(json) },
    { weight: 2, arbitrary: fc.tuple(nearValid.map(json), fc.nat()).map(([text, cut]) => text.slice(0, cut % Math.max(1, text.length))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
    { weight: 1, arbitrary: anyText },
    { weight: 1, arbitrary: hugeText },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** Random query strings: encoded keys and values, the family's own keys, and malformed escapes. */
export function queries(keys: string[] = [], values: fc.Arbitrary<string> = anyText): fc.Arbitrary<string> {
  const pair = fc.tuple(fc.oneof(fc.constantFrom(...keys, 'code', 'x'), fc.string({ maxLength: 10 })), fc.oneof(values, anyText));
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant('') },
    { weight: 4, arbitrary: fc.array(pair, { maxLength: 3 }).map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`)) },
    { weight: 1, arbitrary: fc.constantFrom('?', '?&&=', '?a=%zz', '?=x', '?x=%00', `?${keys[0] ?? 'x'}=%E0%A4%A`, `?${keys[0] ?? 'x'}=1&${keys[0] ?? 'x'}=2`) },
  );
}

export const contentTypes = fc.option(
  fc.oneof(
    fc.constantFrom(
      'application/json',
      'text/json',
      'text/plain',
      'application/json; charset=utf-16',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
      'multipart/form-data; boundary=zz',
      'application/pdf',
      'text/markdown',
      'text/html',
      'image/png',
      'application/octet-stream',
      '*/*',
    ),
    fc.string({ maxLength: 30 }).filter((text) => /^[\x21-\x7e ]*$/.test(text)),
  ),
  { nil: undefined },
);

const accepts = fc.constantFrom(undefined, undefined, 'text/event-stream', 'application/x-ndjson', '*/*', 'application/json');
const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const;

export interface RouteFamily {
  /** For reports. */
  name: string;
  method: string;
  /** Path under /api with `{}` where the generated segment goes (`{*}`: several segments). */
  template: string;
  /** The route table's name for the operation this family drives. */
  operation: string;
  segment?: fc.Arbitrary<string>;
  query?: fc.Arbitrary<string>;
  body?: fc.Arbitrary<string | Uint8Array | undefined>;
}

// Ids of chats and documents the fuzzer keeps coming back to, so PUT/POST/GET/DELETE meet existing ones.
const chatIds = fc.oneof(fc.constantFrom('fuzz-a', 'fuzz-b', 'fuzz.c:d@e'), fc.stringMatching(/^[A-Za-z0-9_\-.:@]{1,128}$/));
const documentNames = fc.oneof(fc.constantFrom('fuzz-notes.md', 'fuzz.txt', 'page.html', 'a b.md'), fc.stringMatching(/^[A-Za-z0-9_\- ]{1,40}\.(md|txt|html|pdf)$/));
const chatMessage = fc.oneof(fc.string({ minLength: 1, maxLength: 200 }), fc.constantFrom(...hostileTexts));
const overrides = fc.record(
  {
    top: fc.oneof(fc.integer({ min: 1, max: 50 }), wrongValue),
    retrieval_mode: fc.oneof(fc.constantFrom('hybrid', 'text', 'vectors', 'none'), wrongValue),
    temperature: fc.oneof(fc.double({ min: 0, max: 2, noNaN: true }), wrongValue),
    include_category: anyText,
    prompt_template: anyText,
    suggest_followup_questions: fc.boolean(),
  },
  { requiredKeys: [] },
);
const chatProtocolBody = fc.record({
  messages: fc.array(fc.record({ role: fc.constantFrom('user', 'assistant', 'system', 'tool', 'x'), content: chatMessage }), { minLength: 0, maxLength: 4 }).map((messages) => [
    ...messages,
    { role: 'user', content: 'What is covered?' },
  ]),
  context: fc.record({ overrides }, { requiredKeys: [] }),
});
const documentBody = fc.oneof(
  fc.string({ maxLength: 2000 }),
  fc.uint8Array({ maxLength: 2000 }),
  fc.constant('%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF'),
  hugeText,
);

/** Every route family of API.md. Adding a family is one entry. */
export const routeFamilies: RouteFamily[] = [
  { name: 'ask', method: 'POST', template: 'ask', operation: 'ask', query: queries(), body: bodies(fc.record({ prompt: chatMessage })) },
  { name: 'whois', method: 'GET', template: 'whois/{}', operation: 'whois', segment: segment(fc.string({ minLength: 1, maxLength: 60 })), query: queries() },
  { name: 'health', method: 'GET', template: 'health', operation: 'health', query: queries() },
  { name: 'openapi', method: 'GET', template: 'openapi.json', operation: 'openapi', query: queries() },
  {
    name: 'chat create/reset',
    method: 'PUT',
    template: 'chats/{}',
    operation: 'createChat',
    segment: segment(chatIds),
    query: queries(),
    body: bodies(fc.record({ instructions: fc.option(chatMessage, { nil: null }), name: anyText }, { requiredKeys: [] })),
  },
  {
    name: 'chat post',
    method: 'POST',
    template: 'chats/{}',
    operation: 'postChat',
    segment: segment(chatIds),
    query: queries(['message'], chatMessage),
    body: bodies(fc.record({ message: chatMessage })),
  },
  {
    name: 'chat state',
    method: 'GET',
    template: 'chats/{}',
    operation: 'getChatState',
    segment: segment(chatIds),
    query: queries(['timestampUTC'], fc.oneof(fc.date({ noInvalidDate: true }).map((date) => date.toISOString()), fc.constantFrom('2024-01-01T00:00:00', 'yesterday', '0', '9999-99-99', '-1'), anyText)),
  },
  { name: 'chat delete', method: 'DELETE', template: 'chats/{}', operation: 'deleteChat', segment: segment(chatIds), query: queries() },
  { name: 'rag chat', method: 'POST', template: 'chat', operation: 'chat', query: queries(), body: bodies(chatProtocolBody) },
  { name: 'rag chat stream', method: 'POST', template: 'chat/stream', operation: 'chatStream', query: queries(), body: bodies(chatProtocolBody) },
  { name: 'document ingest', method: 'POST', template: 'documents', operation: 'uploadDocument', query: queries(['name'], fc.oneof(documentNames, anyText)), body: documentBody },
  { name: 'document list', method: 'GET', template: 'documents', operation: 'listDocuments', query: queries() },
  { name: 'document delete', method: 'DELETE', template: 'documents/{}', operation: 'deleteDocument', segment: segment(documentNames), query: queries() },
  { name: 'content', method: 'GET', template: 'content/{*}', operation: 'content', segment: segment(documentNames), query: queries() },
  { name: 'playground', method: 'GET', template: 'playground', operation: 'playground', query: queries() },
  {
    name: 'playground asset',
    method: 'GET',
    template: 'playground/{}',
    operation: 'playgroundAsset',
    segment: segment(fc.oneof(fc.constantFrom('playground.css', 'main.js', 'app.js.map', '..', '.env', 'main.js%00'), anyText)),
    query: queries(),
  },
];

export interface FuzzCase {
  family: string;
  request: RawRequest;
}

/** One generated request for one of `families`: mostly its own method, sometimes any method. */
export function fuzzCases(families: RouteFamily[]): fc.Arbitrary<FuzzCase> {
  return fc.oneof(
    ...families.map((family) =>
      fc
        .record({
          method: fc.oneof({ weight: 9, arbitrary: fc.constant(family.method) }, { weight: 1, arbitrary: fc.constantFrom(...methods) }),
          segments: fc.array(family.segment ?? fc.constant(''), { minLength: 1, maxLength: family.template.includes('{*}') ? 3 : 1 }),
          query: family.query ?? fc.constant(''),
          body: family.body ?? fc.constant(undefined),
          contentType: contentTypes,
          accept: accepts,
          principal: fc.option(fc.oneof(fc.uuid(), anyText.filter((text) => /^[\x21-\x7e]*$/.test(text))), { nil: undefined }),
        })
        .map(({ method, segments, query, body, contentType, accept, principal }): FuzzCase => {
          const path = family.template.replace('{*}', segments.join('/')).replace('{}', segments[0] ?? '');
          const headers: Record<string, string> = {};
          if (contentType != null) headers['content-type'] = contentType;
          if (accept != null) headers.accept = accept;
          if (principal != null) headers['x-ms-client-principal-id'] = principal;
          const hasBody = method !== 'GET' && method !== 'HEAD' && body != null;
          return { family: family.name, request: { method, path: `/api/${path}${query}`, headers, ...(hasBody ? { body } : {}) } };
        }),
    ),
  );
}

/** Paths nobody registered: unknown routes and near misses. */
export const strayRequests: fc.Arbitrary<FuzzCase> = fc
  .record({
    method: fc.constantFrom(...methods),
    path: fc.oneof(
      fc.array(segment(fc.constantFrom('api', 'ask', 'chats', 'admin', 'content', '.env')), { minLength: 0, maxLength: 4 }).map((parts) => `/api/${parts.join('/')}`),
      fc.constantFrom('/', '/api', '/admin', '/api/../api/ask', '/API/ASK', '//api//ask', '/api/%2e%2e/etc/passwd', '/api/chats', '/api/chats/'),
    ),
  })
  .map(({ method, path }) => ({ family: 'stray', request: { method, path, ...(method === 'POST' ? { body: '{}' } : {}) } }));

/**
 * The families that drive the route table: every served operation has at least one, or this throws, naming
 * the operations nobody drives (test/support/route-coverage.ts).
 */
export function drivenFamilies(): RouteFamily[] {
  const problems = coverageProblems(servedRoutes(), routeFamilies.map((family) => family.operation));
  if (problems.length > 0) throw new Error(`The fuzz families do not cover the route table:\n${problems.join('\n')}`);
  return routeFamilies;
}
