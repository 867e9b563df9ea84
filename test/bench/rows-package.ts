// P5: module load time of the built app, and the size of the deployment package.
import { execFile } from 'node:child_process';
import { copyFile, lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../support/app.js';
import type { Row } from './row.js';
import { mb, median, ms } from './stats.js';

const run = promisify(execFile);

// What the Functions host does, minus the host: install the core module, then load the app's entry points.
const loadScript = `
const t0 = performance.now();
const path = require('node:path');
const fs = require('node:fs');
const dist = path.resolve('dist/src');
require(path.join(dist, 'dev/functions-core.js')).installFunctionsCore([]);
require(path.join(dist, 'index.js'));
for (const file of fs.readdirSync(path.join(dist, 'functions')).filter((name) => name.endsWith('.js')).sort()) {
  require(path.join(dist, 'functions', file));
}
console.log(JSON.stringify({ loadMs: performance.now() - t0, sinceStartMs: performance.now() }));
`;

export const p5Load: Row = {
  id: 'P5 load',
  what: 'module load time of the built app (fresh node, index.js + functions/*.js), median of 9 processes',
  target: '≤ 200 ms',
  async measure() {
    const loads: number[] = [];
    const sinceStart: number[] = [];
    for (let i = 0; i < 10; i++) {
      const { stdout } = await run(process.execPath, ['-e', loadScript], { cwd: repoRoot });
      const parsed: unknown = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
      if (typeof parsed !== 'object' || parsed == null || !('loadMs' in parsed) || !('sinceStartMs' in parsed)) {
        throw new Error(`unexpected output: ${stdout}`);
      }
      if (i === 0) continue; // the first process warms the file cache
      loads.push(Number(parsed.loadMs));
      sinceStart.push(Number(parsed.sinceStartMs));
    }
    const p50 = median(loads);
    return {
      figure: `${ms(p50, 1)} (process start → loaded ${ms(median(sinceStart), 1)})`,
      met: p50 <= 200,
      details: { loadMs: loads, sinceStartMs: sinceStart },
    };
  },
};

/** Bytes of the files under `dir`, leaving out nested node_modules (npm ls lists those packages itself). */
async function sizeOf(dir: string, skip: (full: string) => boolean = () => false): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (skip(full)) continue;
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') total += await sizeOf(full, skip);
    } else if (entry.isFile()) {
      total += (await lstat(full)).size;
    }
  }
  return total;
}

/**
 * What `azd deploy` uploads: the clone's files that .funcignore (gitignore syntax, as azd reads it) lets
 * through. git itself applies the patterns, in a scratch repository whose .gitignore is our .funcignore.
 */
async function uploadBytes(): Promise<{ bytes: number; files: number } | undefined> {
  const funcignore = path.join(repoRoot, '.funcignore');
  const tracked = (await run('git', ['ls-files', '-z'], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 })).stdout.split('\0').filter((file) => file !== '');
  const scratch = await mkdtemp(path.join(tmpdir(), 'funcignore-'));
  try {
    await run('git', ['init', '-q'], { cwd: scratch });
    await copyFile(funcignore, path.join(scratch, '.gitignore'));
    const ignored = await new Promise<Set<string>>((resolve, reject) => {
      const child = execFile('git', ['check-ignore', '--no-index', '--stdin', '-z'], { cwd: scratch, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
        // Exit code 1 means "nothing ignored".
        if (error != null && error.code !== 1) reject(error);
        else resolve(new Set(stdout.split('\0').filter((file) => file !== '')));
      });
      child.stdin?.end(tracked.join('\0'));
    });
    const kept = tracked.filter((file) => !ignored.has(file));
    let bytes = 0;
    for (const file of kept) bytes += await lstat(path.join(repoRoot, file)).then((stat) => stat.size, () => 0);
    return { bytes, files: kept.length };
  } catch {
    return undefined;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export const p5Size: Row = {
  id: 'P5 size',
  what: 'deployment size: installed = dist/src without dev/ + host.json, package.json + production node_modules (npm ls --omit=dev); upload = files .funcignore keeps',
  target: '≤ 15 MB',
  async measure() {
    const devDir = path.join(repoRoot, 'dist/src/dev');
    const appBytes =
      (await sizeOf(path.join(repoRoot, 'dist/src'), (full) => full === devDir)) +
      (await lstat(path.join(repoRoot, 'host.json'))).size +
      (await lstat(path.join(repoRoot, 'package.json'))).size;
    // `npm ls --omit=dev` lists every installed production package (nested copies too), as `npm ci --omit=dev`
    // would install them.
    const listed = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 }).catch(
      (error: unknown) => {
        if (typeof error === 'object' && error != null && 'stdout' in error && typeof error.stdout === 'string') return { stdout: error.stdout };
        throw error;
      },
    );
    const packages = [...new Set(listed.stdout.split('\n').map((line) => line.trim()).filter((line) => line !== '' && line !== repoRoot))];
    const sizes = await Promise.all(packages.map(async (dir) => ({ name: path.relative(path.join(repoRoot, 'node_modules'), dir), bytes: await sizeOf(dir) })));
    const depBytes = sizes.reduce((sum, item) => sum + item.bytes, 0);
    const total = appBytes + depBytes;
    const largest = [...sizes].sort((a, b) => b.bytes - a.bytes).slice(0, 5);
    const upload = await uploadBytes();
    const uploaded = upload == null ? '' : `; azd upload (remote build, .funcignore) ${(upload.bytes / 1024).toFixed(0)} KB in ${upload.files} files`;
    return {
      figure: `installed ${mb(total)} (app ${mb(appBytes)}, ${packages.length} packages ${mb(depBytes)}; largest ${largest.map((p) => `${p.name} ${mb(p.bytes)}`).join(', ')})${uploaded}`,
      met: total <= 15 * 1024 * 1024,
      details: { totalBytes: total, appBytes, dependencyBytes: depBytes, packages: packages.length, largest, upload },
    };
  },
};
