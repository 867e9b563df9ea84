// `npm run bench`: measures every row of issue 7 in one run and prints one table. Never fails: a row that
// breaks prints its error in the table, a row whose feature is not built yet prints "n/a".
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'vitest';
import { repoRoot } from '../support/app.js';
import { NotBuilt, startBenchEnv, type BenchEnv } from './env.js';
import { closeClient } from './http-client.js';
import type { Row, RowResult } from './row.js';
import { p6Batch, p6Pages, p7 } from './rows-data.js';
import { p1, p1b, p2, p3Ndjson, p3Sse } from './rows-latency.js';
import { p1bAb } from './rows-ab.js';
import { p11 } from './rows-tools.js';
import { p10 } from './rows-cold.js';
import { p8, p9 } from './rows-ingest-limits.js';
import { p4 } from './rows-load.js';
import { p5Load, p5Size } from './rows-package.js';

const allRows: Row[] = [p1, p1b, p2, p3Sse, p3Ndjson, p4, p5Load, p5Size, p6Pages, p6Batch, p7, p8, p9, p10, p11];
// Only with a baseline to compare against (see rows-ab.ts).
if (process.env.BENCH_BASELINE_ROOT != null) allRows.splice(2, 0, p1bAb);
// BENCH_ONLY=P1,P2 runs just those rows (ids or id prefixes), for working on one figure.
const only = (process.env.BENCH_ONLY ?? '').split(',').map((id) => id.trim().toLowerCase()).filter((id) => id !== '');
const rows = only.length === 0 ? allRows : allRows.filter((row) => only.some((id) => row.id.toLowerCase().startsWith(id)));

async function runRow(row: Row, env: BenchEnv | undefined): Promise<RowResult> {
  const started = performance.now();
  const result = (measured: Omit<RowResult, 'id' | 'what' | 'target' | 'seconds'>): RowResult => ({
    id: row.id,
    what: row.what,
    target: row.target,
    seconds: (performance.now() - started) / 1000,
    ...measured,
  });
  try {
    if (env == null) throw new Error('the benchmark environment did not start');
    if (row.needs?.some((route) => !env.routes.has(route))) throw new NotBuilt();
    return result(await row.measure(env));
  } catch (error: unknown) {
    if (error instanceof NotBuilt) return result({ figure: 'n/a (not built yet)', met: null });
    return result({ figure: `error: ${error instanceof Error ? error.message : String(error)}`.replace(/\s+/g, ' ').slice(0, 300), met: false });
  }
}

function table(results: RowResult[]): string {
  const header = ['id', 'figure', 'target', 'met'];
  const lines = results.map((r) => [r.id, r.figure, r.target, r.met == null ? '—' : r.met ? 'yes' : 'NO']);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [format(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(format)].join('\n');
}

test('benchmark', async () => {
  const machine = `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`;
  console.log(`\nbench: ${machine}`);
  let env: BenchEnv | undefined;
  let startError: unknown;
  try {
    env = await startBenchEnv();
  } catch (error: unknown) {
    startError = error;
    console.error('bench: could not start the app:', error);
  }
  const results: RowResult[] = [];
  try {
    for (const row of rows) {
      const result = await runRow(row, env);
      console.log(`bench: ${row.id} done in ${result.seconds.toFixed(1)} s`);
      results.push(result);
    }
  } finally {
    await env?.stop().catch((error: unknown) => console.error('bench: stopping failed:', error));
    closeClient();
  }
  console.log(`\n${table(results)}\n`);
  for (const r of results) console.log(`${r.id}: ${r.what}`);
  const json = { date: new Date().toISOString(), machine, startError: startError == null ? undefined : String(startError), rows: results };
  await writeFile(path.join(repoRoot, 'bench-results.json'), `${JSON.stringify(json, null, 2)}\n`);
  console.log('\nbench: results written to bench-results.json');
});
