// Property-based fuzzing of every route through the local host: hostile input never produces a 5xx (except
// 503 model_not_configured where no model is set), every error is API.md's JSON, and the app stays up.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from './support/app.js';
import { startFakeModel, type FakeModel } from './support/fake-model.js';
import { drivenFamilies, fuzzCases, routeFamilies, strayRequests, type FuzzCase } from './support/fuzz-routes.js';
import { inParallel, rawClient, type RawResponse } from './support/http-raw.js';

const BATCH = 25;
const CONCURRENCY = 8;
const MAX_BODY_BYTES = 65_536;

let model: FakeModel;
let withModel: RunningApp;
let withoutModel: RunningApp;
let fuzzed = 0;
/** family → status → count, printed for the docs. */
const tally = new Map<string, Map<number, number>>();

beforeAll(async () => {
  model = await startFakeModel();
  const limits = { MAX_BODY_BYTES: String(MAX_BODY_BYTES), MODEL_MAX_RETRIES: '0' };
  [withModel, withoutModel] = await Promise.all([
    startApp({ ...limits, OPENAI_BASE_URL: model.url, CHAT_MODEL_DEPLOYMENT_NAME: 'fuzz-model', EMBEDDING_MODEL_DEPLOYMENT_NAME: 'fuzz-embed' }),
    startApp(limits),
  ]);
});
afterAll(async () => {
  const lines = [...tally].map(([family, byStatus]) => `  ${family}: ${[...byStatus].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(' ')}`);
  // Server-side errors, if any, to diagnose a failed property.
  const serverErrors = [withModel, withoutModel].flatMap((app) => app?.output().split('\n').filter((line) => /storage_unavailable|Unhandled|Error/.test(line)) ?? []);
  if (serverErrors.length > 0) console.log(serverErrors.slice(0, 10).join('\n'));
  console.log(`fuzz: ${fuzzed} generated requests\n${lines.join('\n')}`);
  await Promise.all([withModel?.stop(), withoutModel?.stop()]);
  await model?.stop();
});

/** What is wrong with this response to this request, if anything. */
export function problemWith(fuzzCase: FuzzCase, response: RawResponse, allowed5xx: string[]): string | undefined {
  const { status } = response;
  const isHead = fuzzCase.request.method === 'HEAD';
  if (status < 200 || (status >= 300 && status < 400)) return `unexpected status ${status}`;
  if (status >= 200 && status < 300) {
    const type = String(response.headers['content-type'] ?? '');
    if (type.includes('text/event-stream') && response.text.includes('event: error')) return 'error event without an injected fault';
    if (type.includes('ndjson') && response.text.split('\n').some((line) => line.startsWith('{"error"'))) return 'error line without an injected fault';
    return undefined;
  }
  if (isHead) return status >= 500 ? `HEAD answered ${status}` : undefined;
  let code: unknown;
  try {
    const body = JSON.parse(response.text) as { error?: { code?: unknown; message?: unknown } };
    code = body.error?.code;
    if (typeof code !== 'string' || !/^[a-z_]+$/.test(code)) return `error body without a snake_case code: ${response.text.slice(0, 200)}`;
    if (typeof body.error?.message !== 'string' || body.error.message === '') return 'error body without a message';
  } catch {
    return `non-JSON error body: ${response.text.slice(0, 200)}`;
  }
  if (!String(response.headers['content-type'] ?? '').includes('application/json')) return 'error without a JSON content type';
  if (status >= 500 && !allowed5xx.includes(`${status} ${String(code)}`)) return `server error ${status} ${String(code)}`;
  return undefined;
}

async function fuzz(app: RunningApp, runs: number, allowed5xx: string[]): Promise<void> {
  const families = drivenFamilies();
  const client = rawClient(app.baseUrl, CONCURRENCY);
  const anyCase = fc.oneof({ weight: 12, arbitrary: fuzzCases(families) }, { weight: 1, arbitrary: strayRequests });
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(anyCase, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const problems = await inParallel(batch, CONCURRENCY, async (fuzzCase) => {
          fuzzed += 1;
          let response: RawResponse;
          try {
            response = await client.send(fuzzCase.request);
          } catch (error: unknown) {
            // The host closes the connection after a 413 without reading the rest; a client still writing
            // an oversized body may see the reset before the answer. Anything else is a failure.
            const size = fuzzCase.request.body == null ? 0 : Buffer.byteLength(fuzzCase.request.body);
            if (size > MAX_BODY_BYTES) return undefined;
            return `${fuzzCase.family} ${fuzzCase.request.method} ${fuzzCase.request.path}: ${String(error)}`;
          }
          const byStatus = tally.get(fuzzCase.family) ?? new Map<number, number>();
          byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
          tally.set(fuzzCase.family, byStatus);
          const problem = problemWith(fuzzCase, response, allowed5xx);
          return problem == null ? undefined : `${fuzzCase.family} ${fuzzCase.request.method} ${fuzzCase.request.path.slice(0, 200)}: ${problem}`;
        });
        const found = problems.filter((problem) => problem != null);
        if (found.length > 0) throw new Error(found.join('\n'));
      }),
      { numRuns: runs, endOnFailure: true },
    );
  } finally {
    client.close();
  }
}

describe('fuzzing every route', () => {
  it('has a family for every operation of the route table', () => {
    expect(() => drivenFamilies()).not.toThrow();
  });

  it('with a model: no 5xx, JSON errors, app stays up (4,000 requests)', { timeout: 120_000 }, async () => {
    await fuzz(withModel, 160, []);
    expect(withModel.process.exitCode).toBeNull();
    const health = await fetch(`${withModel.baseUrl}/health`);
    expect(health.status).toBe(200);
    expect(withModel.output()).not.toMatch(/Unhandled error/);
    // Every family was really sent, not just declared.
    expect(routeFamilies.filter((family) => !tally.has(family.name)).map((family) => family.name)).toEqual([]);
  });

  it('without a model: only 503 model_not_configured, JSON errors, app stays up (1,000 requests)', { timeout: 60_000 }, async () => {
    await fuzz(withoutModel, 40, ['503 model_not_configured']);
    expect(withoutModel.process.exitCode).toBeNull();
    const health = await fetch(`${withoutModel.baseUrl}/health`);
    expect(health.status).toBe(200);
    expect(withoutModel.output()).not.toMatch(/Unhandled error/);
  });
});
