import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/app.js';

// `npm test` runs `npm run openapi` first: dist/openapi.json is the document the route table renders.

describe('the OpenAPI document', () => {
  it('lints clean with @redocly/cli 2.77.0 (recommended rules): 0 errors, 0 warnings', () => {
    const cli = path.join(repoRoot, 'node_modules/@redocly/cli/bin/cli.js');
    const run = spawnSync(process.execPath, [cli, 'lint', 'dist/openapi.json', '--format', 'json'], {
      cwd: repoRoot,
      encoding: 'utf8',
      // Lint needs no network: no telemetry, no update check.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      timeout: 120_000,
    });
    const report: unknown = JSON.parse(run.stdout);
    expect(report).toMatchObject({ version: '2.77.0', totals: { errors: 0, warnings: 0 } });
    console.log(`redocly lint: ${JSON.stringify(report instanceof Object && 'totals' in report ? report.totals : report)}`);
  });

  it('docs/api.md is the reference rendered from the route table', () => {
    const run = spawnSync(process.execPath, ['dist/scripts/openapi.js', '--check'], { cwd: repoRoot, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
